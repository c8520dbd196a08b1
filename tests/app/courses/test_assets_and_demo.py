"""Course assets served from courses/<slug>/assets/, and the demo learner's progress."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from app.accounts.services import find_user
from app.courses import services
from app.courses.models import LessonProgress
from app.demo.services import load_demo
from app.extensions import db
from tests.support.web import login_as

from tests.support.courses import sync_from

# A 1×1 transparent PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
ASSET_URL = "/courses/call-centre-basics/assets/diagram.png"


@pytest.fixture
def content_with_asset(app, content_copy, monkeypatch):
    course = content_copy / "courses/call-centre-basics"
    (course / "assets").mkdir()
    (course / "assets/diagram.png").write_bytes(PNG)
    lesson = course / "lessons/01-what-is-a-call-centre.zh-CN.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n\n![示意图](assets/diagram.png)\n", encoding="utf-8")
    sync_from(app, content_copy)
    monkeypatch.setitem(app.config, "CONTENT_ROOT", str(content_copy))
    return content_copy


def test_a_lesson_image_is_served_to_logged_in_users(app, client, content_with_asset, make_user):
    login_as(client, make_user("zhang", "learner"))
    page = client.get("/courses/call-centre-basics/lessons/01-what-is-a-call-centre").get_data(as_text=True)
    assert f'<img src="{ASSET_URL}" alt="示意图"' in page
    response = client.get(ASSET_URL)
    assert response.status_code == 200 and response.data == PNG and response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    trainer = app.test_client()
    login_as(trainer, make_user("wang", "trainer"))
    assert trainer.get(ASSET_URL).status_code == 200
    anonymous = app.test_client().get(ASSET_URL)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_only_validated_asset_files_inside_the_folder_are_served(app, client, content_with_asset, make_user):
    login_as(client, make_user("zhang", "learner"))
    assets = content_with_asset / "courses/call-centre-basics/assets"
    # Put on disk after the sync: never validated, so never served.
    (assets / "late.png").write_bytes(PNG)
    (assets / "evil.svg").write_text("<svg onload='alert(1)'/>")
    for url in ("/courses/call-centre-basics/assets/late.png",
                "/courses/call-centre-basics/assets/evil.svg",
                "/courses/call-centre-basics/assets/../course.yaml",
                "/courses/call-centre-basics/assets/..%2Fcourse.yaml",
                "/courses/call-centre-basics/assets/%2E%2E/lessons/01-what-is-a-call-centre.zh-CN.md",
                "/courses/call-handling/assets/diagram.png",
                "/courses/no-such-course/assets/diagram.png"):
        assert client.get(url).status_code == 404, url
    (assets / "diagram.png").unlink()  # listed at sync time but gone from disk
    assert client.get(ASSET_URL).status_code == 404


def test_demo_learner_gets_half_of_the_first_course_idempotently(app, content):
    with app.app_context():
        first = load_demo()
        trainee = find_user("trainee")
        assert "trainee: 2 of 4 lessons done in call-centre-basics" in first
        assert services.course_progress(trainee.id, "call-centre-basics") == (2, 4)
        rows = db.session.scalar(select(func.count()).select_from(LessonProgress))
        board = services.dashboard(trainee.id, "zh-CN")
        assert board.resume.lesson.slug == "03-faq-and-escalation"
        newhire = find_user("newhire")
        assert services.course_progress(newhire.id, "call-centre-basics") == (0, 4)

        load_demo()
        assert services.course_progress(trainee.id, "call-centre-basics") == (2, 4)
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == rows
