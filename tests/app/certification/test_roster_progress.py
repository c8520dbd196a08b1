"""HR's roster: requirements met toward the next level and last activity, on the page and in both CSVs."""
from __future__ import annotations

from sqlalchemy import select
import csv
import io
import re

from app.accounts.models import User
from app.certification import exports, queries, requirements
from app.extensions import db
from tests.support.team import complete_courses, exam_attempt
from tests.support.web import login_as


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_roster_shows_requirements_met_and_last_activity(app, client, content, make_user):
    learner = make_user("li", "learner", name="李明", cohort="A班")
    make_user("wang", "learner", name="王伟", cohort="A班")
    hr = make_user("hr1", "hr")
    with app.app_context():
        complete_courses(learner.id, 4)
        exam_attempt(learner.id, "quiz", 88)
        db.session.commit()
        standing = queries.standing(db.session.get(User, learner.id))
        met = sum(1 for r in standing.evaluation.requirements if r.met)
        total = len(standing.evaluation.requirements)
    login_as(client, hr)
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.get("/certification/records").get_data(as_text=True)
    li = re.search(r'<tr data-username="li">.*?</tr>', page, re.S).group(0)
    wang = re.search(r'<tr data-username="wang">.*?</tr>', page, re.S).group(0)
    assert f">{met} of {total}<" in li and met >= 2  # holds trainee + some courses done
    assert "not started" not in li and "not started" in wang
    assert 'id="export-roster-machine"' in page

    english = _rows(client.get("/certification/records.csv"))
    assert english[0] == ["Name", "Username", "Cohort", "Level", "Certificate status", "Issued", "Valid until",
                          "Requirements version", "Awaiting approval", "Next level", "Requirements met",
                          "Last activity"]
    li_line = next(line for line in english if line[1] == "li")
    assert li_line[3] == "Trainee" and li_line[9] == "Agent" and li_line[10] == f"{met} of {total}"
    assert li_line[11] and not next(line for line in english if line[1] == "wang")[11]
    with client.session_transaction() as session:
        session["lang"] = "zh_CN"
    chinese = _rows(client.get("/certification/records.csv"))
    assert chinese[0][:4] == ["姓名", "用户名", "批次", "等级"]
    assert next(line for line in chinese if line[1] == "li")[3] == "实习座席"

    machine = _rows(client.get("/certification/records.csv?format=machine"))
    assert machine[0] == exports.ROSTER_MACHINE_HEADER
    assert machine[0][:10] == ["username", "name", "cohort", "level", "level_zh", "certificate_status", "issued_at",
                               "expires_at", "requirement_version", "pending_approval"]  # the columns it always had
    li_machine = next(line for line in machine if line[0] == "li")
    assert li_machine[3] == "trainee" and li_machine[10] == "agent"
    assert li_machine[11:13] == [str(met), str(total)] and li_machine[13]


def test_pass_rates_read_in_one_batch_count_each_learners_graded_attempts(app, content, make_user):
    from tests.support.team import drill
    people = [make_user(f"p{n}", "learner", cohort="A" if n % 2 else "B") for n in range(4)]
    with app.app_context():
        for n, person in enumerate(people):
            for score in range(n):
                exam_attempt(person.id, "certification", 50 + 15 * score)
                drill(person.id, 55 + 12 * score, mode="voice" if score % 2 else "typed")
            exam_attempt(person.id, "quiz", 90)  # a quiz is no certification exam: not counted
        db.session.commit()
        rows = queries.roster()
        version = requirements.current_version()
        slugs = sorted({r.exam for level in requirements.spec_of(version).levels for r in level.requirements
                        if r.kind == "exam_passed"})
        expected: dict[str, list[int]] = {}
        from app.exams.models import ExamAttempt
        from app.roleplays.models import Attempt
        for row in rows:  # counted learner by learner, straight from the tables
            exams = [a for a in db.session.scalars(select(ExamAttempt).where(ExamAttempt.user_id == row.user.id))
                     if a.exam_slug in slugs and a.passed is not None]
            calls = [a for a in db.session.scalars(select(Attempt).where(Attempt.user_id == row.user.id))
                     if a.passed is not None]
            line = expected.setdefault(row.user.cohort, [0, 0, 0, 0, 0])
            line[0] += 1
            line[1] += len(exams)
            line[2] += sum(1 for a in exams if a.passed)
            line[3] += len(calls)
            line[4] += sum(1 for a in calls if a.passed)
        rates = {r.cohort: [r.people, r.exam_attempted, r.exam_passed, r.roleplay_attempted, r.roleplay_passed]
                 for r in queries.pass_rates(rows)}
    assert rates == expected and rates["A"][1] > 0 and rates["B"][3] > 0


def test_roster_query_count_does_not_grow_with_the_number_of_learners(app, client, content, make_user):
    from tests.app.team.test_gradebook import _learners_with_evidence, _statements
    login_as(client, make_user("hr1", "hr"))
    _learners_with_evidence(app, make_user, 0, 5)
    five = _statements(app, client, "/certification/records")
    five_csv = _statements(app, client, "/certification/records.csv")
    _learners_with_evidence(app, make_user, 5, 35)
    assert _statements(app, client, "/certification/records") == five
    assert _statements(app, client, "/certification/records.csv") == five_csv
