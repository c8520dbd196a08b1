"""Voice replies through the real engines: espeak-ng Korean speech, uploaded as the browser does,
recognised by the real Vosk Korean model (loaded once per test session), graded and reported."""
from __future__ import annotations

import re
import time
from pathlib import Path

from app.extensions import db
from app.core import progress
from app.roleplays import grader, presenters
from app.roleplays.models import Attempt, Turn
from app.speechops import services as speech
from tests.support.web import login_as

from tests.support.roleplays import HELLO, KO_SLUG, SORRY, THANKS, Drill, pcm_wav



def _items(body) -> dict:
    return {item["item_id"]: item for item in body["turn"]["items"]}


def test_spoken_korean_call_is_recognised_graded_and_reported(app, client, ko_content, make_user, korean_speech):
    user = make_user("kim", "learner")
    drill = Drill(client, user)
    attempt_id = drill.start(KO_SLUG, "voice")
    state = drill.state(attempt_id).json
    assert state["mode"] == "voice" and state["language"] == "ko-KR" and state["show_caption"] is True
    assert state["node"] == {"id": "opening", "line": "여보세요? 한참 기다렸어요.",
                             "audio_url": state["node"]["audio_url"]}
    drill.answer(attempt_id, rings=1)

    ended_ms = int(time.time() * 1000)
    response = drill.upload(attempt_id, korean_speech(HELLO), speech_ended_ms=ended_ms)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    transcript = body["turn"]["transcript"]
    assert "안녕하세요" in transcript and "기다려 주셔서 감사합니다" in transcript
    items = _items(body)
    assert items["hello"]["points_awarded"] == 2 and items["hello"]["evidence"] == ["안녕하세요"]
    assert items["thanks-waiting"]["points_awarded"] == 2 and items["thanks-waiting"]["matched"]
    assert body["turn"]["score_fraction"] == 1.0 and body["outcome"] == "deescalate"
    delivery = body["turn"]["delivery"]
    assert len(delivery) == 5 and all(item["rule"].startswith("delivery:") and item["evidence"] for item in delivery)
    assert body["state"]["node"]["id"] == "order" and body["state"]["status"] == "in_call"

    body = drill.upload(attempt_id, korean_speech(SORRY)).json
    assert _items(body)["will-check"]["matched"] and _items(body)["sorry"]["matched"]
    # The second reply is judged against the trainee's own first one, said in the UI language (zh-CN).
    rate = next(item for item in body["turn"]["delivery"] if item["rule"] == "delivery:speech_rate")
    # Measured from the recognised words with their timings, in characters per minute (Hangul syllables).
    assert "第一轮" in rate["evidence"][0] and "字/分钟" in rate["evidence"][0]
    body = drill.upload(attempt_id, korean_speech(THANKS)).json
    assert body["state"]["ended"] and body["state"]["ending"] == "resolved"

    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.mode == "voice" and attempt.status == "ended" and attempt.passed is True
        turns = attempt.turns
        assert turns[0].speech_ended_ms == ended_ms and turns[0].metrics["duration_s"] > 2
        first_rate = turns[0].metrics["speaking_rate"]
        for turn in turns:  # the rate from what was said; the energy estimate is kept beside it
            assert turn.metrics["speaking_rate_basis"] == "transcript"
            assert turn.metrics["speaking_rate_unit"] == "chars/min" and turn.metrics["speaking_rate_sps"] > 0
            assert 150 < turn.metrics["speaking_rate"] < 600  # espeak-ng Korean at its default 175 wpm
        for turn in turns:
            assert (Path(app.config["RECORDINGS_DIR"]) / turn.recording_path).is_file()
        evidence = progress.drill_progress([user.id])[user.id].passes  # what certification reads
        assert [e.attempt_id for e in evidence] == [attempt_id] and evidence[0].mode == "voice"
        recording_url = f"/roleplays/turns/{turns[0].id}/recording"
        # Measured evidence is stored in both UI languages and shown in the reader's.
        with app.test_request_context():
            for ui, words in (("en", "answered at ring 1"), ("zh-CN", "第 1 声铃响时接起")):
                call_items = presenters.attempt_report(attempt_id, ui)["call_items"]
                rings = next(item for item in call_items if item["rule"] == "call:answer_within_rings")
                assert rings["evidence"] == [words + " (limit 3)" if ui == "en" else words + "（上限 3 声）"]
        # The model was loaded once for the whole test session, in the app's one registry.
        assert speech.registry(app).load_count("ko-KR") == 1

    page = client.get(f"/roleplays/attempts/{attempt_id}/report").get_data(as_text=True)
    assert f'<audio controls preload="none" src="{recording_url}">' in page
    # Rules are named in words (the loudness rule is 音量), never by their internal names.
    assert "안녕하세요" in page and "音量" in page and "delivery:loudness" not in page
    shown = re.search(r'<span class="rp-rate">([^<]*)</span>', page)[1]  # 语速 N 字/分钟 (in the reader's language)
    assert str(round(first_rate)) in shown
    full = client.get(recording_url)
    assert full.status_code == 200 and full.mimetype == "audio/wav" and full.data == korean_speech(HELLO)
    part = client.get(recording_url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == full.data[:100]

    trainer = app.test_client()
    login_as(trainer, make_user("coach", "trainer"))
    assert trainer.get(recording_url).status_code == 200
    other = app.test_client()
    login_as(other, make_user("lee", "learner"))
    assert other.get(recording_url).status_code == 404


def test_words_meant_for_another_node_are_heard_as_themselves(app, client, ko_content, make_user, korean_speech):
    # Korean is recognised with a grammar, which forces all speech onto its phrases. Built from the
    # "order" node's phrases alone, the opening's greeting said there was heard as "죄송합니다 죄송합니다"
    # (8 of 8 runs) and earned the apology that was never made.
    drill = Drill(client, make_user("kim", "learner"))
    attempt_id = drill.start(KO_SLUG, "voice")
    drill.answer(attempt_id)
    assert drill.upload(attempt_id, korean_speech(HELLO)).json["state"]["node"]["id"] == "order"
    body = drill.upload(attempt_id, korean_speech(HELLO)).json
    assert "안녕하세요" in body["turn"]["transcript"], body["turn"]["transcript"]
    items = _items(body)
    assert not items["sorry"]["matched"] and not items["will-check"]["matched"]
    assert body["turn"]["passed"] is False and body["turn"]["score_fraction"] <= 0.5


def test_failed_recognition_keeps_the_reply_pending_until_regraded(app, client, ko_content, make_user,
                                                                   korean_speech, tmp_path, monkeypatch):
    drill = Drill(client, make_user("kim", "learner"))
    attempt_id = drill.start(KO_SLUG, "voice")
    drill.answer(attempt_id)
    from speech.errors import ModelNotInstalled

    def model_gone(language, *args, **kwargs):
        raise ModelNotInstalled(language)  # the model could not be loaded for a moment
    monkeypatch.setattr(grader.speech, "recognize", model_gone)
    response = drill.upload(attempt_id, korean_speech(HELLO))
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.json["status"] == "pending" and response.json["message"]
    turn_id = response.json["turn_id"]
    state = drill.state(attempt_id).json
    assert state["status"] == "pending" and state["turns"][0]["status"] == "pending"
    assert drill.upload(attempt_id, korean_speech(HELLO)).status_code == 409  # one reply at a time
    with app.app_context():
        turn = db.session.get(Turn, turn_id)
        assert "ModelNotInstalled" in turn.error
        assert (Path(app.config["RECORDINGS_DIR"]) / turn.recording_path).read_bytes() == korean_speech(HELLO)
    page = client.get(f"/roleplays/attempts/{attempt_id}/report").get_data(as_text=True)
    assert 'id="rp-pending"' in page

    monkeypatch.undo()  # restored
    result = app.test_cli_runner().invoke(args=["roleplay", "regrade", str(attempt_id)])
    assert result.exit_code == 0, result.output
    state = drill.state(attempt_id).json
    assert state["status"] == "in_call" and state["node"]["id"] == "order"
    assert state["turns"][0]["status"] == "graded" and "감사합니다" in state["turns"][0]["transcript"]
    with app.app_context():
        assert db.session.get(Turn, turn_id).error is None
        assert grader.regrade_attempt(attempt_id).node_id == "order"  # nothing left to do


def test_bad_audio_is_refused_with_its_code_and_uses_no_turn(app, client, ko_content, make_user, korean_speech):
    user = make_user("kim", "learner")
    drill = Drill(client, user)
    attempt_id = drill.start(KO_SLUG, "voice")
    drill.answer(attempt_id)
    before = {f for f in Path(app.config["RECORDINGS_DIR"]).rglob("*") if f.is_file()}
    too_long = pcm_wav(b"\x10\x00" * 16000 * (int(app.config["MAX_AUDIO_SECONDS"]) + 1))
    for upload, code in [(b"this is not a recording", "not_audio"),
                         (pcm_wav(b"\x00\x00" * 16000), "silence"),
                         (too_long, "too_long")]:
        response = drill.upload(attempt_id, upload)
        assert response.status_code == 400, (code, response.get_data(as_text=True))
        assert response.json["error"] == code and response.json["message"]
    assert drill.state(attempt_id).json["turns"] == []
    # A refused upload leaves nothing on disk (issue 19 item 10: one learner filled 150 MB in 1 s).
    assert {f for f in Path(app.config["RECORDINGS_DIR"]).rglob("*") if f.is_file()} == before
    # The trainee simply tries again.
    response = drill.upload(attempt_id, korean_speech(HELLO))
    assert response.status_code == 200 and response.json["turn"]["score_fraction"] == 1.0
    missing = client.post(f"/api/roleplays/attempts/{attempt_id}/turns", data={"x": "1"},
                          headers=drill.headers, content_type="multipart/form-data")
    assert missing.status_code == 400 and missing.json["error"] == "no_audio"


def test_refusal_messages_are_translated(app, client, ko_content, make_user):
    drill = Drill(client, make_user("kim", "learner"))
    attempt_id = drill.start(KO_SLUG, "voice")
    drill.answer(attempt_id)
    client.post("/language", data={"language": "zh_CN", "csrf_token": drill.token})
    zh = drill.upload(attempt_id, b"nope").json["message"]
    client.post("/language", data={"language": "en", "csrf_token": drill.token})
    en = drill.upload(attempt_id, b"nope").json["message"]
    assert en == "The upload is not a WAV recording." and zh != en
