"""Streamed voice replies in production mode, with real processes: gunicorn (2 workers: the chunks of
one reply land on either, so the saved recording is shared through its file lock), `flask jobs worker`,
a private redis-server. The grading worker is SIGKILLed while it holds the streamed turn, and a stream
is abandoned mid-reply; every reply ends graded exactly once from its complete saved recording.

(Here no worker recognises while the trainee speaks (STREAM_WORKER_THREADS=0): the web processes save the
chunks and the worker recognises the saved recording. The live path, and a worker killed while it holds a
reply's stream: test_stream_owner.py.)
"""
from __future__ import annotations

import os
import signal

import pytest
import sqlalchemy as sa

from bench.stack import REPLIES, Stack, Trainee, speak
from tests.support.production import CHUNK, open_stream_call, post_chunk, stream_pcm, turn_rows, wait_until



@pytest.fixture
def stack(tmp_path, make_database):
    database = make_database("stream")
    stack = Stack(tmp_path / "stack", database.url, web_workers=2, job_processes=1, settings={
        "JOBS_SWEEP_INTERVAL": 1, "GRADING_CLAIM_TIMEOUT": 3, "JOBS_RECEIVED_GRACE": 1, "GRADING_JOB_TIMEOUT": 30,
        "STREAM_IDLE_SECONDS": 2, "STREAM_WORKER_THREADS": 0})
    try:
        stack.start(["kim", "lee"])
        yield stack
    finally:
        stack.stop()
        stack.kill_everything()








def test_streamed_replies_are_graded_once_through_a_killed_worker_and_an_abandoned_stream(stack, tmp_path):
    long_pcm = stream_pcm(speak(tmp_path, REPLIES["opening"], repeat=11)[0])  # ~25 s: long enough to kill mid-grade
    short_pcm = stream_pcm(speak(tmp_path, REPLIES["opening"])[0])
    kim, lee = Trainee(stack.base, "kim", {}), Trainee(stack.base, "lee", {})
    kim.login()
    lee.login()
    engine = sa.create_engine(stack.app.config["SQLALCHEMY_DATABASE_URI"])
    recordings = stack.data / "recordings"
    try:
        # 1. kim streams a long reply (the chunks spread over both gunicorn workers) and ends it.
        _attempt, url = open_stream_call(kim)
        pieces = [long_pcm[i:i + CHUNK] for i in range(0, len(long_pcm), CHUNK)]
        for seq, piece in enumerate(pieces[:-1]):
            answer = post_chunk(kim, url, seq, piece)
            assert answer.status_code == 200, answer.text
            assert answer.json()["partial"] is None  # production: no recogniser in the web process
        final = post_chunk(kim, url, len(pieces) - 1, pieces[-1], final=True)
        assert final.status_code == 202 and final.json()["status"] == "queued", final.text
        kim_turn = final.json()["turn_id"]

        # 2. lee starts a reply and the tab is closed after four chunks.
        open_stream_call(lee)
        lee_url = f"{lee.base}/api/roleplays/attempts/{lee.attempt}/stream"
        for seq in range(4):
            assert post_chunk(lee, lee_url, seq, short_pcm[seq * CHUNK:(seq + 1) * CHUNK]).status_code == 200

        # 3. SIGKILL the grading worker while it holds kim's streamed turn.
        wait_until(lambda: turn_rows(engine)[kim_turn].status == "grading", 60, "kim's streamed reply to be claimed")
        [worker] = stack.job_worker_pids()
        os.kill(worker, signal.SIGKILL)
        assert turn_rows(engine)[kim_turn].status == "grading"

        turns = wait_until(lambda: (lambda rows: rows if len(rows) == 2 and all(
            t.status == "graded" for t in rows.values()) else None)(turn_rows(engine)), 120, "both replies graded")
        assert {t.graded_count for t in turns.values()} == {1}, turns
        assert turns[kim_turn].claims == 2  # claimed, killed, taken over exactly once
        lee_turn = next(t for t in turns.values() if t.id != kim_turn)
        assert stream_pcm((recordings / turns[kim_turn].recording_path).read_bytes()) == long_pcm
        assert stream_pcm((recordings / lee_turn.recording_path).read_bytes()) == short_pcm[:4 * CHUNK]
        assert not list(recordings.rglob("*.stream")) and not list(recordings.rglob("*.stream.json"))
        # A chunk of the abandoned stream arriving late is refused; the call has moved on.
        late = post_chunk(lee, lee_url, 4, short_pcm[4 * CHUNK:5 * CHUNK])
        assert late.status_code == 409 and late.json()["error"] == "stream_ended"
        log = (stack.logs / "jobs.log").read_text()
        assert "exited (killed by SIGKILL); starting another" in log
        assert kim.errors == lee.errors == 0
    finally:
        engine.dispose()
