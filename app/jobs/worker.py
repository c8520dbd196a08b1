"""`flask jobs worker`: RQ workers for grading, supervised.

The supervisor (the process `flask jobs worker` starts):
1. loads the speech models named by --preload into the app's registry, once;
2. forks --processes RQ workers, which inherit the loaded models copy-on-write (N workers,
   one copy of each model) and each run jobs one at a time;
3. restarts any worker that dies (SIGKILL, out of memory, a Redis error RQ gives up on) by
   forking again: no model is loaded twice, a new worker is ready in milliseconds; the reply
   the dead worker was grading is handed over at once (sweeper.hand_over);
4. every JOBS_SWEEP_INTERVAL seconds runs the sweeper (jobs.sweeper) for turns whose job was lost;
5. every second moves due RQ retries (Retry with intervals) from the scheduled registry to the queue.

Each "simple" worker also runs STREAM_WORKER_THREADS stream owners (jobs.streams): threads that
recognise streamed replies while they are spoken and grade them when they end.

SIGTERM/SIGINT: the workers finish the job in hand (RQ's warm shutdown), then everything exits.

Worker class: "simple" (default) runs each job in the worker process itself (rq.SimpleWorker);
"fork" is RQ's classic Worker, which forks a work-horse per job (the horse also inherits the
models). bench/memory.py measures both; see docs/production.md for the choice.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
import traceback

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger("academy.jobs")

WORKER_CLASSES = ("simple", "fork")


class Supervisor:
    def __init__(self, app, *, processes: int = 1, worker_class: str = "simple", preload: str | None = "installed",
                 sweep_interval: float | None = None, stop_timeout: float | None = None,
                 logging_level: str = "INFO") -> None:
        if worker_class not in WORKER_CLASSES:
            raise ValueError(f"worker class must be one of {WORKER_CLASSES}")
        self.app = app
        self.processes = max(1, int(processes))
        self.worker_class = worker_class
        self.preload = preload
        self.sweep_interval = float(sweep_interval if sweep_interval is not None
                                    else app.config["JOBS_SWEEP_INTERVAL"])
        self.stop_timeout = float(stop_timeout if stop_timeout is not None
                                  else app.config["GRADING_JOB_TIMEOUT"] + 10)
        self.logging_level = logging_level
        self.children: dict[int, int] = {}  # pid -> slot
        self.started_at: dict[int, float] = {}  # slot -> when its current worker was forked
        self.quick_deaths: dict[int, int] = {}  # slot -> deaths in a row within 5 s of starting
        self.not_before: dict[int, float] = {}  # slot -> earliest restart
        self.stopping = False
        self.restarts = 0
        self._scheduler = None

    # --- the supervisor -------------------------------------------------------------------

    def run(self) -> int:
        from ..extensions import db
        from ..speechops.preload import preload_speech_models

        url = self.app.config.get("REDIS_URL")
        if not url:
            raise RuntimeError("REDIS_URL is not set: without it replies are graded in the web process "
                               "and no worker is needed")
        started = time.perf_counter()
        loaded = preload_speech_models(self.app, self.preload)
        log.info("supervisor %s: models loaded before fork %s in %.1f s", os.getpid(), loaded or "(none)",
                 time.perf_counter() - started)
        with self.app.app_context():
            for engine in db.engines.values():
                engine.dispose()  # no database connection may cross the fork
        self.connection = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGINT, self._request_stop)
        for slot in range(self.processes):
            self._spawn(slot)
        next_sweep = time.monotonic() + min(self.sweep_interval, 2.0)
        while not self.stopping:
            self._reap()
            for slot in sorted(set(range(self.processes)) - set(self.children.values())):
                if not self.stopping and time.monotonic() >= self.not_before.get(slot, 0.0):
                    self.restarts += 1
                    self._spawn(slot)
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.sweep_interval
                self._sweep()
            self._move_due_retries()
            time.sleep(0.5)
        self._stop_children()
        return 0

    def _request_stop(self, signum, frame) -> None:
        if self.stopping:  # a second signal: stop now
            for pid in list(self.children):
                _kill(pid, signal.SIGKILL)
            return
        log.info("supervisor %s: %s received, stopping the workers", os.getpid(), signal.Signals(signum).name)
        self.stopping = True

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            slot = self.children.pop(pid, None)
            if slot is not None and not self.stopping:
                # A worker that exits by itself right after starting (Redis unreachable...) is
                # restarted with a growing delay, up to 30 s; a killed one, or one that ran a
                # while, is restarted at once.
                quick = (not os.WIFSIGNALED(status)
                         and time.monotonic() - self.started_at.get(slot, 0.0) < 5)
                self.quick_deaths[slot] = self.quick_deaths.get(slot, 0) + 1 if quick else 0
                delay = min(30.0, 2.0 ** self.quick_deaths[slot]) if quick else 0.0
                self.not_before[slot] = time.monotonic() + delay
                log.warning("worker %s (slot %s) exited (%s); starting another%s", pid, slot, _describe(status),
                            f" in {delay:.0f} s" if delay else "")
            if slot is not None:
                self._hand_over(pid, slot)

    def _hand_over(self, pid: int, slot: int) -> None:
        """The worker that died may have been grading: give its turn to another worker now."""
        from ..core.clock import utcnow
        from .sweeper import hand_over, turn_of_job
        died_at = utcnow()
        try:
            job_id = self.connection.hget(f"rq:worker:{_worker_name(pid, slot)}", "current_job")
            turn_id = turn_of_job(job_id.decode()) if job_id else None
            if turn_id is not None:
                with self.app.app_context():
                    hand_over(turn_id, died_at)
        except Exception:  # Redis or the database down: the sweeper takes it over after the claim timeout
            log.exception("could not hand over the job of worker %s", pid)

    def _stop_children(self) -> None:
        for pid in list(self.children):
            _kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.1)
        for pid in list(self.children):
            log.warning("worker %s did not stop in %.0f s; killing it", pid, self.stop_timeout)
            _kill(pid, signal.SIGKILL)
        while self.children:
            self._reap()
            time.sleep(0.05)

    def _sweep(self) -> None:
        from .sweeper import sweep
        try:
            with self.app.app_context():
                sweep()
        except RedisError as exc:
            log.warning("sweeper: Redis unavailable (%s); next try in %.0f s", exc, self.sweep_interval)
        except Exception:  # the database may be restarting too; the next sweep tries again
            log.exception("sweeper failed; next try in %.0f s", self.sweep_interval)

    def _move_due_retries(self) -> None:
        """What RQ's scheduler process does, done here: retries whose delay is over go back on the queue."""
        from rq.scheduler import RQScheduler
        try:
            if self._scheduler is None:
                self._scheduler = RQScheduler([self.app.config["GRADING_QUEUE"]], connection=self.connection,
                                              logging_level="WARNING")
            if self._scheduler.acquire_locks():
                self._scheduler.enqueue_scheduled_jobs()
        except RedisError:
            self._scheduler = None  # reconnect next time

    # --- the workers ------------------------------------------------------------------------

    def _spawn(self, slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = self._worker_main(slot)
            except BaseException:  # noqa: BLE001 - the child must never return into the supervisor
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = slot
        self.started_at[slot] = time.monotonic()
        log.info("supervisor %s: worker %s started (slot %s)", os.getpid(), pid, slot)

    def _worker_main(self, slot: int) -> int:
        from rq import Queue, SimpleWorker, Worker

        from ..extensions import db
        from . import tasks

        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        with self.app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)  # drop (without closing) anything inherited from the parent
        tasks.set_app(self.app)
        tasks.set_dispose_after_job(self.worker_class == "fork")
        if self.worker_class == "simple":
            # STREAM_WORKER_THREADS threads recognising streamed replies (jobs.streams). Not with "fork":
            # a work-horse forked while those threads hold a lock could hang; there streamed replies are
            # recognised from their recording when they end.
            from .streams import start_owners
            start_owners(self.app)
        connection = Redis.from_url(self.app.config["REDIS_URL"], socket_connect_timeout=2)
        queue = Queue(self.app.config["GRADING_QUEUE"], connection=connection)
        worker_class = SimpleWorker if self.worker_class == "simple" else Worker
        worker = worker_class([queue], connection=connection, name=_worker_name(os.getpid(), slot))
        worker.work(logging_level=self.logging_level)
        return 0


def _worker_name(pid: int, slot: int) -> str:
    return f"{socket.gethostname()}.{pid}.{slot}"


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"
