"""Stream owners (app.jobs.streams) in-process, with a real private redis-server and the real Korean model:
a chunk missing from the Redis stream makes the owner grade the saved recording instead of its live result;
the sweeper leaves an ended reply to the owner that holds its lease, and queues it once the lease is gone."""
from __future__ import annotations

from pathlib import Path

import redis

from app.extensions import db
from app.jobs.queue import TURN_JOB_KEY
from app.jobs.streams import LEASE_KEY, NEW_STREAMS, STREAM_KEY, StreamOwners, progress
from app.jobs.sweeper import sweep
from app.roleplays.models import Turn
from tests.support.roleplays import HELLO
from tests.app.roleplays.test_streaming import _call, chunks_of, pcm_of

from tests.support.production import run_jobs


def _turn(app, turn_id) -> Turn:
    with app.app_context():
        turn = db.session.get(Turn, turn_id)
        db.session.expunge(turn)
        return turn


def test_a_chunk_missing_from_the_redis_stream_makes_the_owner_grade_the_saved_recording(
        queued, client, ko_content, make_user, korean_speech):
    connection = redis.Redis.from_url(queued.config["REDIS_URL"])
    drill, attempt_id = _call(client, make_user)
    pieces = chunks_of(pcm_of(korean_speech(HELLO)))
    for seq, piece in enumerate(pieces[:-1]):
        answer = drill.chunk(attempt_id, seq, piece)
        assert answer.status_code == 200 and answer.json["partial"] is None
    [turn_id] = [int(x) for x in connection.lrange(NEW_STREAMS, 0, -1)]
    key = STREAM_KEY.format(turn_id)
    entries = connection.xrange(key)
    assert [int(fields[b"seq"]) for _, fields in entries] == list(range(len(pieces) - 1))
    connection.xdel(key, entries[1][0])  # lost on the way (a Redis restart, say); the recording has it
    final = drill.chunk(attempt_id, len(pieces) - 1, pieces[-1], final=True)
    assert final.status_code == 202 and final.json["turn_id"] == turn_id
    assert connection.exists(TURN_JOB_KEY.format(turn_id))  # no owner held it: queued as before

    connection.rpop(NEW_STREAMS)
    assert StreamOwners(queued, 1).own(turn_id, connection) == "graded"
    done = progress(turn_id, connection)
    assert done["final"] == "1" and done["live"] == "0" and done["chunks"] == "1"  # stopped at the gap
    turn = _turn(queued, turn_id)
    assert turn.status == "graded" and (turn.claims, turn.graded_count) == (1, 1)
    assert "안녕하세요" in turn.transcript  # recognised from the complete saved recording
    assert run_jobs(queued) == 1  # the queued job finds it graded: a no-op
    assert (_turn(queued, turn_id).claims, _turn(queued, turn_id).graded_count) == (1, 1)
    assert not connection.exists(LEASE_KEY.format(turn_id))  # released


def test_the_sweeper_leaves_an_ended_reply_to_its_lease_holder_then_queues_it_when_the_lease_is_gone(
        queued, client, ko_content, make_user, korean_speech):
    connection = redis.Redis.from_url(queued.config["REDIS_URL"])
    drill, attempt_id = _call(client, make_user)
    pieces = chunks_of(pcm_of(korean_speech(HELLO)))
    first = drill.chunk(attempt_id, 0, pieces[0])
    assert first.status_code == 200
    turn_id = int(connection.lrange(NEW_STREAMS, 0, -1)[0])
    connection.set(LEASE_KEY.format(turn_id), "an owner", px=60_000)  # an owner holds it (then dies)
    for seq, piece in enumerate(pieces[1:-1], start=1):
        assert drill.chunk(attempt_id, seq, piece).status_code == 200
    final = drill.chunk(attempt_id, len(pieces) - 1, pieces[-1], final=True)
    assert final.status_code == 202 and final.json["status"] == "queued"
    assert not connection.exists(TURN_JOB_KEY.format(turn_id))  # left to the owner
    assert connection.xrange(STREAM_KEY.format(turn_id))[-1][1] == {b"end": b"1"}

    with queued.app_context():
        assert turn_id not in sweep(use_lock=False).received
    assert _turn(queued, turn_id).status == "received"
    connection.delete(LEASE_KEY.format(turn_id))  # the lease ran out
    with queued.app_context():
        assert sweep(use_lock=False).received == [turn_id]
    assert run_jobs(queued) == 1
    turn = _turn(queued, turn_id)
    assert turn.status == "graded" and (turn.claims, turn.graded_count) == (1, 1)


def test_chunks_are_saved_when_redis_fails_and_not_passed_on_for_a_while(queued, client, ko_content, make_user,
                                                                          korean_speech, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from app.jobs import streams
    calls = []

    def down(*args):
        calls.append(args[:2])
        raise RedisConnectionError("Redis is restarting")

    monkeypatch.setattr(streams, "_publish", down)
    monkeypatch.setattr(streams, "_redis_down_until", 0.0)
    drill, attempt_id = _call(client, make_user)
    pieces = chunks_of(pcm_of(korean_speech(HELLO)))
    for seq in range(3):
        assert drill.chunk(attempt_id, seq, pieces[seq]).status_code == 200
    assert len(calls) == 1  # tried once, then left alone for REDIS_DOWN_PAUSE
    with queued.app_context():
        turn = db.session.scalars(db.select(Turn).where(Turn.attempt_id == attempt_id)).one()
        assert turn.status == "streaming"
        saved = (Path(queued.config["RECORDINGS_DIR"]) / turn.recording_path).with_suffix(".stream")
        assert saved.read_bytes() == b"".join(pieces[:3])  # the recording has every chunk
