"""Certification's home panels: the learner's next requirement with its progress and a link; for HR
the certificates awaiting approval (approved from home), those expiring in 30 days, and each cohort's
levels and pass rates linking into the roster — each with its empty state."""
from __future__ import annotations

import re

from app.core.clock import utcnow
from app.certification import operations
from app.certification.models import ACTIVE, PENDING, Certificate
from app.extensions import db
from tests.support.web import home_panel, login_as, switch_to_english

from tests.support.certification import days, install_spec, spec_dict




def test_empty_states_before_requirements_and_certificates(app, client, make_user):
    login_as(client, make_user("li", "learner", "hr"))
    switch_to_english(client)
    html = client.get("/").get_data(as_text=True)
    assert "Your next certification step will appear here once the certification requirements are loaded" \
        in home_panel(html, "next-certification")
    assert "need your approval will appear here. None are waiting." in home_panel(html, "pending-certificates")
    assert "Certificates that expire in the next 30 days will appear here. None do." \
        in home_panel(html, "expiring-certificates")
    cohorts = home_panel(html, "cohort-levels")
    assert 'id="cohort-stats"' in cohorts and 'data-cohort=""' in cohorts  # this HR learner, without a cohort


def test_learner_sees_the_next_level_its_progress_and_where_to_do_the_work(app, client, make_user, evidence,
                                                                            shipped_rules):
    learner = make_user("li", "learner")
    evidence.courses(learner.id, ["call-centre-basics"], utcnow())
    login_as(client, learner)
    switch_to_english(client)
    panel = home_panel(client.get("/").get_data(as_text=True), "next-certification")
    assert re.search(r'id="home-next-level">[^<]+<', panel)
    met, total = map(int, re.search(r"(\d+) of (\d+) requirements met", panel).groups())
    assert total > met >= 1  # the previous level is held; the courses are not all done
    # The unmet course requirement links each missing course.
    assert re.search(r'href="/courses/[a-z-]+"', panel)
    assert 'href="/certification"' in panel


def test_hr_approves_a_pending_certificate_from_home(app, client, make_user, evidence):
    learner, hr = make_user("li", "learner", name="李明", cohort="2026-春"), make_user("hr1", "hr")
    with app.app_context():
        install_spec(spec_dict(approval="hr"))
    evidence.agent(learner.id, utcnow() - days(1))
    with app.app_context():
        [certificate] = operations.reevaluate(learner.id)
        db.session.commit()
        assert certificate.status == PENDING
        certificate_id = certificate.id
    login_as(client, hr)
    switch_to_english(client)
    html = client.get("/").get_data(as_text=True)
    panel = home_panel(html, "pending-certificates")
    assert "李明" in panel and f'action="/certification/certificates/{certificate_id}/approve"' in panel
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', panel).group(1)
    response = client.post(f"/certification/certificates/{certificate_id}/approve", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Certificate, certificate_id).status == ACTIVE
    html = client.get("/").get_data(as_text=True)
    assert "None are waiting." in home_panel(html, "pending-certificates")
    cohorts = home_panel(html, "cohort-levels")
    row = re.search(r'<tr data-cohort="2026-春">.*?</tr>', cohorts, re.S).group(0)
    assert 'href="/certification/records?cohort=2026-%E6%98%A5"' in row and "Agent 1" in row


def test_hr_sees_certificates_expiring_within_30_days(app, client, make_user, evidence, shipped_rules):
    soon, later = make_user("soon", "learner", name="快到期"), make_user("later", "learner", name="还早")
    for person in (soon, later):
        evidence.agent(person.id, utcnow() - days(2))
        with app.app_context():
            operations.reevaluate(person.id)
            db.session.commit()
    with app.app_context():
        for username, left in (("soon", 10), ("later", 90)):
            certificate = db.session.scalars(db.select(Certificate).join(Certificate.holder)
                                             .where(Certificate.holder.has(username=username))).one()
            certificate.expires_at = utcnow() + days(left)
        db.session.commit()
    login_as(client, make_user("hr1", "hr"))
    switch_to_english(client)
    panel = home_panel(client.get("/").get_data(as_text=True), "expiring-certificates")
    assert "快到期" in panel and "还早" not in panel and "valid until" in panel


def test_own_pending_certificate_is_not_offered_for_approval(app, client, make_user, evidence):
    both = make_user("self", "learner", "hr", name="自己")
    with app.app_context():
        install_spec(spec_dict(approval="hr"))
    evidence.agent(both.id, utcnow() - days(1))
    with app.app_context():
        [certificate] = operations.reevaluate(both.id)
        db.session.commit()
        certificate_id = certificate.id
    login_as(client, both)
    switch_to_english(client)
    panel = home_panel(client.get("/").get_data(as_text=True), "pending-certificates")
    assert "another HR person decides" in panel and f"/certificates/{certificate_id}/approve" not in panel


def test_cohort_panel_says_what_will_appear_without_learners(app, client, make_user):
    login_as(client, make_user("hr1", "hr"))
    switch_to_english(client)
    panel = home_panel(client.get("/").get_data(as_text=True), "cohort-levels")
    assert "pass rates will appear here once learners have accounts" in panel and "cohort-stats" not in panel
