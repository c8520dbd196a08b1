"""Loading exams from content: idempotent by slug, question versions, retiring, audio."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from app.content.services import SyncReport, asset_url
from app.exams import services
from app.exams.models import Exam, ExamQuestion
from app.extensions import db
from content_schema import ContentValidationError, load_content
from speech import SynthesisError
from tests.support.web import login_as

from tests.support.exams import start_over_http, sync_bundle


def question(app, slug: str, question_id: str) -> ExamQuestion:
    with app.app_context():
        row = db.session.scalar(db.select(ExamQuestion).join(Exam).where(
            Exam.slug == slug, ExamQuestion.question_id == question_id))
        db.session.expunge(row)
        return row


def edited_root(source: Path, target: Path, edit) -> Path:
    shutil.copytree(source, target)
    path = target / "exams" / "test-all-types.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def test_sync_loads_every_exam_and_is_idempotent(app, exams, exam_bundle):
    with app.app_context():
        loaded = {exam.slug: exam for exam in db.session.scalars(db.select(Exam))}
        assert set(loaded) == set(exam_bundle.exams)
        assert len(loaded["quiz-call-handling"].questions) == 12
        assert loaded["cert-agent"].kind == "certification" and loaded["cert-agent"].pass_mark == 75
        rewrite = next(q for q in loaded["test-all-types"].questions if q.question_id == "rewrite-1")
        assert [item["id"] for item in rewrite.data["rubric"]] == ["ask-politely", "polite-you", "habitual"]
        checksums = {(q.exam_id, q.question_id): (q.checksum, q.version)
                     for q in db.session.scalars(db.select(ExamQuestion))}
    report = sync_bundle(app, exam_bundle)
    assert report.lines == ["exams: 0 exams new, 0 exams changed, 0 exams retired, "
                            "0 questions new, 0 questions changed, 0 questions retired"]
    with app.app_context():
        assert {(q.exam_id, q.question_id): (q.checksum, q.version)
                for q in db.session.scalars(db.select(ExamQuestion))} == checksums


def test_listen_questions_get_synthesized_audio_served_by_media(app, client, exams, make_user):
    listen = question(app, "cert-agent", "roles-listen-1")
    audio = Path(app.config["AUDIO_CACHE_DIR"]) / listen.data["audio"]
    assert audio.is_file() and audio.stat().st_size > 1000
    login_as(client, make_user("listener"))
    response = client.get(f"/media/audio/{listen.data['audio']}")
    assert response.status_code == 200 and response.mimetype == "audio/wav"


def test_changed_question_gets_a_new_version_and_old_attempts_keep_theirs(
        app, exams, exam_content_root, tmp_path, make_user):
    learner = make_user("before")
    with app.app_context():
        attempt = services.start_attempt(learner.id, "test-all-types")
        attempt_id = attempt.id

    def edit(data):
        single = next(q for q in data["questions"] if q["id"] == "single-1")
        single["prompt"]["zh-CN"] = "改过的题目"
        for option in single["options"]:
            option["correct"] = option["id"] == "b"
        data["questions"] = [q for q in data["questions"] if q["id"] != "tf-1"]

    root = edited_root(exam_content_root, tmp_path / "content", edit)
    (root / "exams" / "test-draw-rules.yaml").unlink()
    report = sync_bundle(app, load_content(root, asset_url_prefix=asset_url))
    assert "1 exams retired" in report.lines[0] and "1 questions changed, 1 questions retired" in report.lines[0]

    changed = question(app, "test-all-types", "single-1")
    assert changed.version == 2 and changed.data["prompt"]["zh-CN"] == "改过的题目"
    assert question(app, "test-all-types", "tf-1").retired
    with app.app_context():
        assert db.session.scalar(db.select(Exam).where(Exam.slug == "test-draw-rules")).retired
        with pytest.raises(services.ExamNotFound):
            services.start_attempt(learner.id, "test-draw-rules")
        # The attempt started before the change keeps its question text and answer key.
        attempt = services.get_attempt(attempt_id, learner.id)
        entry = services.paper_entry(attempt, "single-1")
        assert entry["version"] == 1 and entry["prompt"]["zh-CN"] == "哪一项是业务类呼叫？"
        services.save_answers(attempt, {"single-1": "a", "tf-1": False})
        services.submit_attempt(attempt)
        assert attempt.answer_for("single-1").fraction == 1.0 and attempt.answer_for("tf-1").fraction == 1.0
        # A new attempt gets the new version, without the retired question.
        fresh = services.start_attempt(make_user("after").id, "test-all-types")
        assert services.paper_entry(fresh, "single-1")["version"] == 2
        assert "tf-1" not in [entry["id"] for entry in fresh.paper]

    # Putting the question back un-retires it without a new version.
    sync_bundle(app, load_content(exam_content_root, asset_url_prefix=asset_url))
    restored = question(app, "test-all-types", "tf-1")
    assert not restored.retired and restored.version == 1
    assert question(app, "test-all-types", "single-1").version == 3


def test_synthesis_failure_fails_the_sync_naming_exam_and_question(app, exam_bundle, monkeypatch):
    def broken(*args, **kwargs):
        raise SynthesisError("espeak-ng failed: no voice")

    monkeypatch.setattr(services, "synthesize", broken)
    with app.app_context():
        with pytest.raises(ContentValidationError) as caught:
            services.sync_exams(exam_bundle, SyncReport())
        db.session.rollback()
        message = str(caught.value.errors[0])
        assert message.startswith("exams/cert-agent.yaml")
        assert '"cert-agent"' in message and '"roles-listen-1"' in message and "no voice" in message


def test_removed_exam_keeps_its_attempts_readable(app, client, exams, exam_content_root, tmp_path, make_user):
    learner = make_user("history")
    login_as(client, learner)
    attempt_id = start_over_http(client, "test-draw-rules")
    root = tmp_path / "content"
    shutil.copytree(exam_content_root, root)
    (root / "exams" / "test-draw-rules.yaml").unlink()
    sync_bundle(app, load_content(root, asset_url_prefix=asset_url))
    assert client.get(f"/exams/attempts/{attempt_id}").status_code == 200  # still finishable
    assert client.get("/exams/test-draw-rules").status_code == 404
    assert 'data-exam="test-draw-rules"' not in client.get("/exams").get_data(as_text=True)
