"""Issue 19, item 4: evidence that arrived faster than a person could produce it is stored and shown
to HR on the person's record and to trainers on the sign-off page. Any domain reports it through
app.core.events.evidence_too_fast, so certification imports none of them (role-plays report calls
the same way)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.certification.models import EvidenceFlag
from app.core import events
from app.extensions import db
from tests.support.web import login_as


def report(app, user_id: int, **details) -> None:
    with app.app_context():
        events.evidence_too_fast.send(user_id, **details)
        db.session.commit()


def test_reports_are_stored_once_and_shown_to_hr_and_trainers_only(app, make_user, shipped_rules):
    learner = make_user("speedy", "learner", name="快快")
    calm = make_user("calm", "learner", name="慢慢")
    report(app, learner.id, kind="lesson", subject="call-centre-basics/01-what-is-a-call-centre",
           seconds=2.0, minimum_seconds=180.0)
    report(app, learner.id, kind="lesson", subject="call-centre-basics/01-what-is-a-call-centre",
           seconds=4.0, minimum_seconds=180.0)  # the same lesson again: one flag
    report(app, learner.id, kind="exam", subject="cert-agent", ref_id=7, seconds=5.0, minimum_seconds=75.0,
           detail={"questions": 15})
    report(app, learner.id, kind="call", subject="angry-broadband", ref_id=3, seconds=1.0, minimum_seconds=30.0)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EvidenceFlag)) == 3

    hr = app.test_client()
    login_as(hr, make_user("hr-wang", "hr"))
    page = hr.get(f"/certification/records/{learner.id}").get_data(as_text=True)
    section = page[page.index('id="evidence-flags"'):]
    section = section[:section.index("</section>")]
    assert section.count('class="evidence-flag"') == 3
    for subject in ("call-centre-basics/01-what-is-a-call-centre", "cert-agent", "angry-broadband"):
        assert subject in section
    assert 'data-kind="call"' in section and "180" in section
    quiet = hr.get(f"/certification/records/{calm.id}").get_data(as_text=True)
    assert 'class="evidence-flag"' not in quiet

    trainer = app.test_client()
    login_as(trainer, make_user("coach", "trainer"))
    signoffs = trainer.get("/certification/signoffs").get_data(as_text=True)
    row = signoffs[signoffs.index('data-username="speedy"'):]
    row = row[:row.index("</tr>")]
    assert row.count('class="evidence-flag"') == 3
    calm_row = signoffs[signoffs.index('data-username="calm"'):]
    assert 'class="evidence-flag"' not in calm_row[:calm_row.index("</tr>")]

    learner_client = app.test_client()
    login_as(learner_client, learner)
    assert learner_client.get(f"/certification/records/{learner.id}").status_code == 403
