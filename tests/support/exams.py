"""Exams for the tests: the shipped content plus two test exams (every question type; draw rules),
synced by the exams syncer alone so the exam tests do not depend on other domains' syncers, and
an attempt driven over HTTP as the exam page's script does it."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from app.content.services import SyncReport
from app.exams.services import sync_exams
from app.extensions import db
from tests.support.web import csrf_token

REPO = Path(__file__).resolve().parents[2]
EXAM_FILES = REPO / "tests" / "app" / "exams"  # the two test exams live beside their tests
TEST_EXAMS = {"all_types.yaml": "test-all-types.yaml", "draw_rules.yaml": "test-draw-rules.yaml"}


def make_content_root(target: Path) -> Path:
    for folder in ("courses", "exams", "roleplays"):
        shutil.copytree(REPO / folder, target / folder)
    for source, name in TEST_EXAMS.items():
        shutil.copy(EXAM_FILES / source, target / "exams" / name)
    return target


def sync_bundle(app, bundle) -> SyncReport:
    with app.app_context():
        report = SyncReport()
        sync_exams(bundle, report)
        db.session.commit()
        return report


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
