"""A production-mode stack on 127.0.0.1, for bench/load.py and tests/production (real processes).

- a private redis-server (its own port, --save "" so nothing is persisted: a restart loses
  every queued job, the worst case the sweeper must cover); the machine's Redis is never touched;
- a database: a throwaway PostgreSQL database created on the given server (dropped at the
  end) or a SQLite file; migrated, the shipped content plus the Korean test scenario synced,
  trainee accounts made;
- gunicorn (gunicorn.conf.py, wsgi:app) and `flask jobs worker` with REDIS_URL set, each in
  its own process group so stop() kills everything they started;
- Trainee: one browser session doing voice drills over HTTP as the call screen (static/js/drill/) does (login, state,
  the customer's line, POST the reply → 202 queued → poll state?turn=ID until graded, report).
"""
from __future__ import annotations

import io
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import wave
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
SLUG = "ko-thanks-for-waiting"
KO_SCENARIO = ROOT / "tests" / "fixtures" / "roleplays" / f"{SLUG}.yaml"
# The reply for each node of the Korean scenario on the resolved path.
REPLIES = {
    "opening": "안녕하세요 기다려 주셔서 감사합니다",
    # The small Korean model, listening for the whole scenario's phrases, hears this phrasing of the
    # apology reliably (its "확인해 드리겠습니다" comes out as "기다려 드리겠습니다").
    "order": "죄송합니다 확인하겠습니다",
    "thanks": "감사합니다 기다려 주셔서 감사합니다",
    # Reached when a reply is misheard (free decoding hears more freely than a grammar does).
    "upset": "죄송합니다 기다려 주셔서 감사합니다",
}


def bench_app(tmp: Path, content: Path | None = None, **config):
    """A migrated app for the in-process benchmarks: the database BENCH_DATABASE_URL names (or a SQLite
    file in tmp), every folder under tmp; with ``content``, that content tree synced."""
    from flask_migrate import upgrade

    from app import create_app
    from app.content.services import sync_content

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": "bench-only", "DATA_DIR": str(tmp), "UPLOAD_DIR": str(tmp / "uploads"),
        "RECORDINGS_DIR": str(tmp / "recordings"), "AUDIO_CACHE_DIR": str(tmp / "audio-cache"),
        "VOSK_MODEL_DIR": str(tmp / "models"), **config,
    })
    with app.app_context():
        upgrade(revision="heads")
        if content is not None:
            sync_content(content)
    return app


def reply_audio(audio: dict[str, tuple[bytes, float]], node: str | None) -> tuple[bytes, float]:
    """The spoken reply for a node; a node the bench has no words for gets the first reply (an
    off-path reply still exercises recognition and grading)."""
    return audio.get(node) or next(iter(audio.values()))
PASSWORD = "stack-password-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def speak(folder: Path, text: str, repeat: int = 1) -> tuple[bytes, float]:
    """Korean speech from espeak-ng as the browser sends it (16 kHz mono PCM16 WAV); (bytes, seconds)."""
    name = f"{abs(hash((text, repeat)))}"
    raw, out = folder / f"{name}.wav", folder / f"{name}-16k.wav"
    if not out.exists():
        # espeak-ng's default rate, as the voice tests speak: the small model hears it best.
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), " ".join([text] * repeat)],
                       check=True, capture_output=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True,
                       capture_output=True)
    data = out.read_bytes()
    return data, (len(data) - 44) / 32000


def children_of(pid: int) -> list[int]:
    """Direct child processes of pid (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def pss_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB from /proc/<pid>/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("Rss:", "Pss:"):
            values[parts[0]] = int(parts[1])
    return values.get("Rss:", 0), values.get("Pss:", 0)


def _kill_group(process: subprocess.Popen, sig=signal.SIGTERM, wait: float = 10.0) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(wait)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(5)


class Database:
    """A throwaway PostgreSQL database on server_url's server, or a SQLite file under folder."""

    def __init__(self, folder: Path, server_url: str | None, name: str | None = None):
        self.server_url = server_url
        if server_url:
            self.name = name or f"academy_stack_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            base = server_url.replace("postgresql+psycopg://", "postgresql://")
            self.url = base.rsplit("/", 1)[0] + "/" + self.name
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            self._admin("CREATE DATABASE {}")
        else:
            self.name = None
            self.url = f"sqlite:///{folder / 'academy.db'}"

    @property
    def dialect(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    def _admin(self, statement: str) -> None:
        import psycopg
        import psycopg.sql
        base = self.server_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(statement.format(psycopg.sql.Identifier(self.name).as_string(conn)))

    def drop(self) -> None:
        if self.server_url:
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")


@dataclass
class Stack:
    """Everything production mode runs, on 127.0.0.1, under folder."""

    folder: Path
    database_url: str
    web_workers: int = 2
    web_threads: int = 1  # 1: gunicorn's sync workers (see gunicorn.conf.py)
    job_processes: int = 1
    settings: dict = field(default_factory=dict)  # extra environment (GRADING_CLAIM_TIMEOUT, ...)
    queue: bool = True  # False: no REDIS_URL, replies are graded inside the web request
    redis_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)

    def __post_init__(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.data = self.folder / "data"
        self.logs = self.folder / "logs"
        self.logs.mkdir(exist_ok=True)
        self.redis: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.jobs: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"

    # --- configuration --------------------------------------------------------------------

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "DATABASE_", "GUNICORN_"))}
        env.update({
            "FLASK_APP": "wsgi", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
            "ACADEMY_DATA_DIR": str(self.data), "SECRET_KEY": "stack-secret-not-for-production",
            "WEB_CONCURRENCY": str(self.web_workers), "GUNICORN_THREADS": str(self.web_threads),
            "GUNICORN_BIND": f"127.0.0.1:{self.web_port}", "GUNICORN_GRACEFUL_TIMEOUT": "10",
            "JOBS_PROCESSES": str(self.job_processes),
        })
        env.pop("TEST_DATABASE_URL", None)
        if not self.queue:
            env.pop("REDIS_URL")
        env.update({k: str(v) for k, v in self.settings.items()})
        return env

    def app_config(self) -> dict:
        url = self.database_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
                "SECRET_KEY": "stack-secret-not-for-production", "DATA_DIR": str(self.data),
                "UPLOAD_DIR": str(self.data / "uploads"), "RECORDINGS_DIR": str(self.data / "recordings"),
                "AUDIO_CACHE_DIR": str(self.data / "audio-cache"), "VOSK_MODEL_DIR": str(self.data / "models"),
                "REDIS_URL": self.redis_url}

    # --- set-up ---------------------------------------------------------------------------

    def prepare(self, usernames: list[str], audio_cache: Path | None = None) -> None:
        """Migrate, sync the shipped content plus the Korean scenario, make the trainees (in-process)."""
        from flask_migrate import upgrade

        from app import create_app
        from app.accounts.services import create_user
        from app.content.services import sync_content
        from app.extensions import db

        if audio_cache is not None and audio_cache.is_dir():
            shutil.copytree(audio_cache, self.data / "audio-cache", dirs_exist_ok=True)
        content = self.folder / "content"
        for name in ("courses", "exams", "roleplays"):
            shutil.copytree(ROOT / name, content / name, dirs_exist_ok=True)
        shutil.copy(KO_SCENARIO, content / "roleplays" / KO_SCENARIO.name)
        app = create_app(self.app_config())
        with app.app_context():
            upgrade(revision="heads")
            sync_content(content)
            for name in usernames:
                create_user(name, name, ("learner",), password=PASSWORD, must_change_password=False)
            db.session.commit()
            for engine in db.engines.values():
                engine.dispose()
        self.app = app

    # --- processes ------------------------------------------------------------------------

    def start_redis(self) -> None:
        log = (self.logs / "redis.log").open("ab")
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        import redis
        while True:
            try:
                redis.Redis(port=self.redis_port, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline or self.redis.poll() is not None:
                    raise RuntimeError(f"redis-server did not start: {(self.logs / 'redis.log').read_text()}")
                time.sleep(0.05)

    def stop_redis(self) -> None:
        if self.redis is not None:
            _kill_group(self.redis, signal.SIGTERM)
            self.redis = None

    def restart_redis(self, down_seconds: float = 0.5) -> None:
        self.stop_redis()
        time.sleep(down_seconds)
        self.start_redis()

    def start(self, usernames: list[str]) -> None:
        """Redis, then gunicorn and the worker starting while the database is prepared in-process."""
        self.start_redis()
        self.launch_web()
        self.launch_jobs()
        self.prepare(usernames)
        self.wait_web()
        self.wait_jobs()

    def launch_web(self) -> None:
        log = (self.logs / "web.log").open("ab")
        self.web = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")],
                                    cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def wait_web(self, timeout: float = 60) -> None:
        self._wait(lambda: requests.get(f"{self.base}/healthz", timeout=2).status_code == 200
                   and len(children_of(self.web.pid)) >= self.web_workers, timeout, "gunicorn", "web.log",
                   self.web)

    def start_web(self, timeout: float = 60) -> None:
        self.launch_web()
        self.wait_web(timeout)

    def launch_jobs(self, extra_args: list[str] | None = None) -> None:
        log = (self.logs / "jobs.log").open("ab")
        self.jobs = subprocess.Popen([str(VENV_BIN / "flask"), "jobs", "worker", *(extra_args or [])], cwd=ROOT,
                                     env=self.env(),
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_jobs(self, timeout: float = 90) -> None:
        import redis
        from rq import Worker
        connection = redis.Redis(port=self.redis_port)
        self._wait(lambda: len(Worker.all(connection=connection)) >= self.job_processes, timeout,
                   "flask jobs worker", "jobs.log", self.jobs)

    def start_jobs(self, timeout: float = 90) -> None:
        self.launch_jobs()
        self.wait_jobs(timeout)

    def _wait(self, ready, timeout: float, what: str, log: str, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ready():
                    return
            except Exception:  # noqa: BLE001 - not up yet
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start:\n{(self.logs / log).read_text()[-4000:]}")
            time.sleep(0.1)

    def web_workers_pids(self) -> list[int]:
        return children_of(self.web.pid)

    def job_worker_pids(self) -> list[int]:
        return children_of(self.jobs.pid)

    def busy_job_worker(self) -> tuple[int, str] | None:
        """(pid, job id) of a grading worker in the middle of a job, as RQ reports it, or None."""
        import redis
        from rq import Worker
        for worker in Worker.all(connection=redis.Redis(port=self.redis_port)):
            job_id = worker.get_current_job_id()
            if job_id and worker.pid in self.job_worker_pids():
                return worker.pid, job_id
        return None

    def stop(self) -> None:
        """Stop everything: the worker warm (the job in hand finishes), gunicorn at once (SIGINT)."""
        if self.jobs is not None:
            _kill_group(self.jobs, signal.SIGTERM, wait=15)
        if self.web is not None:
            _kill_group(self.web, signal.SIGINT, wait=2)  # then SIGKILL: nothing to lose in a web process
        self.stop_redis()

    def kill_everything(self) -> None:
        for process in (self.jobs, self.web, self.redis):
            if process is not None and process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(5)


# --- a trainee --------------------------------------------------------------------------------

@dataclass
class TurnRecord:
    turn_id: int | None
    posted_at: float          # wall clock (time.time()) when the finished utterance was POSTed
    feedback_at: float | None  # wall clock when the client had the graded feedback
    status: int                # HTTP status of the POST
    node: str


class Trainee:
    """One browser session doing voice drills through the HTTP API, as the call screen (static/js/drill/) does."""

    CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

    def __init__(self, base: str, username: str, audio: dict[str, tuple[bytes, float]], *,
                 poll_seconds: float = 0.1, on_http=None):
        self.base, self.audio, self.poll_seconds = base, audio, poll_seconds
        self.on_http = on_http or (lambda status, path: None)
        self.http = requests.Session()
        self.username = username
        self.attempt: int | None = None
        self.node: str | None = None
        self.line_seconds = 0.0
        self.records: list[TurnRecord] = []
        self.errors = 0
        self.failures: list[str] = []  # what each error was

    def _request(self, method: str, path: str, **kwargs) -> requests.Response | None:
        """One request; connection errors and 5xx count as errors (None / the response)."""
        kwargs.setdefault("timeout", 30)
        try:
            response = self.http.request(method, self.base + path, **kwargs)
        except requests.RequestException as exc:
            self.errors += 1
            self.failures.append(f"{method} {path}: {type(exc).__name__}")
            self.on_http(0, path)
            return None
        self.on_http(response.status_code, path)
        if response.status_code >= 500:
            self.errors += 1
            self.failures.append(f"{method} {path}: {response.status_code}")
        return response

    def login(self) -> None:
        page = self._request("GET", "/login")
        token = self.CSRF.search(page.text).group(1)
        self._request("POST", "/login", data={"username": self.username, "password": PASSWORD, "csrf_token": token})
        self.token = self.CSRF.search(self._request("GET", "/roleplays/").text).group(1)

    def new_call(self) -> None:
        response = self._request("POST", f"/roleplays/{SLUG}/start", data={"mode": "voice", "csrf_token": self.token},
                                 allow_redirects=False)
        self.attempt = int(re.search(r"/attempts/(\d+)/", response.headers["Location"]).group(1))
        self._request("GET", f"/roleplays/attempts/{self.attempt}/call")
        state = self._request("POST", f"/api/roleplays/attempts/{self.attempt}/answer", json={"rings": 1},
                              headers={"X-CSRFToken": self.token}).json()
        self._listen(state)

    def _listen(self, state: dict) -> None:
        """Fetch the customer's line (its audio) and remember how long it plays."""
        self.node = state["node"]["id"]
        url = state["node"].get("audio_url")
        self.line_seconds = 0.0
        if url:
            audio = self._request("GET", url)
            if audio is not None and audio.status_code == 200:
                with wave.open(io.BytesIO(audio.content)) as line:
                    self.line_seconds = line.getnframes() / line.getframerate()

    def turn(self, deadline: float = 120.0) -> TurnRecord:
        """Speak the reply for the current node: POST it, then poll until its feedback is there."""
        if self.attempt is None:
            self.new_call()
        node = self.node
        wav, _seconds = reply_audio(self.audio, node)
        posted = time.time()
        response = self._request("POST", f"/api/roleplays/attempts/{self.attempt}/turns",
                                 files={"audio": ("reply.wav", wav, "audio/wav")},
                                 data={"speech_ended_ms": str(int(posted * 1000))},
                                 headers={"X-CSRFToken": self.token})
        status = response.status_code if response is not None else 0
        record = TurnRecord(None, posted, None, status, node)
        self.records.append(record)
        if response is None or status not in (200, 202):
            if response is not None:
                detail = response.text[:120]
                if status == 409:  # what the server thinks the call is doing
                    server = self._request("GET", f"/api/roleplays/attempts/{self.attempt}/state")
                    if server is not None and server.status_code == 200:
                        state = server.json()
                        detail = (f"server: {state['status']} at {state['node']['id']}, turns "
                                  f"{[(t['id'], t['node_id'], t['status']) for t in state['turns']]}")
                self.failures.append(f"POST turn at {node} (attempt {self.attempt}): {status} {detail}")
            self.attempt = self.node = None  # start afresh (the trainee reloads the page)
            return record
        body = response.json()
        if status == 202 and body.get("status") == "queued":
            record.turn_id = body["turn_id"]
            give_up = time.monotonic() + deadline
            while time.monotonic() < give_up:
                time.sleep(self.poll_seconds)
                polled = self._request("GET", body["state_url"])
                if polled is None or polled.status_code != 200:
                    continue
                data = polled.json()
                if "turn_result" in data:
                    body = data["turn_result"]
                    break
            else:
                self.failures.append(f"turn {record.turn_id}: no feedback after {deadline:.0f} s")
                self.attempt = self.node = None
                return record
        elif status == 200:
            record.turn_id = body["turn"]["id"]
        else:
            self.attempt = self.node = None
            return record
        record.feedback_at = time.time()
        state = body["state"]
        if state["ended"]:
            self._request("GET", state["report_url"])
            self.attempt = self.node = None
        else:
            self._listen(state)
        return record


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_trainees(trainees: list[Trainee], seconds: float | None = None, turns: int | None = None,
                 think=lambda trainee: 0.0, stagger: float = 0.0) -> float:
    """Run every trainee in its own thread for `seconds` or `turns` turns; returns the wall time.

    stagger: each trainee starts after a random delay up to that many seconds (people do not
    all finish speaking at the same instant).
    """
    stop_at = time.monotonic() + seconds if seconds else None

    def drill(trainee: Trainee) -> None:
        done = 0
        if stagger:
            time.sleep(random.uniform(0, stagger))
        while (stop_at is None or time.monotonic() < stop_at) and (turns is None or done < turns):
            try:
                trainee.turn()
            except Exception as exc:  # noqa: BLE001 - a broken answer counts as an error, the drill goes on
                trainee.errors += 1
                trainee.failures.append(f"{type(exc).__name__}: {exc}"[:300])
                trainee.attempt = trainee.node = None
            done += 1
            pause = think(trainee)
            if pause and (turns is None or done < turns):
                time.sleep(pause)

    started = time.monotonic()
    threads = [threading.Thread(target=drill, args=(t,), daemon=True) for t in trainees]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


if __name__ == "__main__":  # pragma: no cover - a manual smoke run
    print("use bench/load.py", file=sys.stderr)
