"""Team gradebook benchmark (prints figures; asserts nothing but that the pages answer 200).

Builds a temporary SQLite database (or the PostgreSQL database in BENCH_DATABASE_URL, which it
fills: use an empty scratch database), syncs the shipped content, then bulk-inserts LEARNERS
learners (default 1000) in 10 cohorts with realistic evidence: 0-6 courses completed, 0-8 graded
quiz attempts and 0-3 certification-exam attempts, 0-14 finished role-play calls (voice and typed),
lesson visits, and an agent certificate for about a fifth of them. Then it logs in as HR (who sees
everyone) and as a trainer of one cohort, and prints the median of RUNS requests of /team and
/team.csv (wall time and the process's CPU time, which a busy machine inflates less), with the number
of SQL statements each took. BENCH_ROSTER=1 also times HR's roster (/certification/records and its
CSV), once each.

Run: .venv/bin/python bench/gradebook.py [LEARNERS] [RUNS]   (about a minute on 2 idle cores)
"""
from __future__ import annotations

import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.stack import bench_app  # noqa: E402

PASSWORD = "bench-password-42"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
COHORTS = [f"2026-{letter}" for letter in "ABCDEFGHIJ"]


def build_app(tmp: Path):
    return bench_app(tmp, ROOT, WTF_CSRF_ENABLED=True)


def seed(app, learners: int, rng: random.Random) -> None:
    from sqlalchemy import insert, select

    from app.accounts.models import User, UserRole, temporary_password_hash

    from app.core.clock import utcnow
    from app.accounts.services import create_user
    from app.certification.models import Certificate, RequirementVersion
    from app.courses.models import Course, CourseProgress, LessonProgress
    from app.exams.models import GRADED, Exam, ExamAttempt
    from app.extensions import db
    from app.roleplays.models import ENDED, Attempt, Scenario

    with app.app_context():
        create_user("benchhr", "Bench HR", ("hr",), password=PASSWORD, must_change_password=False)
        create_user("benchtrainer", "Bench Trainer", ("trainer",), cohort=COHORTS[0], password=PASSWORD,
                    must_change_password=False)
        db.session.commit()
        now = utcnow()
        password = temporary_password_hash(secrets.token_urlsafe(16))
        first = (db.session.scalar(select(db.func.max(User.id))) or 0) + 1
        db.session.execute(insert(User), [
            {"id": first + i, "username": f"bench{i:05d}", "name": f"学员{i:05d}", "cohort": COHORTS[i % len(COHORTS)],
             "password_hash": password, "active": True, "must_change_password": False, "session_version": 1,
             "created_at": now - timedelta(days=90)} for i in range(learners)])
        db.session.execute(insert(UserRole), [{"user_id": first + i, "role": "learner"} for i in range(learners)])
        courses = db.session.scalars(select(Course).order_by(Course.order)).all()
        quizzes = db.session.scalars(select(Exam).where(Exam.kind == "quiz")).all()
        certs = db.session.scalars(select(Exam).where(Exam.kind == "certification")).all()
        scenarios = [s for s in db.session.scalars(select(Scenario)).all() if s.current_version is not None]
        version = db.session.scalar(select(RequirementVersion).where(RequirementVersion.is_current.is_(True)))
        course_rows, lesson_rows, exam_rows, call_rows, certificate_rows = [], [], [], [], []
        for i in range(learners):
            user_id = first + i
            start = now - timedelta(days=rng.randint(1, 80))
            for course in courses[:rng.randint(0, len(courses))]:
                done = start + timedelta(hours=rng.randint(1, 400))
                course_rows.append({"user_id": user_id, "course_id": course.id, "started_at": start,
                                    "completed_at": done, "quiz_score": rng.uniform(60, 100)})
                for lesson in course.lessons:
                    lesson_rows.append({"user_id": user_id, "lesson_id": lesson.id, "first_visited_at": start,
                                        "last_visited_at": done, "last_time_report_at": done,
                                        "seconds_spent": rng.randint(60, 900), "completed_at": done})
            numbers: dict[str, int] = {}
            for exam in rng.sample(quizzes, k=min(len(quizzes), rng.randint(0, 8))) + \
                    [rng.choice(certs) for _ in range(rng.randint(0, 3))]:
                numbers[exam.slug] = numbers.get(exam.slug, 0) + 1
                score = round(rng.uniform(35, 100), 1)
                graded = start + timedelta(hours=rng.randint(1, 600))
                exam_rows.append({"user_id": user_id, "exam_id": exam.id, "exam_slug": exam.slug,
                                  "exam_kind": exam.kind, "number": numbers[exam.slug], "status": GRADED,
                                  "started_at": graded - timedelta(minutes=20), "deadline": graded,
                                  "closed_at": graded, "closed_reason": "submitted", "graded_at": graded,
                                  "pass_mark": exam.pass_mark, "show_answers": exam.show_answers, "paper": [],
                                  "earned": score, "possible": 100.0, "score": score,
                                  "passed": score >= exam.pass_mark})
            for _ in range(rng.randint(0, 14)):
                scenario = rng.choice(scenarios)
                current = scenario.current_version
                score = round(rng.uniform(30, 100), 1)
                finished = start + timedelta(hours=rng.randint(1, 600))
                call_rows.append({"user_id": user_id, "scenario_id": scenario.id, "version_id": current.id,
                                  "mode": rng.choice(("voice", "voice", "typed")), "status": ENDED,
                                  "language": current.language, "difficulty": current.difficulty, "node_id": "end",
                                  "anger": 1, "consecutive_poor": 0, "call_items": [], "ending": "resolved",
                                  "earned": score, "possible": 100.0, "score": score,
                                  "passed": score >= current.pass_mark, "started_at": finished - timedelta(minutes=6),
                                  "answered_at": finished - timedelta(minutes=6), "last_activity_at": finished,
                                  "finished_at": finished, "require_voice": False})
            if version is not None and rng.random() < 0.2:
                issued = start + timedelta(days=rng.randint(1, 30))
                certificate_rows.append({"user_id": user_id, "level": "agent", "status": "active",
                                         "version_id": version.id, "requirement_version": version.version,
                                         "evidence": {}, "evidence_key": "bench", "code": secrets.token_urlsafe(16),
                                         "created_at": issued, "issued_at": issued,
                                         "expires_at": issued + timedelta(days=365), "status_changed_at": issued,
                                         "holder_name": f"学员{i:05d}"})
        for model, rows in ((CourseProgress, course_rows), (LessonProgress, lesson_rows), (ExamAttempt, exam_rows),
                            (Attempt, call_rows), (Certificate, certificate_rows)):
            for begin in range(0, len(rows), 2000):
                db.session.execute(insert(model), rows[begin:begin + 2000])
        db.session.commit()
        print(f"seeded {learners} learners: {len(course_rows)} completed courses, {len(lesson_rows)} lesson visits, "
              f"{len(exam_rows)} graded exam attempts, {len(call_rows)} finished calls, "
              f"{len(certificate_rows)} certificates")


def login(client, username: str) -> None:
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (302, 303), response.status_code


def measure(app, client, url: str, runs: int) -> tuple[float, float, int, int]:
    from sqlalchemy import event

    from app.extensions import db
    with app.app_context():
        engine = db.engine
    statements = 0

    def count(*_args, **_kwargs):
        nonlocal statements
        statements += 1

    times, cpu = [], []
    size = 0
    for run in range(runs + 1):
        statements = 0
        event.listen(engine, "before_cursor_execute", count)
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.data)
        if run or runs == 1:  # the first request warms caches (templates, the certification spec)
            times.append(elapsed)
            cpu.append(elapsed_cpu)
    return statistics.median(times), statistics.median(cpu), statements, size


def main() -> None:
    learners = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        app = build_app(Path(folder))
        seed(app, learners, random.Random(16))
        print(f"set-up: {time.perf_counter() - started:.1f} s "
              f"({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})")
        print(f"load average before measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        plan = [("benchhr", url, runs) for url in ("/team", "/team.csv", "/team.csv?format=machine")]
        plan += [("benchtrainer", url, runs) for url in ("/team", "/team.csv")]
        if os.environ.get("BENCH_ROSTER") == "1":
            plan += [("benchhr", url, 1) for url in ("/certification/records", "/certification/records.csv")]
        clients = {}
        for username, url, count in plan:
            if username not in clients:
                clients[username] = app.test_client()
                login(clients[username], username)
            median, cpu, statements, size = measure(app, clients[username], url, count)
            print(f"{username:13s} {url:28s} median {median * 1000:6.0f} ms wall, {cpu * 1000:6.0f} ms CPU "
                  f"over {count} runs, {statements:5d} SQL statements, {size / 1024:5.0f} KiB")


if __name__ == "__main__":
    main()
