"""Assignments' home panels: the learner's open work (overdue first), and the trainer's overdue
work per cohort, counted from the same evidence as the assignment pages — with empty states."""
from __future__ import annotations

import re
from datetime import timedelta

from app.accounts.models import User
from app.assignments import services
from app.extensions import db
from tests.support.courses import complete_course
from tests.support.web import home_panel, login_as, switch_to_english

BASICS = "call-centre-basics"




def _assign(app, trainer, slug, kind="course", *, days_overdue=0, cohort=None, user_ids=()):
    with app.app_context():
        assignment = services.create_assignment(kind=kind, slug=slug, due_date=services.today(), cohort=cohort,
                                                user_ids=user_ids, created_by=db.session.get(User, trainer.id))
        assignment.due_date = services.today() - timedelta(days=days_overdue)
        db.session.commit()
        return assignment.id


def test_empty_states_for_learner_and_trainer(app, client, make_user):
    login_as(client, make_user("both", "learner", "trainer"))
    switch_to_english(client)
    html = client.get("/").get_data(as_text=True)
    assert "Work a trainer assigns to you will appear here" in home_panel(html, "assigned")
    assert "Assignments past their due date that learners have not finished will appear here" in home_panel(html, "overdue")


def test_learner_sees_open_work_overdue_first_and_not_what_is_done(app, client, content, make_user):
    trainer = make_user("qa", "trainer")
    learner = make_user("li", "learner", cohort="A")
    _assign(app, trainer, "emotion-management", cohort="A")
    _assign(app, trainer, "service-language", days_overdue=3, user_ids=[learner.id])
    _assign(app, trainer, BASICS, cohort="A")
    complete_course(app, learner.id, BASICS)
    login_as(client, learner)
    switch_to_english(client)
    panel = home_panel(client.get("/").get_data(as_text=True), "assigned")
    assert "Overdue" in panel
    assert panel.index('data-slug="service-language"') < panel.index('data-slug="emotion-management"')
    assert f'data-slug="{BASICS}"' not in panel  # done work is not on the home page


def test_trainer_sees_overdue_work_per_cohort_with_people_not_done(app, client, content, make_user):
    trainer = make_user("qa", "trainer")
    make_user("a1", "learner", cohort="A")
    a2 = make_user("a2", "learner", cohort="A")
    b1 = make_user("b1", "learner", cohort="B")
    loner = make_user("solo", "learner")  # no cohort, named on the assignment
    basics = _assign(app, trainer, BASICS, days_overdue=2, cohort="A", user_ids=[b1.id, loner.id])
    _assign(app, trainer, "service-language", days_overdue=0, cohort="B")  # due today: not overdue
    complete_course(app, a2.id, BASICS)  # a2 finished it: not counted
    login_as(client, trainer)
    switch_to_english(client)
    panel = home_panel(client.get("/").get_data(as_text=True), "overdue")
    rows = dict(re.findall(r'data-cohort="([^"]*)">(.*?)</li>\s*</ul>', panel, re.S))
    assert set(rows) == {"A", "B", ""}
    assert "People overdue: 1" in rows["A"] and f"/assignments/{basics}?cohort=A" in rows["A"]
    assert "Not done: 1" in rows["A"] and "service-language" not in panel
    assert "No cohort" in rows[""] and "People overdue: 1" in rows[""]
    # The same numbers as the assignment's own page, which reads each person's evidence.
    with app.app_context():
        counts = {row.user.username: row.status.overdue for row in
                  services.people_status(services.get_assignment(basics))}
    assert counts == {"a1": True, "a2": False, "b1": True, "solo": True}
