"""Streamed replies recognised by a grading worker while they are spoken (production mode, app.jobs.streams),
with real processes: gunicorn (2 workers), `flask jobs worker` (1 process, 1 stream owner), a private
redis-server. A reply's chunks reach the worker's recogniser before the final one and the reply is graded
once by that worker; a worker SIGKILLed while it holds a reply's stream leaves the reply to be graded
once from its complete saved recording.
"""
from __future__ import annotations

import os
import signal

import pytest
import redis
import sqlalchemy as sa

from app.jobs.streams import LEASE_KEY, progress
from bench.stack import REPLIES, Stack, Trainee, speak
from tests.support.production import CHUNK, open_stream_call, post_chunk, stream_pcm, turn_rows, wait_until


@pytest.fixture
def stack(tmp_path, make_database):
    database = make_database("owner")
    stack = Stack(tmp_path / "stack", database.url, web_workers=2, job_processes=1, settings={
        "JOBS_SWEEP_INTERVAL": 1, "GRADING_CLAIM_TIMEOUT": 30, "JOBS_RECEIVED_GRACE": 1, "GRADING_JOB_TIMEOUT": 20,
        "STREAM_IDLE_SECONDS": 20, "STREAM_WORKER_THREADS": 1, "STREAM_LEASE_SECONDS": 2})
    try:
        stack.start(["kim"])
        yield stack
    finally:
        stack.stop()
        stack.kill_everything()


def _graded(engine, turn_id: int):
    return lambda: (lambda row: row if row is not None and row.status == "graded" else None)(
        turn_rows(engine).get(turn_id))


def test_a_streamed_reply_is_recognised_by_the_worker_while_spoken_and_graded_once(stack, tmp_path):
    pcm = stream_pcm(speak(tmp_path, REPLIES["opening"], repeat=2)[0])
    pieces = [pcm[i:i + CHUNK] for i in range(0, len(pcm), CHUNK)]
    kim = Trainee(stack.base, "kim", {})
    kim.login()
    engine = sa.create_engine(stack.app.config["SQLALCHEMY_DATABASE_URI"])
    connection = redis.Redis.from_url(stack.redis_url)
    try:
        _attempt, url = open_stream_call(kim)
        first = post_chunk(kim, url, 0, pieces[0])
        assert first.status_code == 200, first.text
        turn_id = wait_until(lambda: turn_rows(engine) and max(turn_rows(engine)), 10, "the streamed turn")
        for seq, piece in enumerate(pieces[1:-1], start=1):
            answer = post_chunk(kim, url, seq, piece)
            assert answer.status_code == 200, answer.text
            assert answer.json()["partial"] is None  # the web process recognises nothing itself
        # Every chunk but the last reached the worker's recogniser before the reply ends.
        wait_until(lambda: progress(turn_id, connection).get("chunks") == str(len(pieces) - 1), 60,
              "the worker to recognise the chunks sent so far")
        assert connection.exists(LEASE_KEY.format(turn_id))
        assert turn_rows(engine)[turn_id].status == "streaming"
        final = post_chunk(kim, url, len(pieces) - 1, pieces[-1], final=True)
        assert final.status_code == 202 and final.json()["status"] == "queued", final.text

        turn = wait_until(_graded(engine, turn_id), 60, "the streamed reply to be graded")
        assert turn.graded_count == 1 and turn.claims == 1
        done = progress(turn_id, connection)
        assert done["final"] == "1" and done["live"] == "1" and done["chunks"] == str(len(pieces))
        assert not connection.exists(f"academy:grading:turn:{turn_id}")  # no grading job was queued
        assert stream_pcm((stack.data / "recordings" / turn.recording_path).read_bytes()) == pcm
        log = (stack.logs / "jobs.log").read_text()
        assert f"turn {turn_id}: graded by its stream owner ({len(pieces)} chunks fed live, live result used)" in log
        assert kim.errors == 0
    finally:
        engine.dispose()


def test_a_worker_killed_while_it_holds_a_live_stream_leaves_the_reply_graded_once_from_its_recording(
        stack, tmp_path):
    pcm = stream_pcm(speak(tmp_path, REPLIES["opening"], repeat=2)[0])
    pieces = [pcm[i:i + CHUNK] for i in range(0, len(pcm), CHUNK)]
    kim = Trainee(stack.base, "kim", {})
    kim.login()
    engine = sa.create_engine(stack.app.config["SQLALCHEMY_DATABASE_URI"])
    connection = redis.Redis.from_url(stack.redis_url)
    try:
        _attempt, url = open_stream_call(kim)
        for seq in range(4):
            assert post_chunk(kim, url, seq, pieces[seq]).status_code == 200
        turn_id = max(turn_rows(engine))
        wait_until(lambda: progress(turn_id, connection).get("chunks") == "4", 60, "the worker to hold the stream")
        assert connection.exists(LEASE_KEY.format(turn_id))
        [worker] = stack.job_worker_pids()
        os.kill(worker, signal.SIGKILL)

        # The trainee goes on speaking; the reply ends while the dead owner's lease may still be held.
        for seq in range(4, len(pieces) - 1):
            assert post_chunk(kim, url, seq, pieces[seq]).status_code == 200
        final = post_chunk(kim, url, len(pieces) - 1, pieces[-1], final=True)
        assert final.status_code == 202, final.text

        turn = wait_until(_graded(engine, turn_id), 90, "the reply to be graded from its recording")
        assert turn.graded_count == 1 and turn.claims == 1
        assert "final" not in progress(turn_id, connection)  # not by a live recogniser
        assert stream_pcm((stack.data / "recordings" / turn.recording_path).read_bytes()) == pcm
        assert not list((stack.data / "recordings").rglob("*.stream"))
        log = (stack.logs / "jobs.log").read_text()
        assert "exited (killed by SIGKILL); starting another" in log
        assert "graded by its stream owner" not in log
        assert kim.errors == 0
    finally:
        engine.dispose()
