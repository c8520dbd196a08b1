"""The team gradebook (/team): columns, evidence links, cohort scoping, filter, search, sort, CSV."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import event

from app.certification import operations, queries, requirements
from app.certification.batch import ladder_summaries
from app.extensions import db
from app.team import services as team
from tests.support.team import complete_courses, drill, exam_attempt
from tests.support.web import login_as


def _row(page: str, username: str) -> str:
    match = re.search(rf'<tr data-username="{username}">.*?</tr>', page, re.S)
    assert match, f"no row for {username}"
    return match.group(0)


def _usernames(page: str) -> list[str]:
    return re.findall(r'<tr data-username="([^"]+)">', page)


@pytest.fixture
def cohorts(app, content, make_user):
    """Trainer of cohort A; li (A) with evidence, wang (A) without, zhao (B) with some; HR; a learner."""
    people = {
        "trainer": make_user("coach", "trainer", cohort="A"),
        "li": make_user("li", "learner", name="李明", cohort="A"),
        "wang": make_user("wang", "learner", name="王伟", cohort="A"),
        "zhao": make_user("zhao", "learner", name="赵磊", cohort="B"),
        "hr": make_user("hr1", "hr"),
    }
    ids = {}
    with app.app_context():
        li = people["li"].id
        ids["courses"] = complete_courses(li, 2)
        exam_attempt(li, "quiz", 80)
        ids["quiz"] = exam_attempt(li, "quiz", 90)
        ids["exam"] = exam_attempt(li, "certification", 75)
        ids["drill"] = drill(li, 85, mode="voice")
        drill(li, 72, mode="typed")
        exam_attempt(people["zhao"].id, "quiz", 60)
        db.session.commit()
    people["ids"] = ids
    return people


def test_columns_show_each_learners_evidence_and_link_to_it(app, client, cohorts):
    login_as(client, cohorts["trainer"])
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.get("/team").get_data(as_text=True)
    li = _row(page, "li")
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", li, re.S)
    text = [re.sub(r"<[^>]+>", " ", cell).split() for cell in cells]
    assert text[0][:2] == ["李明", "li"] and text[1] == ["A"]
    assert text[2] == ["2"]  # courses completed
    assert text[3] == ["90%"]  # best quiz score of two attempts
    assert text[4] == ["75%"]  # best certification exam score
    assert text[5] == ["85"]  # best drill
    assert text[6] == ["1", "(+1", "typed)"]  # voice passes, and the typed ones beside them
    assert text[7] == ["Trainee"]
    with app.app_context():
        summary = ladder_summaries([cohorts["li"].id])[cohorts["li"].id]
    assert summary.total > 0 and text[8] == [str(summary.met), "of", str(summary.total)]
    # Every cell leads to its evidence: the attempts themselves (a trainer may open them) or the learner's page.
    assert f'href="/exams/attempts/{cohorts["ids"]["quiz"]}/result"' in li
    assert f'href="/exams/attempts/{cohorts["ids"]["exam"]}/result"' in li
    assert f'href="/roleplays/attempts/{cohorts["ids"]["drill"]}/report"' in li
    assert f'href="/team/learners/{cohorts["li"].id}#courses"' in li
    wang = _row(page, "wang")
    assert "—" in wang and ">0<" in wang  # no evidence: dashes and zeros, not errors
    evidence = client.get(f"/team/learners/{cohorts['li'].id}").get_data(as_text=True)
    assert f'/exams/attempts/{cohorts["ids"]["quiz"]}/result' in evidence
    assert f'/roleplays/attempts/{cohorts["ids"]["drill"]}/report' in evidence
    assert 'id="courses"' in evidence and 'id="certification"' in evidence


def test_trainers_see_their_own_cohorts_hr_everyone_learners_nobody(app, client, cohorts, make_user, monkeypatch):
    login_as(client, cohorts["trainer"])
    page = client.get("/team").get_data(as_text=True)
    assert _usernames(page) == ["li", "wang"]  # by name: 李明, 王伟; zhao (cohort B) is not theirs
    assert 'value="B"' not in page  # nor offered as a filter
    assert _usernames(client.get("/team?cohort=B").get_data(as_text=True)) == []
    assert client.get(f"/team/learners/{cohorts['zhao'].id}").status_code == 404
    assert "zhao" not in client.get("/team.csv").data.decode("utf-8-sig")
    monkeypatch.setitem(app.config, "TEAM_TRAINERS_SEE_ALL", True)
    assert "zhao" in _usernames(client.get("/team").get_data(as_text=True))

    monkeypatch.setitem(app.config, "TEAM_TRAINERS_SEE_ALL", False)
    hr = app.test_client()
    login_as(hr, cohorts["hr"])
    everyone = hr.get("/team").get_data(as_text=True)
    assert set(_usernames(everyone)) == {"li", "wang", "zhao"}
    # HR cannot open attempts: the level cell leads to the certification record instead.
    assert f'href="/certification/records/{cohorts["li"].id}"' in _row(everyone, "li")
    assert "/exams/attempts/" not in _row(everyone, "li")

    learner = app.test_client()
    login_as(learner, cohorts["li"])
    for url in ("/team", "/team.csv", f"/team/learners/{cohorts['li'].id}"):
        assert learner.get(url).status_code == 403

    several = make_user("coach2", "trainer", cohort="A, B")
    both = app.test_client()
    login_as(both, several)
    assert set(_usernames(both.get("/team").get_data(as_text=True))) == {"li", "wang", "zhao"}
    nobody = app.test_client()
    login_as(nobody, make_user("coach3", "trainer"))
    with nobody.session_transaction() as session:
        session["lang"] = "en"
    empty = nobody.get("/team").get_data(as_text=True)
    assert _usernames(empty) == [] and "Your account has no cohort yet" in empty


def test_filter_by_cohort_search_by_name_and_sort(app, client, cohorts):
    hr = cohorts["hr"]
    login_as(client, hr)
    assert _usernames(client.get("/team?cohort=B").get_data(as_text=True)) == ["zhao"]
    assert _usernames(client.get("/team?q=王").get_data(as_text=True)) == ["wang"]
    assert _usernames(client.get("/team?q=LI").get_data(as_text=True)) == ["li"]  # username, any case
    nothing = client.get("/team?q=nobody-like-this").get_data(as_text=True)
    assert _usernames(nothing) == [] and 'id="gradebook-empty"' in nothing
    # Best quiz, highest first; a learner without a quiz comes last whichever the direction.
    assert _usernames(client.get("/team?sort=quiz&dir=desc").get_data(as_text=True)) == ["li", "zhao", "wang"]
    assert _usernames(client.get("/team?sort=quiz&dir=asc").get_data(as_text=True)) == ["zhao", "li", "wang"]
    assert _usernames(client.get("/team?sort=courses&dir=desc").get_data(as_text=True))[0] == "li"
    assert _usernames(client.get("/team?sort=activity&dir=desc").get_data(as_text=True))[-1] == "wang"
    page = client.get("/team?sort=quiz&dir=desc").get_data(as_text=True)
    assert 'aria-sort="descending" data-column="quiz"' in page
    # The header link flips the direction; unknown sort keys fall back to the name.
    assert "sort=quiz&amp;dir=asc" in page
    assert client.get("/team?sort=password&dir=sideways").status_code == 200


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_has_a_bom_and_headings_in_the_ui_language_and_a_machine_variant(app, client, cohorts):
    login_as(client, cohorts["trainer"])
    with client.session_transaction() as session:
        session["lang"] = "en"
    english = _csv(client.get("/team.csv?sort=name"))
    assert english[0][:4] == ["Name", "Username", "Cohort", "Courses completed"]
    assert english[0][-3:] == ["Level", "Requirements met", "Last activity"]
    li = next(line for line in english if line[1] == "li")
    assert li[0] == "李明" and li[3] == "2" and li[4] == "90.0" and li[5] == "75.0" and li[6] == "85.0"
    assert re.fullmatch(r"\d+ of \d+", li[10])  # never "3/5": Excel would make it a date
    with client.session_transaction() as session:
        session["lang"] = "zh_CN"
    chinese = _csv(client.get("/team.csv"))
    assert chinese[0][:3] == ["姓名", "用户名", "批次"] and chinese[0][9] == "等级"
    assert [line[1] for line in chinese[1:]] == ["li", "wang"]
    filtered = _csv(client.get("/team.csv?q=王"))
    assert [line[1] for line in filtered[1:]] == ["wang"]
    machine = _csv(client.get("/team.csv?format=machine"))
    assert machine[0] == team.MACHINE_HEADER
    li = next(line for line in machine if line[0] == "li")
    assert li[9] == "trainee" and li[10].isdigit() and li[11].isdigit() and li[12].endswith("Z")


def test_csv_cells_cannot_run_as_formulas(app, client, content, make_user):
    trainer = make_user("coach", "trainer", cohort="A")
    make_user("evil", "learner", name='=HYPERLINK("http://x","y")', cohort="A")
    login_as(client, trainer)
    text = client.get("/team.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def _statements(app, client, url: str) -> int:
    count = 0

    def counter(*_args, **_kwargs):
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200
    return count


def _learners_with_evidence(app, make_user, start: int, count: int) -> None:
    for number in range(start, start + count):
        user = make_user(f"learner{number:03d}", "learner", cohort="A")
        with app.app_context():
            complete_courses(user.id, 1 + number % 3)
            exam_attempt(user.id, "quiz", 50 + number % 50)
            exam_attempt(user.id, "certification", 40 + number % 60)
            drill(user.id, 60 + number % 40, mode="voice" if number % 2 else "typed")
            db.session.commit()


def test_query_count_does_not_grow_with_the_number_of_learners(app, client, content, make_user):
    trainer = make_user("coach", "trainer", cohort="A")
    login_as(client, trainer)
    _learners_with_evidence(app, make_user, 0, 5)
    five = _statements(app, client, "/team")
    five_csv = _statements(app, client, "/team.csv")
    _learners_with_evidence(app, make_user, 5, 35)
    assert len(_usernames(client.get("/team").get_data(as_text=True))) == 40
    assert _statements(app, client, "/team") == five
    assert _statements(app, client, "/team.csv") == five_csv


def test_ladder_in_the_gradebook_matches_the_certification_page(app, client, cohorts):
    """Requirements met comes from the batched variant; it must say what services.standing says."""
    with app.app_context():
        from app.accounts.models import User
        from app.core.clock import utcnow
        from app.certification.models import ACTIVE, Certificate
        version = requirements.current_version()
        now = utcnow()
        # zhao holds the agent level: the next level (senior) is the one counted.
        db.session.add(Certificate(user_id=cohorts["zhao"].id, level="agent", status=ACTIVE, version_id=version.id,
                                   requirement_version=version.version, evidence={}, evidence_key="test",
                                   code="test-code-zhao", created_at=now, issued_at=now, status_changed_at=now,
                                   expires_at=operations.add_months(now, 12), holder_name="赵磊"))
        db.session.commit()
        assert ladder_summaries([cohorts["zhao"].id])[cohorts["zhao"].id].next_level == "senior"
        for key in ("li", "wang", "zhao"):
            user = db.session.get(User, cohorts[key].id)
            standing = queries.standing(user)
            summary = ladder_summaries([user.id])[user.id]
            assert summary.level == standing.current_level
            assert summary.total == len(standing.evaluation.requirements)
            assert summary.met == sum(1 for r in standing.evaluation.requirements if r.met)
