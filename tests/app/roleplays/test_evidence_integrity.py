"""Issue 19, role-play items: audio without speech scores 0 (4), refused uploads leave nothing and
ungraded recordings are capped (10), typed-only languages refuse recordings and a trainer's regrade
frees a stuck call (14), start-up recovers half-graded replies (15), rings are counted by the
server (19)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import update

from app.core.clock import utcnow
from app.config import PROJECT_ROOT
from app.extensions import db
from app.roleplays import grader, operations
from app.roleplays.models import Attempt, Turn
from tests.support.web import csrf_token, login_as

from tests.support.roleplays import HELLO, KO_SLUG, ZH_SLUG, Drill, pcm_wav

RATE = 16000


def _wav(samples: np.ndarray) -> bytes:
    return pcm_wav((np.clip(samples, -1, 32767 / 32768) * 32768).astype("<i2").tobytes())


def _tone(seconds: float = 2.0, hz: float = 440.0) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    return _wav(0.5 * np.sin(2 * np.pi * hz * t))


def _white_noise(seconds: float = 2.0) -> bytes:
    return _wav(0.3 * np.random.default_rng(19).standard_normal(int(RATE * seconds)))


def _files(app) -> set[Path]:
    return {f for f in Path(app.config["RECORDINGS_DIR"]).rglob("*") if f.is_file()}


# --- item 4: no speech, no points --------------------------------------------------------------

def test_tone_and_noise_score_zero_and_say_so_while_speech_still_passes(app, client, ko_content, make_user,
                                                                        korean_speech):
    drill = Drill(client, make_user("kim", "learner"))
    for sound, reason in ((_tone(), "tone"), (_white_noise(), "noise")):
        attempt_id = drill.start(KO_SLUG, "voice")
        drill.answer(attempt_id)
        response = drill.upload(attempt_id, sound)
        assert response.status_code == 200, response.get_data(as_text=True)
        turn = response.json["turn"]
        # Before: the grammar recogniser heard the tone as the expected phrases (60 %), noise 46.7 %.
        assert turn["no_speech"] == reason and turn["transcript"] == "" and turn["score_fraction"] == 0
        assert turn["passed"] is False and not any(j["held"] for j in turn["judgements"])
        with app.app_context():
            stored = db.session.get(Turn, turn["id"])
            assert stored.earned == 0 and stored.metrics["no_speech"] == reason
            assert "No speech was heard" in stored.tips["en"][0] and "scores 0" in stored.tips["en"][0]
            # Says so first, in the reader's language (zh-CN here; the catalog holds its translation).
            assert turn["tips"][0] == stored.tips["zh-CN"][0] and "0" in turn["tips"][0]
    # Silence is refused outright, with the reason, and uses no turn.
    attempt_id = drill.start(KO_SLUG, "voice")
    drill.answer(attempt_id)
    silent = drill.upload(attempt_id, pcm_wav(b"\x00\x00" * RATE * 2))
    assert silent.status_code == 400 and silent.json["error"] == "silence" and silent.json["message"]
    # Real (synthesized) speech is still heard and graded in full.
    speech_reply = drill.upload(attempt_id, korean_speech(HELLO))
    assert speech_reply.status_code == 200 and speech_reply.json["turn"]["score_fraction"] == 1.0
    assert speech_reply.json["turn"]["no_speech"] is None


# --- item 10: refused uploads are deleted; ungraded recordings are capped ------------------------

def test_refused_uploads_leave_no_file(app, client, ko_content, make_user):
    drill = Drill(client, make_user("kim", "learner"))
    attempt_id = drill.start(KO_SLUG, "voice")
    drill.answer(attempt_id)
    before = _files(app)
    for upload in (b"not a wav at all", pcm_wav(b"\x00\x00" * RATE),
                   pcm_wav(b"\x10\x00" * RATE * (int(app.config["MAX_AUDIO_SECONDS"]) + 1)), b"RIFF\x00"):
        assert drill.upload(attempt_id, upload).status_code == 400
    assert _files(app) == before


def test_pending_recordings_are_capped_per_learner(app, client, ko_content, make_user, korean_speech, monkeypatch):
    from speech.errors import SpeechError
    drill = Drill(client, make_user("kim", "learner"))
    hello = korean_speech(HELLO)
    before = _files(app)

    def broken(*args, **kwargs):
        raise SpeechError("recogniser down")
    monkeypatch.setattr(grader.speech, "recognize", broken)
    first = drill.start(KO_SLUG, "voice")
    drill.answer(first)
    assert drill.upload(first, hello).status_code == 202  # saved, waiting for grading
    monkeypatch.setitem(app.config, "RECORDINGS_PENDING_MAX_MB", 1.5 * len(hello) / 1024 / 1024)
    second = drill.start(KO_SLUG, "voice")
    drill.answer(second)
    refused = drill.upload(second, hello)
    assert refused.status_code == 429 and refused.json["error"] == "pending_full"
    assert "MB" in refused.json["message"]
    assert len(_files(app) - before) == 1 and drill.state(second).json["turns"] == []
    # Once the waiting reply is graded, the allowance is free again.
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "RECORDINGS_PENDING_MAX_MB", 1.5 * len(hello) / 1024 / 1024)
    with app.app_context():
        grader.regrade_attempt(first)
    assert drill.upload(second, hello).status_code == 200


# --- item 14: typed-only languages ------------------------------------------------------------

def test_recording_to_a_typed_only_call_is_refused_before_anything_is_stored(app, client, content, make_user,
                                                                             korean_speech):
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = drill.start(ZH_SLUG, "voice")  # no zh-CN model here: the call is typed
    drill.answer(attempt_id)
    before = _files(app)
    response = drill.upload(attempt_id, korean_speech(HELLO))
    assert response.status_code == 409 and response.json["error"] == "voice_unavailable"
    assert response.json["message"]
    state = drill.state(attempt_id).json
    assert state["status"] == "in_call" and state["turns"] == [] and _files(app) == before
    assert drill.say(attempt_id, "您好，我理解您的心情。").status_code == 200  # typing still works


def test_trainer_regrade_frees_a_call_stuck_on_an_unrecognisable_recording(app, client, content, make_user,
                                                                           korean_speech):
    learner = make_user("li", "learner")
    drill = Drill(client, learner)
    attempt_id = drill.start(ZH_SLUG, "voice")
    drill.answer(attempt_id)
    # What the old code left behind: a voice reply to a typed-only call, pending for ever.
    recording = Path(app.config["RECORDINGS_DIR"]) / f"u{learner.id}" / f"a{attempt_id}" / "stuck.wav"
    recording.parent.mkdir(parents=True, exist_ok=True)
    recording.write_bytes(korean_speech(HELLO))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        turn = operations.add_turn(attempt, "voice", recording_path=recording.relative_to(
            app.config["RECORDINGS_DIR"]).as_posix())
        db.session.execute(update(Turn).where(Turn.id == turn.id).values(status="pending",
                                                                          error="ModelNotInstalled: zh-CN"))
        db.session.commit()
    assert drill.state(attempt_id).json["status"] == "pending"

    trainer_client = app.test_client()
    login_as(trainer_client, make_user("tina", "trainer"))
    token = csrf_token(trainer_client, f"/reviews/attempts/{attempt_id}")
    response = trainer_client.post(f"/reviews/attempts/{attempt_id}/regrade", data={"csrf_token": token})
    assert response.status_code == 302
    state = drill.state(attempt_id).json
    assert state["status"] == "in_call" and state["turns"] == [] and not recording.exists()
    assert drill.say(attempt_id, "您好，我理解您的心情。").status_code == 200


# --- item 15: start-up recovers replies a crash left half-graded --------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_start_up_grades_replies_a_crash_left_received_or_grading(app, client, content, make_user, tmp_path):
    # The served process is given the test app's own database (the SQLite file, or PostgreSQL).
    drill = Drill(client, make_user("li", "learner"))
    turns = []
    for status in ("received", "grading"):
        attempt_id = drill.start(ZH_SLUG, "typed")
        drill.answer(attempt_id)
        with app.app_context():
            attempt = db.session.get(Attempt, attempt_id)
            turn = operations.add_turn(attempt, "typed", transcript="您好，我理解您的心情。请问您的宽带账号是多少？")
            if status == "grading":  # a claim taken a moment ago by the process that crashed
                db.session.execute(update(Turn).where(Turn.id == turn.id).values(
                    status="grading", claimed_at=utcnow(), grading_started_at=utcnow(), claims=1,
                    claim_token="dead"))
                db.session.commit()
            turns.append((turn.id, attempt_id))
    port = _free_port()
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "ACADEMY_DATA_DIR": str(tmp_path), "RECORDINGS_DIR": app.config["RECORDINGS_DIR"],
           "AUDIO_CACHE_DIR": app.config["AUDIO_CACHE_DIR"], "VOSK_MODEL_DIR": app.config["VOSK_MODEL_DIR"],
           "SECRET_KEY": "x" * 32}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "flask", "serve", "--port", str(port), "--preload", "none"],
                              cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with app.app_context():
                db.session.expire_all()
                statuses = [db.session.get(Turn, turn_id).status for turn_id, _ in turns]
            if statuses == ["graded", "graded"]:
                break
            assert server.poll() is None, server.stdout.read().decode()
            time.sleep(0.3)
        assert statuses == ["graded", "graded"]
        with app.app_context():
            for turn_id, attempt_id in turns:
                turn = db.session.get(Turn, turn_id)
                assert turn.graded_count == 1 and turn.score_fraction and turn.score_fraction > 0
                assert db.session.get(Attempt, attempt_id).status == "in_call"  # the call moved on
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "start-up: replies interrupted by a restart" in output, output


# --- item 19: rings counted by the server ------------------------------------------------------

def test_rings_are_measured_by_the_server_not_claimed_by_the_browser(app, client, content, make_user):
    drill = Drill(client, make_user("li", "learner"))
    late = drill.start(ZH_SLUG, "typed")
    with app.app_context():  # the phone rang for 10 s before it was picked up
        db.session.execute(update(Attempt).where(Attempt.id == late)
                           .values(started_at=utcnow() - timedelta(seconds=10)))
        db.session.commit()
    assert drill.state(late).json["ring"] == 4 and drill.state(late).json["ring_period_ms"] == 3000
    assert drill.answer(late, rings=1).status_code == 200  # the browser claims ring 1
    prompt = drill.start(ZH_SLUG, "typed")
    assert drill.answer(prompt, rings=9).status_code == 200  # ... or ring 9 when it was ring 1
    with app.app_context():
        late_attempt, prompt_attempt = db.session.get(Attempt, late), db.session.get(Attempt, prompt)
        assert late_attempt.rings == 4 and late_attempt.call_items[0]["matched"] is False
        assert late_attempt.call_items[0]["points_awarded"] == 0
        assert prompt_attempt.rings == 1 and prompt_attempt.call_items[0]["matched"] is True


def test_a_call_answered_faster_than_a_person_can_is_flagged_for_hr(app, client, content, make_user, monkeypatch):
    from app.certification.models import EvidenceFlag
    from app.extensions import db as _db
    from tests.support.roleplays import ZH_SLUG, Drill as _Drill, bad_reply as _bad, scenario_doc as _doc
    monkeypatch.setitem(app.config, "CALL_MIN_SECONDS_PER_REPLY", 60)
    user = make_user("fast", "learner")
    drill = _Drill(client, user)
    doc = _doc(app, ZH_SLUG)
    attempt_id = drill.start(ZH_SLUG, "typed")
    drill.answer(attempt_id)
    drill.say(attempt_id, _bad(doc, "opening"))
    drill.say(attempt_id, _bad(doc, "angry-refund"))
    with app.app_context():
        flags = _db.session.scalars(_db.select(EvidenceFlag).where(EvidenceFlag.user_id == user.id)).all()
        assert [(f.kind, f.subject, f.ref_id) for f in flags] == [("call", ZH_SLUG, attempt_id)]
        assert flags[0].minimum_seconds == 120 and flags[0].seconds < 120
    monkeypatch.setitem(app.config, "CALL_MIN_SECONDS_PER_REPLY", 0)   # off: nothing reported
    again = drill.start(ZH_SLUG, "typed")
    drill.answer(again)
    drill.say(again, _bad(doc, "opening"))
    drill.say(again, _bad(doc, "angry-refund"))
    with app.app_context():
        assert _db.session.scalar(_db.select(_db.func.count()).select_from(EvidenceFlag)) == 1
