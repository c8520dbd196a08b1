"""Streaming recognition benchmark: end of speech -> graded feedback, streamed vs uploaded (prints figures).

Starts the real app itself in a child process (embedded mode: threaded werkzeug server, a temporary
SQLite database, the shipped content plus the Korean test scenario) with the Korean Vosk model in
FREE decoding (VOSK_GRAMMAR_LANGUAGES empty: no grammar, as real zh-CN/en-US models decode), and
drives real drills over HTTP as the call screen does. Replies are espeak-ng Korean of about 3, 6 and
10 s (the opening line's reply said 1, 2 and 4 times).

- Streaming path: the reply is "spoken in real time": its 240 ms chunks are POSTed to the stream
  endpoint as each would be captured (chunk k when its audio has been heard), one at a time as
  the call screen (static/js/drill/) does, the last one with final=1 at the end of speech. Latency = end of speech -> the
  graded feedback (the final chunk's answer).
- Upload path: at the end of speech the whole WAV is POSTed to the turns endpoint (today's path);
  latency = the graded answer's arrival.
Both paths alternate in the same run, each on a fresh call (the opening node). Then N simultaneous
streaming drills (3 s replies, back to back) for a while each, N stepped up while p95 <= 1 s.

The last figure line is:
  end of speech -> feedback, free decoding: streaming p95 <N> ms, upload p95 <M> ms, ratio <R>

Run: .venv/bin/python bench/streaming.py [--quick]   (--quick: about 3-4 minutes on 2 cores)

--production measures production mode instead (bench.stack: gunicorn, `flask jobs worker`, a private
redis-server, SQLite): the final chunk and the upload answer 202 and the feedback is polled for every
20 ms, as the call screen does; streamed replies are recognised by the grading workers' stream owners
while spoken (app/jobs/streams.py; --stream-threads 0 turns that off for comparison).
Other work on the machine skews the figures: the load average is printed with them.
"""
from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stack import REPLIES, free_port, quantile, speak  # noqa: E402

SLUG = "ko-thanks-for-waiting"
PASSWORD = "bench-password-42"
CHUNK_SECONDS = 0.24          # drill/stream.js: 8 frames of 30 ms
CHUNK_BYTES = int(16000 * 2 * CHUNK_SECONDS)
LENGTHS = {"3 s": 1, "6 s": 2, "10 s": 4}  # the opening reply said this many times
LEVEL_LIMIT = 1.0             # p95 end of speech -> feedback for the capacity figure
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


# --- the server (child process) -------------------------------------------------------------

def serve(folder: Path, port: int, users: int) -> None:
    os.environ["VOSK_GRAMMAR_LANGUAGES"] = ","  # free decoding: no grammar for ko-KR either (an empty
    # value would keep the default list)
    os.environ.pop("REDIS_URL", None)
    import logging

    from werkzeug.serving import make_server

    from bench.roleplay import build_app, make_users
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = build_app(folder)
    app.config["VOSK_GRAMMAR_LANGUAGES"] = ()  # whatever the environment said: free decoding
    app.config["STREAMS_MAX"] = 64
    make_users(app, users)
    with app.app_context():
        from app.speechops import services as speech
        speech.registry().model("ko-KR")  # loaded before serving, as `flask serve` does
    server = make_server("127.0.0.1", port, app, threaded=True)
    print("READY", flush=True)
    server.serve_forever()


# --- the trainees ---------------------------------------------------------------------------

class Trainee:
    def __init__(self, base: str, username: str, password: str = PASSWORD):
        self.base = base
        self.http = requests.Session()
        token = CSRF.search(self.http.get(f"{base}/login").text).group(1)
        self.http.post(f"{base}/login", data={"username": username, "password": password, "csrf_token": token})
        self.token = CSRF.search(self.http.get(f"{base}/roleplays/").text).group(1)
        self.headers = {"X-CSRFToken": self.token}

    def new_call(self) -> int:
        response = self.http.post(f"{self.base}/roleplays/{SLUG}/start", data={"mode": "voice",
                                  "csrf_token": self.token}, allow_redirects=False)
        attempt = int(re.search(r"/attempts/(\d+)/", response.headers["Location"]).group(1))
        self.http.post(f"{self.base}/api/roleplays/attempts/{attempt}/answer", json={}, headers=self.headers)
        return attempt

    def streamed(self, wav: bytes) -> tuple[float, dict]:
        """Speak `wav` in real time as chunks; (end of speech -> feedback seconds, the final answer)."""
        attempt = self.new_call()
        pcm = _pcm(wav)
        pieces = [pcm[i:i + CHUNK_BYTES] for i in range(0, len(pcm), CHUNK_BYTES)]
        url = f"{self.base}/api/roleplays/attempts/{attempt}/stream"
        headers = {**self.headers, "Content-Type": "audio/l16; rate=16000; channels=1"}
        started = time.perf_counter()
        for seq, piece in enumerate(pieces[:-1]):
            captured = started + (seq + 1) * CHUNK_SECONDS
            time.sleep(max(0.0, captured - time.perf_counter()))
            answer = self.http.post(f"{url}?seq={seq}", data=piece, headers=headers, timeout=60)
            if answer.status_code != 200:
                raise RuntimeError(f"chunk {seq}: {answer.status_code} {answer.text[:200]}")
        ended = started + len(pcm) / 32000
        time.sleep(max(0.0, ended - time.perf_counter()))
        answer = self.http.post(f"{url}?seq={len(pieces) - 1}&final=1&speech_ended_ms={int(time.time() * 1000)}",
                                data=pieces[-1], headers=headers, timeout=120)
        body = self._feedback(answer, "final chunk")
        return time.perf_counter() - ended, body

    def uploaded(self, wav: bytes) -> tuple[float, dict]:
        """The whole recording POSTed at the end of speech (the upload path)."""
        attempt = self.new_call()
        started = time.perf_counter()
        answer = self.http.post(f"{self.base}/api/roleplays/attempts/{attempt}/turns",
                                files={"audio": ("reply.wav", wav, "audio/wav")},
                                data={"speech_ended_ms": str(int(time.time() * 1000))}, headers=self.headers,
                                timeout=120)
        body = self._feedback(answer, "upload")
        return time.perf_counter() - started, body

    def _feedback(self, answer: requests.Response, what: str, deadline: float = 120.0) -> dict:
        """The graded answer: the response itself (embedded), or polled for every 20 ms (production: 202)."""
        if answer.status_code == 202 and answer.json().get("status") == "queued":
            give_up = time.perf_counter() + deadline
            while time.perf_counter() < give_up:
                polled = self.http.get(self.base + answer.json()["state_url"], timeout=30)
                if polled.status_code == 200 and "turn_result" in polled.json():
                    return polled.json()["turn_result"]
                time.sleep(0.02)
            raise RuntimeError(f"{what}: no feedback after {deadline:.0f} s")
        if answer.status_code != 200:
            raise RuntimeError(f"{what}: {answer.status_code} {answer.text[:200]}")
        return answer.json()


def _pcm(wav: bytes) -> bytes:
    with wave.open(io.BytesIO(wav)) as reader:
        return reader.readframes(reader.getnframes())


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def _load() -> str:
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def capacity(base: str, users: list[str], wav: bytes, levels: tuple[int, ...], seconds: float,
             password: str = PASSWORD) -> list[dict]:
    results = []
    for n in levels:
        trainees = [Trainee(base, users[i], password) for i in range(n)]
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        stop_at = time.perf_counter() + seconds

        def drill(trainee: Trainee, offset: float) -> None:
            time.sleep(offset)  # trainees do not all stop speaking at the same instant
            while time.perf_counter() < stop_at:
                try:
                    latency, _ = trainee.streamed(wav)
                except Exception as exc:  # noqa: BLE001 - counted and shown
                    with lock:
                        errors.append(str(exc)[:120])
                    continue
                with lock:
                    latencies.append(latency)

        threads = [threading.Thread(target=drill, args=(t, i * CHUNK_SECONDS * 3 / max(1, n)))
                   for i, t in enumerate(trainees)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        row = {"n": n, "turns": len(latencies), "p50": quantile(latencies, 0.5), "p95": quantile(latencies, 0.95),
               "errors": len(errors), "load": _load()}
        print(f"  {n:3d} drills: {row['turns']:3d} replies, p50 {_ms(row['p50'])} ms, p95 {_ms(row['p95'])} ms, "
              f"errors {row['errors']}{' (' + errors[0] + ')' if errors else ''}; {row['load']}", flush=True)
        results.append(row)
        if not latencies or row["p95"] > LEVEL_LIMIT or errors:
            break
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer replies and shorter load levels (~4 minutes)")
    parser.add_argument("--production", action="store_true",
                        help="production mode instead: gunicorn (2 workers) + `flask jobs worker` + Redis, SQLite; "
                             "streamed replies recognised by the grading workers' stream owners")
    parser.add_argument("--job-processes", type=int, default=2, help="grading processes (--production)")
    parser.add_argument("--stream-threads", type=int, default=2,
                        help="STREAM_WORKER_THREADS per grading process (--production; 0: no live recognition)")
    parser.add_argument("--serve", nargs=3, metavar=("FOLDER", "PORT", "USERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]), int(args.serve[2]))
        return
    repeats = 2 if args.quick else 5
    levels = (1, 2, 4, 6) if args.quick else (1, 2, 3, 4, 6, 8, 12)
    level_seconds = 14.0 if args.quick else 30.0
    began = time.perf_counter()
    print(f"machine: {os.cpu_count()} cores; {_load()} at the start (other people's work included)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-streaming-") as folder:
        tmp = Path(folder)
        port = free_port()
        users = [f"bench{i:02d}" for i in range(max(levels) + 1)]
        password, server, stack = PASSWORD, None, None
        if args.production:
            from bench.stack import PASSWORD as STACK_PASSWORD
            from bench.stack import Stack
            password = STACK_PASSWORD
            stack = Stack(tmp / "stack", f"sqlite:///{tmp}/stack.db", web_workers=2, job_processes=args.job_processes,
                          settings={"VOSK_GRAMMAR_LANGUAGES": ",", "STREAM_WORKER_THREADS": args.stream_threads})
        else:
            server = subprocess.Popen([sys.executable, __file__, "--serve", str(tmp / "app"), str(port),
                                       str(len(users))], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            (tmp / "app").mkdir()
            audio = {name: speak(tmp, REPLIES["opening"], repeat=times) for name, times in LENGTHS.items()}
            if stack is not None:
                stack.start(users)
                base = stack.base
                mode = (f"production mode (gunicorn 2 workers, {args.job_processes} grading processes, "
                        f"STREAM_WORKER_THREADS={args.stream_threads}), SQLite, free decoding")
            else:
                line = server.stdout.readline()
                if line.strip() != "READY":
                    raise SystemExit(f"the app did not start: {line!r}")
                base = f"http://127.0.0.1:{port}"
                mode = "embedded mode, SQLite, free decoding"
            print(f"set-up (migrate, content, users, Korean model loaded): {time.perf_counter() - began:.0f} s; "
                  f"{mode}", flush=True)
            print("replies: " + ", ".join(f"{name} = {seconds:.1f} s" for name, (_, seconds) in audio.items()),
                  flush=True)
            trainee = Trainee(base, users[-1], password)
            trainee.uploaded(audio["3 s"][0])  # warm-up (first recogniser, caches)
            trainee.streamed(audio["3 s"][0])

            print(f"\nend of speech -> graded feedback, one drill at a time, {repeats} replies per length and path:",
                  flush=True)
            all_stream: list[float] = []
            all_upload: list[float] = []
            for name, (wav, seconds) in audio.items():
                streamed, uploaded, heard = [], [], set()
                for _ in range(repeats):
                    latency, body = trainee.streamed(wav)
                    streamed.append(latency)
                    heard.add(body["turn"]["transcript"][:40])
                    latency, body = trainee.uploaded(wav)
                    uploaded.append(latency)
                all_stream += streamed
                all_upload += uploaded
                print(f"  {name:>4} ({seconds:.1f} s): streaming p50 {_ms(quantile(streamed, 0.5))} / p95 "
                      f"{_ms(quantile(streamed, 0.95))} ms; upload p50 {_ms(quantile(uploaded, 0.5))} / p95 "
                      f"{_ms(quantile(uploaded, 0.95))} ms; heard {sorted(heard)!r}; {_load()}", flush=True)

            print(f"\nsimultaneous streaming drills ({level_seconds:.0f} s per level, 3 s replies back to back, "
                  f"stepped up while p95 <= {LEVEL_LIMIT * 1000:.0f} ms):", flush=True)
            rows = capacity(base, users, audio["3 s"][0], levels, level_seconds, password)
            sustained = max([r["n"] for r in rows if r["turns"] and r["p95"] <= LEVEL_LIMIT and not r["errors"]],
                            default=0)
            print(f"simultaneous streaming drills sustained with p95 <= {LEVEL_LIMIT * 1000:.0f} ms: {sustained}"
                  f"{' (the highest level tried)' if rows and sustained == rows[-1]['n'] else ''}")
            print(f"run time {time.perf_counter() - began:.0f} s; {_load()} at the end")
            stream_p95, upload_p95 = quantile(all_stream, 0.95), quantile(all_upload, 0.95)
            print(f"end of speech -> feedback, free decoding: streaming p95 {_ms(stream_p95)} ms, "
                  f"upload p95 {_ms(upload_p95)} ms, ratio {stream_p95 / upload_p95:.2f}")
        finally:
            if stack is not None:
                stack.stop()
                stack.kill_everything()
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()


if __name__ == "__main__":
    main()
