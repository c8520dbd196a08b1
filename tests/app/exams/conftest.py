"""The exam tests' content: the shipped tree plus two test exams, synced by the exams syncer alone
(helpers: tests/support/exams.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.content.services import SyncReport, asset_url
from content_schema import load_content
from tests.support.exams import make_content_root, sync_bundle


@pytest.fixture(scope="session")
def exam_content_root(tmp_path_factory) -> Path:
    return make_content_root(tmp_path_factory.mktemp("exam-content"))


@pytest.fixture(scope="session")
def exam_bundle(exam_content_root):
    return load_content(exam_content_root, asset_url_prefix=asset_url)


@pytest.fixture
def exams(app, exam_bundle, sync_snapshots) -> SyncReport:
    return sync_snapshots.synced("exams+test-exams", lambda: sync_bundle(app, exam_bundle))


@pytest.fixture
def graded_signals():
    """Every exam_attempt_graded signal sent during the test, as (sender, kwargs)."""
    from app.core.events import exam_attempt_graded
    received = []

    def receiver(sender, **kwargs):
        received.append((sender, kwargs))

    exam_attempt_graded.connect(receiver)
    yield received
    exam_attempt_graded.disconnect(receiver)
