"""Production mode under faults, with real processes (a reduced bench/load.py).

gunicorn (2 workers) + `flask jobs worker` + a private redis-server + the suite's kind of
database; two trainees speak Korean replies (espeak-ng, recognised by the real Vosk model in
the worker). During the run: the recognition worker is SIGKILLed mid-job, Redis is restarted
(without persistence: every queued job is lost) while a reply is being sent, and a web worker
gets SIGTERM. Every recording must end graded, exactly once, with no 5xx answer.
"""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import sqlalchemy as sa

from bench.stack import REPLIES, Stack, Trainee, speak
from tests.support.production import wait_until

CLAIM_TIMEOUT = 3  # seconds: a turn whose worker vanished unseen is taken over after this


@pytest.fixture
def stack(tmp_path, make_database):
    database = make_database("stack")
    stack = Stack(tmp_path / "stack", database.url, web_workers=2, job_processes=1, settings={
        "JOBS_SWEEP_INTERVAL": 1, "GRADING_CLAIM_TIMEOUT": CLAIM_TIMEOUT, "JOBS_RECEIVED_GRACE": 1,
        "GRADING_JOB_TIMEOUT": 30})  # the worker preloads the installed models (Korean); the web needs none
    try:
        stack.start(["kim", "lee"])
        yield stack
    finally:
        stack.stop()
        stack.kill_everything()


def _turns(engine) -> dict[int, sa.Row]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status, claims, graded_count, error FROM roleplay_turns")).all()
    return {row.id: row for row in rows}




def test_every_reply_is_graded_once_through_worker_kill_redis_restart_and_web_worker_restart(stack, tmp_path):
    audio = {node: speak(tmp_path, text) for node, text in REPLIES.items()}
    # A long first reply (the greeting said eleven times, ~25 s of audio): its grading takes long
    # enough to kill the worker while it is at it.
    long_audio = {**audio, "opening": speak(tmp_path, REPLIES["opening"], repeat=11)}
    statuses: list[tuple[int, str]] = []
    lock = threading.Lock()

    def seen(status, path):
        with lock:
            statuses.append((status, path))

    kim = Trainee(stack.base, "kim", long_audio, on_http=seen)
    lee = Trainee(stack.base, "lee", audio, on_http=seen)
    kim.login()
    lee.login()
    engine = sa.create_engine(stack.app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        # 1. SIGKILL the recognition worker while it grades kim's long reply.
        first = threading.Thread(target=kim.turn)
        first.start()
        killed_turn = wait_until(lambda: next((t.id for t in _turns(engine).values() if t.status == "grading"), None),
                            30, "kim's reply to be claimed")
        [worker] = stack.job_worker_pids()
        os.kill(worker, signal.SIGKILL)
        assert _turns(engine)[killed_turn].status == "grading"  # died mid-grade, its claim left behind
        wait_until(lambda: [p for p in stack.job_worker_pids() if p != worker], 10, "the supervisor to fork a new worker")
        lee.turn()  # graded by the new worker, which also takes kim's turn over (handed over by the supervisor)
        first.join(60)
        assert not first.is_alive()

        # 2. Restart Redis (nothing persisted) while lee's next reply is sent: the API still answers
        #    202 (the turn is saved first), and the sweeper queues the turn once Redis is back.
        stack.stop_redis()
        second = threading.Thread(target=lee.turn)
        second.start()
        wait_until(lambda: any(status == 202 and path.endswith("/turns") for status, path in statuses[-3:]), 20,
              "lee's reply to be accepted while Redis is down")
        time.sleep(0.5)
        stack.start_redis()

        # 3. SIGTERM one gunicorn worker while kim replies again and lee polls.
        old_web = stack.web_workers_pids()
        third = threading.Thread(target=kim.turn)
        third.start()
        os.kill(old_web[0], signal.SIGTERM)
        for thread in (second, third):
            thread.join(60)
            assert not thread.is_alive()
        wait_until(lambda: len(set(stack.web_workers_pids()) - {old_web[0]}) >= 2, 20, "gunicorn to replace the worker")

        # Every recording the API accepted is graded, exactly once.
        records = kim.records + lee.records
        assert [r.status for r in records] == [202] * 4, records
        assert all(r.feedback_at is not None for r in records), records
        accepted = {r.turn_id for r in records}
        turns = wait_until(lambda: (lambda rows: rows if all(t.status == "graded" for t in rows.values()) else None)(
            _turns(engine)), 30, "every turn to be graded")
        assert set(turns) == accepted
        assert {t.graded_count for t in turns.values()} == {1}, turns
        assert turns[killed_turn].claims == 2  # claimed, killed, taken over exactly once
        assert not any(status >= 500 or status == 0 for status, _path in statuses), \
            [s for s in statuses if s[0] >= 500 or s[0] == 0]
        assert kim.errors == lee.errors == 0
        with engine.connect() as conn:
            nodes = dict(conn.execute(sa.text(
                "SELECT u.username, a.node_id FROM roleplay_attempts a JOIN users u ON u.id = a.user_id")).all())
        assert nodes == {"kim": "thanks", "lee": "thanks"}  # both calls moved on twice
        log = (stack.logs / "jobs.log").read_text()
        assert "exited (killed by SIGKILL); starting another" in log
        assert f"turn {killed_turn}: its worker died mid-grade; queued again at once" in log
    finally:
        engine.dispose()
