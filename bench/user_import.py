"""User import benchmark (prints figures; asserts nothing).

Serves the real app on 127.0.0.1 (threaded werkzeug server, a temporary SQLite database
unless BENCH_DATABASE_URL is set), logs in as an administrator over HTTP and uploads a
10,000-row cohort CSV to /admin/users/import exactly as the browser does. Prints the rows
per second of the whole request (upload, checks, hashing, inserts, the result page with the
password sheet) and checks that every account exists and that a temporary password from the
sheet is the real one.

Run: .venv/bin/python bench/user_import.py [ROWS]   (about 10 s on 2 cores)
"""
from __future__ import annotations

import base64
import csv
import io
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.stack import bench_app  # noqa: E402

from werkzeug.serving import make_server  # noqa: E402

PASSWORD = "bench-password-42"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
SHEET = re.compile(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"')


def build_app(tmp: Path):
    app = bench_app(tmp)
    with app.app_context():
        from app.accounts.services import create_user
        from app.extensions import db
        create_user("benchadmin", "Bench Admin", ("admin",), password=PASSWORD, must_change_password=False)
        db.session.commit()
    return app


def cohort_csv(rows: int) -> bytes:
    lines = ["username,name,email,cohort,roles"]
    lines += [f"imp{i:05d},学员{i:05d},imp{i:05d}@example.com,2026-bench,learner" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            http = requests.Session()
            token = CSRF.search(http.get(f"{base}/login").text).group(1)
            http.post(f"{base}/login", data={"username": "benchadmin", "password": PASSWORD, "csrf_token": token})
            token = CSRF.search(http.get(f"{base}/admin/users/import").text).group(1)
            data = cohort_csv(rows)
            started = time.perf_counter()
            response = http.post(f"{base}/admin/users/import", data={"csrf_token": token},
                                 files={"file": ("cohort.csv", data, "text/csv")})
            elapsed = time.perf_counter() - started
            sheet = list(csv.reader(io.StringIO(base64.b64decode(SHEET.search(response.text).group(1))
                                                .decode("utf-8-sig"))))
            with app.app_context():
                from app.accounts.models import User
                from app.extensions import db
                created = db.session.scalar(db.select(db.func.count(User.id)).where(User.username.like("imp%")))
                sample = db.session.scalar(db.select(User).filter_by(username=sheet[-1][0]))
                sample_ok = sample.check_password(sheet[-1][3])
        finally:
            server.shutdown()
    print(f"user import: {rows} rows in {elapsed:.2f} s over HTTP = {rows / elapsed:,.0f} rows/s "
          f"(status {response.status_code}, page {len(response.content) / 1e6:.1f} MB)")
    print(f"accounts created: {created}; password sheet rows: {len(sheet) - 1}; "
          f"a sheet password logs in: {sample_ok}")


if __name__ == "__main__":
    main()
