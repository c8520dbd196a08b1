"""Exam fixtures: the shipped content plus two test exams (every question type; draw rules),
synced by the exams syncer alone so these tests do not depend on other domains' syncers."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app.content.services import SyncReport, asset_url
from app.exams.services import sync_exams
from app.extensions import db
from content_schema import load_content
from tests.conftest import csrf_token

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
TEST_EXAMS = {"all_types.yaml": "test-all-types.yaml", "draw_rules.yaml": "test-draw-rules.yaml"}


def make_content_root(target: Path) -> Path:
    for folder in ("courses", "exams", "roleplays"):
        shutil.copytree(REPO / folder, target / folder)
    for source, name in TEST_EXAMS.items():
        shutil.copy(HERE / source, target / "exams" / name)
    return target


@pytest.fixture(scope="session")
def exam_content_root(tmp_path_factory) -> Path:
    return make_content_root(tmp_path_factory.mktemp("exam-content"))


@pytest.fixture(scope="session")
def exam_bundle(exam_content_root):
    return load_content(exam_content_root, asset_url_prefix=asset_url)


def sync_bundle(app, bundle) -> SyncReport:
    with app.app_context():
        report = SyncReport()
        sync_exams(bundle, report)
        db.session.commit()
        return report


@pytest.fixture
def exams(app, exam_bundle) -> SyncReport:
    return sync_bundle(app, exam_bundle)


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


ATTEMPT_URL = re.compile(r"/exams/attempts/(\d+)$")


def start_over_http(client, slug: str) -> int:
    token = csrf_token(client, f"/exams/{slug}")
    response = client.post(f"/exams/{slug}", data={"csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    match = ATTEMPT_URL.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def autosave(client, attempt_id: int, question_id: str, value, token: str):
    return client.put(f"/exams/attempts/{attempt_id}/answers/{question_id}", json={"response": value},
                      headers={"X-CSRFToken": token})


def audio_sent(app, attempt_id: int, question_id: str = "listen-1", seconds_ago: float = 3600) -> None:
    """Pretend the server sent this attempt the question's recording `seconds_ago` (it starts the
    typing clock), so a test can save a listen-and-type answer at a human pace."""
    from datetime import timedelta

    from app.core.clock import utcnow
    from app.exams.models import ExamAttempt
    with app.app_context():
        answer = db.session.get(ExamAttempt, attempt_id).answer_for(question_id)
        answer.audio_served_at = utcnow() - timedelta(seconds=seconds_ago)
        db.session.commit()
