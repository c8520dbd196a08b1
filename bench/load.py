"""Production-mode load and fault run (prints figures; asserts nothing).

Starts everything itself on 127.0.0.1 (bench/stack.py): a private redis-server, a throwaway
PostgreSQL database (BENCH_PG_SERVER, default postgresql://postgres@127.0.0.1:5432/postgres;
created, then dropped), gunicorn (gunicorn.conf.py) and `flask jobs worker`. Simulated trainees
do voice drills over HTTP as the call screen (static/js/drill/) does: log in, fetch the call state and the customer's
line (and wait while it plays), speak (wait the utterance's length), POST the recording,
poll state?turn=ID until the graded feedback is there, read the report when the call ends.
Speech is real Korean from espeak-ng, recognised by the real Vosk model in the workers.

Latency is end of speech → feedback: from the POST of the finished utterance to the graded
feedback being available (the turn's graded_at in the database, same clock); "seen" adds
the client's polling (every 250 ms here, 500 ms in static/js/drill/poll.js).

1. Load: N simultaneous trainees for LEVEL_SECONDS each, N stepped up until p95 passes 2 s,
   an error occurs, or the time budget runs out; prints throughput and p50/p95/p99.
2. Faults, at about half the sustained load: SIGKILL a recognition worker mid-job, restart
   Redis (no persistence: queued jobs are lost), SIGTERM a gunicorn worker. Then checks that
   every recording the API accepted ends graded exactly once and counts 5xx/connection errors.

Run: .venv/bin/python bench/load.py [--quick] [--free]   (under 5 minutes on 2 cores; --quick: ~1 minute;
--free: the Korean model decodes freely, as real zh-CN/en-US models do, instead of against a grammar)
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import threading
import time
from datetime import timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.stack import REPLIES, Database, Stack, Trainee, quantile, reply_audio, run_trainees, speak  # noqa: E402

WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "4"))
JOB_PROCESSES = int(os.environ.get("BENCH_JOB_PROCESSES", "2"))
LEVELS = (4, 8, 16, 24, 32, 48, 64, 96)
LEVEL_SECONDS = 24.0
STAGGER = 6.0         # trainees start within this many seconds of each other
P95_LIMIT = 2.0
LOAD_BUDGET = 180.0   # seconds of stepping at most (set-up and the fault run come on top)
FAULT_SECONDS = 40.0
POLL_SECONDS = 0.25


def _epoch(value) -> float | None:
    return value.replace(tzinfo=timezone.utc).timestamp() if value is not None else None


def graded_at(engine, turn_ids: list[int]) -> dict[int, tuple]:
    """turn id → (status, graded_at, graded_count, claims, created_at, grading_started_at); times in epoch s."""
    if not turn_ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status, graded_at, graded_count, claims, created_at, "
                                    "grading_started_at FROM roleplay_turns WHERE id IN :ids")
                            .bindparams(sa.bindparam("ids", expanding=True)), {"ids": turn_ids}).all()
    return {row.id: (row.status, _epoch(row.graded_at), row.graded_count, row.claims, _epoch(row.created_at),
                     _epoch(row.grading_started_at)) for row in rows}


def think(trainee: Trainee) -> float:
    """Listen to the customer's line, then speak the reply (give or take 20 %: people differ)."""
    if trainee.node is None:
        return random.uniform(0.5, 2.0)  # the call ended: read the report, start the next call
    return (trainee.line_seconds + reply_audio(trainee.audio, trainee.node)[1]) * random.uniform(0.8, 1.2)


def summarize(engine, trainees: list[Trainee], wall: float, marks: list[int]) -> dict:
    records = [r for t, mark in zip(trainees, marks) for r in t.records[mark:]]
    accepted = [r for r in records if r.turn_id is not None]
    rows = graded_at(engine, [r.turn_id for r in accepted])
    available = [rows[r.turn_id][1] - r.posted_at for r in accepted if rows.get(r.turn_id, ("", None))[1]]
    seen = [r.feedback_at - r.posted_at for r in accepted if r.feedback_at]
    failed = [r for r in records if r.status not in (200, 202) or r.feedback_at is None]
    done = [(r, rows[r.turn_id]) for r in accepted if rows.get(r.turn_id, ("", None))[1]]
    phases = {"saved": [row[4] - r.posted_at for r, row in done], "queued": [row[5] - row[4] for r, row in done],
              "grading": [row[1] - row[5] for r, row in done]}
    return {"turns": len(seen), "per_s": len(seen) / wall, "p50": quantile(available, 0.5),
            "phases": " / ".join(f"{quantile(v, 0.5):.2f}" for v in phases.values()),
            "p95": quantile(available, 0.95), "p99": quantile(available, 0.99), "seen_p95": quantile(seen, 0.95),
            "errors": sum(t.errors for t in trainees) + len(failed)}


def fault_run(stack: Stack, engine, trainees: list[Trainee], seconds: float) -> None:
    statuses: list[tuple[float, int, str]] = []
    lock = threading.Lock()

    def seen(status, path):
        with lock:
            statuses.append((time.monotonic(), status, path))

    for trainee in trainees:
        trainee.on_http = seen
        trainee.records.clear()
        trainee.errors = 0
    events: list[tuple[str, float, float]] = []
    started = time.monotonic()
    runner = threading.Thread(target=run_trainees, args=(trainees,),
                              kwargs={"seconds": seconds, "think": think, "stagger": STAGGER})
    runner.start()

    def grading_now() -> int | None:
        """The pid of a worker that is grading a turn right now (RQ says busy, the turn is claimed)."""
        busy = stack.busy_job_worker()
        if busy is None:
            return None
        turn_id = int(busy[1].split("-")[2])
        with engine.connect() as conn:
            status = conn.execute(sa.text("SELECT status FROM roleplay_turns WHERE id = :id"), {"id": turn_id}).scalar()
        return busy[0] if status == "grading" else None

    time.sleep(seconds * 0.15)
    while (victim := grading_now()) is None:
        time.sleep(0.005)
    t0 = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    events.append(("SIGKILL recognition worker", t0, time.monotonic()))
    time.sleep(seconds * 0.25)
    t0 = time.monotonic()
    stack.restart_redis(down_seconds=1.0)
    events.append(("Redis restart (1 s down, nothing persisted)", t0, time.monotonic()))
    time.sleep(seconds * 0.2)
    t0 = time.monotonic()
    os.kill(stack.web_workers_pids()[0], signal.SIGTERM)
    events.append(("SIGTERM gunicorn worker", t0, time.monotonic()))
    runner.join()
    # Drain: every accepted recording must end graded (the sweeper covers lost jobs).
    accepted = [r for t in trainees for r in t.records if r.turn_id is not None]
    deadline = time.monotonic() + 60
    while True:
        rows = graded_at(engine, [r.turn_id for r in accepted])
        if all(row[0] == "graded" for row in rows.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    rows = graded_at(engine, [r.turn_id for r in accepted])
    not_accepted = [r for t in trainees for r in t.records if r.turn_id is None]
    graded = [row for row in rows.values() if row[0] == "graded"]
    twice = [tid for tid, row in rows.items() if row[2] != 1 and row[0] == "graded"]
    reclaimed = [tid for tid, row in rows.items() if row[3] > 1]
    bad = [(at, status, path) for at, status, path in statuses if status >= 500 or status == 0]
    latencies = [rows[r.turn_id][1] - r.posted_at for r in accepted if rows.get(r.turn_id, ("", None))[1]]
    print(f"\nfaults with {len(trainees)} trainees for {seconds:.0f} s:")
    for name, at, done in events:
        print(f"  t={at - started:5.1f} s  {name} ({done - at:.1f} s)")
    print(f"  recordings accepted: {len(accepted)}, graded: {len(graded)}, graded twice: {len(twice)}, "
          f"still waiting after 60 s drain: {len(accepted) - len(graded)}; POSTs refused/failed: {len(not_accepted)}")
    print(f"  taken over after a killed worker (claims > 1): {len(reclaimed)}")
    print(f"  5xx / connection errors: {len(bad)}" + (" at " + ", ".join(
        f"t={at - started:.1f}s {status} {path.split('?')[0]}" for at, status, path in bad[:8]) if bad else ""))
    print(f"  end of speech -> feedback during the fault run: p50 {quantile(latencies, 0.5):.2f} s, "
          f"p95 {quantile(latencies, 0.95):.2f} s, max {max(latencies or [float('nan')]):.2f} s "
          f"(a killed worker's reply is handed over at once by its supervisor; GRADING_CLAIM_TIMEOUT, "
          f"{stack.settings['GRADING_CLAIM_TIMEOUT']} s here, covers deaths no supervisor sees)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a short run: two levels, a short fault run")
    parser.add_argument("--levels", help="comma-separated trainee counts instead of the default steps")
    parser.add_argument("--free", action="store_true",
                        help="free decoding (what zh-CN/en-US models do) instead of the Korean grammar")
    args = parser.parse_args()
    levels = LEVELS[:2] if args.quick else LEVELS
    if args.levels:
        levels = tuple(int(n) for n in args.levels.split(","))
    level_seconds = 10.0 if args.quick else LEVEL_SECONDS
    fault_seconds = 20.0 if args.quick else FAULT_SECONDS
    began = time.perf_counter()
    server = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        tmp = Path(folder)
        database = Database(tmp, server, name="academy_bench")
        stack = Stack(tmp / "stack", database.url, web_workers=WEB_WORKERS, job_processes=JOB_PROCESSES,
                      settings={"GRADING_CLAIM_TIMEOUT": 10, "JOBS_SWEEP_INTERVAL": 2, "JOBS_RECEIVED_GRACE": 5,
                                "GRADING_JOB_TIMEOUT": 8, "DB_POOL_SIZE": 10, "DB_MAX_OVERFLOW": 10,
                                **({"VOSK_GRAMMAR_LANGUAGES": ","} if args.free else {})})  # "," = no language
        engine = None
        try:
            audio = {node: speak(tmp, text) for node, text in REPLIES.items()}
            users = [f"t{i:03d}" for i in range(max(levels))]
            stack.start(users)
            engine = sa.create_engine(stack.app.config["SQLALCHEMY_DATABASE_URI"])
            print("machine: %d cores, %.0f GB RAM, load average %.1f at the start; everything (load generator "
                  "included) shares the cores" % (os.cpu_count() or 0,
                                                   os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
                                                   os.getloadavg()[0]))
            print(f"stack: gunicorn {WEB_WORKERS} sync workers, flask jobs worker {JOB_PROCESSES} processes, "
                  f"PostgreSQL, private Redis; set-up {time.perf_counter() - began:.0f} s")
            print("utterances: " + ", ".join(f"{node} {seconds:.1f} s" for node, (_, seconds) in audio.items()))
            pool: list[Trainee] = []
            warm = Trainee(stack.base, users[0], audio, poll_seconds=POLL_SECONDS)
            warm.login()
            run_trainees([warm], turns=3)
            print(f"\nsimultaneous trainees (each listens to the line, then speaks; {level_seconds:.0f} s per level)")
            print(f"{'trainees':>8} {'turns':>6} {'turns/s':>8} {'p50 s':>6} {'p95 s':>6} {'p99 s':>6} "
                  f"{'seen p95':>8} {'errors':>6}  p50 of upload+save / queue wait / grading, s")
            sustained = 0
            load_started = time.perf_counter()
            for n in levels:
                if time.perf_counter() - load_started > LOAD_BUDGET:
                    print(f"(time budget reached before {n} trainees)")
                    break
                while len(pool) < n:
                    trainee = Trainee(stack.base, users[len(pool)], audio, poll_seconds=POLL_SECONDS)
                    trainee.login()
                    pool.append(trainee)
                marks = [len(t.records) for t in pool[:n]]
                wall = run_trainees(pool[:n], seconds=level_seconds, think=think, stagger=STAGGER)
                result = summarize(engine, pool[:n], wall, marks)
                failures = [f for trainee in pool[:n] for f in trainee.failures]
                for trainee in pool[:n]:
                    trainee.errors = 0
                    trainee.failures.clear()
                print(f"{n:>8} {result['turns']:>6} {result['per_s']:>8.2f} {result['p50']:>6.2f} "
                      f"{result['p95']:>6.2f} {result['p99']:>6.2f} {result['seen_p95']:>8.2f} {result['errors']:>6}  "
                      f"{result['phases']}")
                for failure in failures[:5]:
                    print(f"         error: {failure}")
                if result["p95"] > P95_LIMIT or result["errors"]:
                    break
                sustained = n
            print(f"\nlargest load sustained with p95 < {P95_LIMIT:.0f} s and no errors: {sustained} trainees")
            fault_n = max(2, sustained // 2)
            fault_run(stack, engine, pool[:fault_n] if len(pool) >= fault_n else pool, fault_seconds)
        finally:
            if engine is not None:
                engine.dispose()
            stack.stop()
            stack.kill_everything()
            database.drop()
        print(f"\ntotal time: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
