"""Role-play drill benchmark (prints figures; asserts nothing).

Serves the real app on 127.0.0.1 (threaded werkzeug server, a temporary SQLite database
unless BENCH_DATABASE_URL is set), loads the shipped content plus the Korean test scenario,
and drives voice drills over HTTP exactly as the call screen does: real espeak-ng Korean
speech (3-5 s utterances, 16 kHz mono 16-bit WAV) uploaded to the turns endpoint, recognised
by the real Vosk Korean model and graded.

1. Latency: end of speech -> graded feedback on the upload path, i.e. from POSTing a finished
   utterance to receiving the graded response; p50/p95 over 20 turns, one drill at a time.
2. Capacity: N simultaneous drills (threads, each its own trainee session); each drill speaks
   its next reply (waits the utterance's length) after every feedback, like a trainee who
   answers at once. N grows until the p95 latency passes 2 s, or the time budget runs out.

Run: .venv/bin/python bench/roleplay.py   (under 2 minutes on 2 cores)
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from bench.stack import REPLIES, bench_app, reply_audio, speak  # noqa: E402  (the replies and voice the tests use)

SLUG = "ko-thanks-for-waiting"
PASSWORD = "bench-password-42"
LATENCY_TURNS = 20
LEVELS = (1, 2, 4, 8, 16, 32)
LEVEL_SECONDS = 12.0
P95_LIMIT = 2.0
BUDGET_SECONDS = 100.0  # stop raising the load after this much wall time in total


def build_app(tmp: Path):
    content = tmp / "content"
    for folder in ("courses", "exams", "roleplays"):
        shutil.copytree(ROOT / folder, content / folder)
    shutil.copy(ROOT / "tests" / "fixtures" / "roleplays" / f"{SLUG}.yaml", content / "roleplays")
    return bench_app(tmp, content)


def make_users(app, count: int) -> list[str]:
    from app.accounts.services import create_user
    from app.extensions import db
    names = [f"bench{i:02d}" for i in range(count)]
    with app.app_context():
        for name in names:
            create_user(name, name, ("learner",), password=PASSWORD, must_change_password=False)
        db.session.commit()
    return names


class Trainee:
    """One browser session doing voice drills through the HTTP API."""

    CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

    def __init__(self, base: str, username: str, audio: dict[str, tuple[bytes, float]]):
        self.base, self.audio = base, audio
        self.http = requests.Session()
        page = self.http.get(f"{base}/login").text
        token = self.CSRF.search(page).group(1)
        self.http.post(f"{base}/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        self.token = self.CSRF.search(self.http.get(f"{base}/roleplays/").text).group(1)
        self.attempt: int | None = None
        self.node: str | None = None

    def _new_call(self) -> None:
        response = self.http.post(f"{self.base}/roleplays/{SLUG}/start", data={"mode": "voice", "csrf_token": self.token},
                                  allow_redirects=False)
        self.attempt = int(re.search(r"/attempts/(\d+)/", response.headers["Location"]).group(1))
        state = self.http.post(f"{self.base}/api/roleplays/attempts/{self.attempt}/answer", json={"rings": 1},
                               headers={"X-CSRFToken": self.token}).json()
        self.node = state["node"]["id"]

    def turn(self) -> tuple[float, float, bool]:
        """Upload the reply for the current node: (seconds to graded feedback, utterance seconds, ok)."""
        if self.attempt is None or self.node is None:
            self._new_call()
        wav, seconds = reply_audio(self.audio, self.node)
        started = time.perf_counter()
        response = self.http.post(
            f"{self.base}/api/roleplays/attempts/{self.attempt}/turns",
            files={"audio": ("reply.wav", wav, "audio/wav")},
            data={"speech_ended_ms": str(int(time.time() * 1000))}, headers={"X-CSRFToken": self.token})
        elapsed = time.perf_counter() - started
        ok = response.status_code == 200
        if ok:
            state = response.json()["state"]
            self.node = None if state["ended"] else state["node"]["id"]
            if state["ended"]:
                self.attempt = None
        else:
            self.attempt = self.node = None  # start afresh after a failure
        return elapsed, seconds, ok


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run_level(base: str, users: list[str], audio, n: int) -> dict:
    trainees = [Trainee(base, users[i], audio) for i in range(n)]
    for trainee in trainees:
        trainee._new_call()
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + LEVEL_SECONDS

    def drill(trainee: Trainee) -> None:
        nonlocal failures
        while time.perf_counter() < stop_at:
            elapsed, seconds, ok = trainee.turn()
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    failures += 1
            time.sleep(seconds)  # the trainee speaks the next reply

    threads = [threading.Thread(target=drill, args=(t,)) for t in trainees]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"drills": n, "turns": len(latencies), "failures": failures, "p50": quantile(latencies, 0.5),
            "p95": quantile(latencies, 0.95), "turns_per_s": len(latencies) / wall}


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-roleplay-") as folder:
        tmp = Path(folder)
        audio = {node: speak(tmp, text) for node, text in REPLIES.items()}
        app = build_app(tmp)
        users = make_users(app, max(LEVELS) + 1)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        setup = time.perf_counter() - began
        print("machine: %d cores, load average %.1f %.1f %.1f (other work skews the figures)"
              % ((os.cpu_count() or 0), *os.getloadavg()))
        print(f"set-up (migrate, content sync, {len(users)} users): {setup:.1f} s; "
              f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")
        print("utterances: " + ", ".join(f"{node} {seconds:.1f} s" for node, (_, seconds) in audio.items()))

        # Warm-up: the first turn loads the Korean model (once per process).
        trainee = Trainee(base, users[-1], audio)
        load_started = time.perf_counter()
        trainee.turn()
        print(f"first turn (includes loading the Korean model): {time.perf_counter() - load_started:.2f} s")

        latencies = []
        for _ in range(LATENCY_TURNS):
            elapsed, _seconds, ok = trainee.turn()
            if ok:
                latencies.append(elapsed)
        print(f"\nend of speech -> graded feedback (upload path, one drill, {len(latencies)} turns): "
              f"p50 {quantile(latencies, 0.5) * 1000:.0f} ms, p95 {quantile(latencies, 0.95) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms")

        print(f"\nsimultaneous drills (each replies right after its feedback; {LEVEL_SECONDS:.0f} s per level):")
        print(f"{'drills':>6} {'turns':>6} {'fail':>5} {'turns/s':>8} {'p50 ms':>7} {'p95 ms':>7}")
        sustained = 0
        for n in LEVELS:
            if time.perf_counter() - began > BUDGET_SECONDS:
                print(f"(time budget reached before {n} drills)")
                break
            result = run_level(base, users, audio, n)
            print(f"{n:>6} {result['turns']:>6} {result['failures']:>5} {result['turns_per_s']:>8.1f} "
                  f"{result['p50'] * 1000:>7.0f} {result['p95'] * 1000:>7.0f}")
            if result["p95"] > P95_LIMIT or result["failures"]:
                break
            sustained = n
        print(f"\nsustained with p95 <= {P95_LIMIT:.0f} s and no failures: {sustained} simultaneous drills")
        server.shutdown()
        print(f"total time: {time.perf_counter() - began:.0f} s; load average at the end "
              f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
