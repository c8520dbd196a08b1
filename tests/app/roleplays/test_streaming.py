"""Streamed voice replies (roleplays.streaming): chunks of espeak-ng Korean speech posted as the call
screen posts them, recognised live by the real Korean Vosk model, saved, and graded exactly once,
also when the stream breaks."""
from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.roleplays import recovery, streaming
from app.roleplays.models import Attempt, Turn
from app.speechops import services as speech

from tests.support.roleplays import HELLO, KO_SLUG, Drill

CHUNK_BYTES = 16000 * 2 * 240 // 1000  # 240 ms, as static/js/drill/stream.js sends
L16 = "audio/l16; rate=16000; channels=1"


@pytest.fixture(autouse=True)
def _no_background_reaper(app, monkeypatch):
    # The tests finish broken streams themselves (reap_idle); the reaper thread must not beat them to it.
    monkeypatch.setitem(app.config, "STREAM_IDLE_SECONDS", 3600)


def pcm_of(wav_bytes: bytes) -> bytes:
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (16000, 1, 2)
        return reader.readframes(reader.getnframes())


def chunks_of(pcm: bytes, size: int = CHUNK_BYTES) -> list[bytes]:
    return [pcm[i:i + size] for i in range(0, len(pcm), size)]


class Streamer(Drill):
    def chunk(self, attempt_id: int, seq: int, data: bytes, *, final: bool = False, content_type: str = L16,
              ended_ms: int | None = None):
        query = f"seq={seq}" + ("&final=1" if final else "") + (f"&speech_ended_ms={ended_ms}" if ended_ms else "")
        return self.client.post(f"/api/roleplays/attempts/{attempt_id}/stream?{query}", data=data,
                                headers={**self.headers, "Content-Type": content_type})

    def stream(self, attempt_id: int, pcm: bytes, *, final: bool = True, ended_ms: int | None = None):
        """Every chunk but the last as chunks, the last with final=1 (or as a chunk too); the responses."""
        pieces = chunks_of(pcm)
        answers = [self.chunk(attempt_id, seq, piece) for seq, piece in enumerate(pieces[:-1])]
        answers.append(self.chunk(attempt_id, len(pieces) - 1, pieces[-1], final=final, ended_ms=ended_ms))
        return answers


def _call(client, make_user, name="s-kim"):
    drill = Streamer(client, make_user(name, "learner"))
    attempt_id = drill.start(KO_SLUG, "voice")
    assert drill.answer(attempt_id).status_code == 200
    return drill, attempt_id


def _turns(app, attempt_id):
    with app.app_context():
        return db.session.scalars(select(Turn).where(Turn.attempt_id == attempt_id).order_by(Turn.seq)).all()


def _stream_files(app) -> list[Path]:
    return sorted(Path(app.config["RECORDINGS_DIR"]).rglob("*.stream*"))


def test_a_streamed_reply_is_recognised_while_spoken_saved_whole_and_graded_once(app, client, ko_content,
                                                                                   make_user, korean_speech,
                                                                                   monkeypatch):
    drill, attempt_id = _call(client, make_user)
    pcm = pcm_of(korean_speech(HELLO))
    pieces = chunks_of(pcm)
    answers = [drill.chunk(attempt_id, seq, piece) for seq, piece in enumerate(pieces[:-1])]
    assert all(a.status_code == 200 for a in answers), [a.get_json() for a in answers]
    assert [a.json["seq"] for a in answers] == list(range(len(pieces) - 1))
    assert answers[-1].json["received_ms"] == (len(pieces) - 1) * 240
    # Partial words while the trainee is still speaking (difficulty 1: captions are on).
    partials = [a.json["partial"] for a in answers if a.json["partial"]]
    assert partials and "안녕하세요" in partials[-1], partials
    # While the reply arrives the call is held by it.
    assert drill.state(attempt_id).json["status"] == "pending"

    # The final chunk's answer is the graded reply; the recording is NOT recognised a second time.
    def no_second_recognition(*args, **kwargs):
        raise AssertionError("the streamed reply was recognised again")
    monkeypatch.setattr(speech, "recognize", no_second_recognition)
    final = drill.chunk(attempt_id, len(pieces) - 1, pieces[-1], final=True, ended_ms=1234567)
    assert final.status_code == 200, final.get_data(as_text=True)
    body = final.json
    assert "안녕하세요" in body["turn"]["transcript"] and body["turn"]["status"] == "graded"
    assert body["state"]["node"]["id"] == "order" and body["state"]["status"] == "in_call"

    (turn,) = _turns(app, attempt_id)
    assert (turn.status, turn.claims, turn.graded_count, turn.speech_ended_ms) == ("graded", 1, 1, 1234567)
    saved = Path(app.config["RECORDINGS_DIR"]) / turn.recording_path
    assert pcm_of(saved.read_bytes()) == pcm  # every chunk, in order, nothing else
    assert _stream_files(app) == []
    # A chunk after the end is refused and changes nothing.
    late = drill.chunk(attempt_id, len(pieces), pieces[0])
    assert late.status_code == 409 and late.json["error"] == "stream_ended" and late.json["message"]
    assert pcm_of(saved.read_bytes()) == pcm
    with app.app_context():
        assert streaming.reap_idle(idle_seconds=0) == []
    assert _turns(app, attempt_id)[0].graded_count == 1


def test_bad_chunks_get_clear_errors_and_never_reach_the_recording(app, client, ko_content, make_user,
                                                                   korean_speech, monkeypatch):
    drill, attempt_id = _call(client, make_user)
    pcm = pcm_of(korean_speech(HELLO))
    pieces = chunks_of(pcm)
    # Before the reply started: it must start at chunk 0.
    early = drill.chunk(attempt_id, 3, pieces[0])
    assert early.status_code == 409 and early.json["error"] == "out_of_order"
    assert _turns(app, attempt_id) == []
    assert drill.chunk(attempt_id, 0, pieces[0]).status_code == 200
    assert drill.chunk(attempt_id, 1, pieces[1]).status_code == 200

    refusals = {
        "format": drill.chunk(attempt_id, 2, pieces[2], content_type="audio/wav"),
        "rate": drill.chunk(attempt_id, 2, pieces[2], content_type="audio/l16; rate=44100"),
        "odd": drill.chunk(attempt_id, 2, pieces[2][:-1]),
        "huge": drill.chunk(attempt_id, 2, pcm[:16000 * 2 * 2]),  # 2 s in one chunk
        "tiny": drill.chunk(attempt_id, 2, pieces[2][:64]),
        "gap": drill.chunk(attempt_id, 4, pieces[4]),
        "again": drill.chunk(attempt_id, 0, pieces[0]),
        "no-seq": drill.client.post(f"/api/roleplays/attempts/{attempt_id}/stream", data=pieces[2],
                                    headers={**drill.headers, "Content-Type": L16}),
    }
    got = {name: (r.status_code, r.json["error"]) for name, r in refusals.items()}
    assert got == {"format": (415, "chunk_format"), "rate": (415, "chunk_format"), "odd": (400, "chunk_format"),
                   "huge": (413, "chunk_too_long"), "tiny": (400, "chunk_format"), "gap": (409, "out_of_order"),
                   "again": (409, "out_of_order"), "no-seq": (400, "bad_request")}
    assert all(r.json["message"] for r in refusals.values())
    # A repeat of the last accepted chunk (its answer was lost) is answered again, not stored twice.
    repeat = drill.chunk(attempt_id, 1, pieces[1])
    assert repeat.status_code == 200 and repeat.json["duplicate"] is True
    # Longer than the longest reply allowed.
    monkeypatch.setitem(app.config, "MAX_AUDIO_SECONDS", 0.6)
    too_long = drill.chunk(attempt_id, 2, pieces[2])
    assert too_long.status_code == 400 and too_long.json["error"] == "too_long"
    monkeypatch.setitem(app.config, "MAX_AUDIO_SECONDS", 120)

    rest = pieces[2:]
    for offset, piece in enumerate(rest[:-1]):
        assert drill.chunk(attempt_id, 2 + offset, piece).status_code == 200
    final = drill.chunk(attempt_id, 2 + len(rest) - 1, rest[-1], final=True)
    assert final.status_code == 200, final.get_data(as_text=True)
    (turn,) = _turns(app, attempt_id)
    assert pcm_of((Path(app.config["RECORDINGS_DIR"]) / turn.recording_path).read_bytes()) == pcm
    assert turn.graded_count == 1


def test_a_broken_stream_is_graded_once_from_its_saved_recording(app, client, ko_content, make_user,
                                                                  korean_speech):
    drill, attempt_id = _call(client, make_user)
    pcm = pcm_of(korean_speech(HELLO))
    pieces = chunks_of(pcm)
    kept = len(pieces) - 2  # the connection drops before the last two chunks
    for seq in range(kept):
        assert drill.chunk(attempt_id, seq, pieces[seq]).status_code == 200
    with app.app_context():
        assert streaming.reap_idle(idle_seconds=3600) == []  # not idle yet: left alone
        (turn_id,) = streaming.reap_idle(idle_seconds=0)
        assert streaming.reap_idle(idle_seconds=0) == []
    (turn,) = _turns(app, attempt_id)
    assert turn.id == turn_id and (turn.status, turn.claims, turn.graded_count) == ("graded", 1, 1)
    assert "안녕하세요" in turn.transcript
    saved = pcm_of((Path(app.config["RECORDINGS_DIR"]) / turn.recording_path).read_bytes())
    assert saved == b"".join(pieces[:kept])
    assert _stream_files(app) == []
    # The page comes back: its next chunk and its final one are refused, and the call has moved on.
    assert drill.chunk(attempt_id, kept, pieces[kept]).json["error"] == "stream_ended"
    assert drill.state(attempt_id).json["node"]["id"] == "order"


def test_a_whole_recording_sent_after_a_broken_stream_replaces_the_chunks(app, client, ko_content, make_user,
                                                                          korean_speech):
    drill, attempt_id = _call(client, make_user)
    wav = korean_speech(HELLO)
    pieces = chunks_of(pcm_of(wav))
    for seq in range(3):
        assert drill.chunk(attempt_id, seq, pieces[seq]).status_code == 200
    response = drill.upload(attempt_id, wav, speech_ended_ms=42)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "안녕하세요" in response.json["turn"]["transcript"]
    with app.app_context():
        assert streaming.reap_idle(idle_seconds=0) == []
    (turn,) = _turns(app, attempt_id)
    assert (turn.graded_count, turn.speech_ended_ms) == (1, 42)
    assert (Path(app.config["RECORDINGS_DIR"]) / turn.recording_path).read_bytes() == wav
    assert drill.chunk(attempt_id, 3, pieces[3]).json["error"] == "stream_ended"
    assert _stream_files(app) == []


def test_a_silent_stream_is_refused_and_the_caller_waits_for_a_reply_again(app, client, ko_content, make_user,
                                                                            korean_speech):
    drill, attempt_id = _call(client, make_user)
    answers = drill.stream(attempt_id, b"\0\0" * 16000)
    assert answers[-1].status_code == 400 and answers[-1].json["error"] in ("silence", "empty")
    assert _turns(app, attempt_id) == [] and _stream_files(app) == []
    assert drill.state(attempt_id).json["status"] == "in_call"
    answers = drill.stream(attempt_id, pcm_of(korean_speech(HELLO)))
    assert answers[-1].status_code == 200 and [t.seq for t in _turns(app, attempt_id)] == [1]


def test_no_partial_words_where_captions_are_hidden(app, client, ko_content, make_user, korean_speech):
    drill, attempt_id = _call(client, make_user)
    with app.app_context():
        db.session.get(Attempt, attempt_id).difficulty = 2
        db.session.commit()
    answers = drill.stream(attempt_id, pcm_of(korean_speech(HELLO)), final=False)
    assert all(a.status_code == 200 for a in answers)
    assert [a.json["partial"] for a in answers] == [None] * len(answers)


def test_a_restart_grades_replies_that_were_still_streaming(app, client, ko_content, make_user, korean_speech):
    drill, attempt_id = _call(client, make_user)
    pieces = chunks_of(pcm_of(korean_speech(HELLO)))
    for seq, piece in enumerate(pieces[:-1]):
        assert drill.chunk(attempt_id, seq, piece).status_code == 200
    app.extensions.pop("roleplay_live_streams")  # the process died with its recognisers
    report = recovery.recover_interrupted(app)
    (turn,) = _turns(app, attempt_id)
    assert report["graded"] == [turn.id] and turn.graded_count == 1 and "안녕하세요" in turn.transcript
