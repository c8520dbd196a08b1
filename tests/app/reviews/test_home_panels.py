"""Reviews' home panels: flagged calls waiting (trainer), rules missed most this week (readable labels,
never raw codes), recent calls, and the feedback a learner received — each with its empty state."""
from __future__ import annotations

import re

from app.accounts.models import User
from app.extensions import db
from app.reviews import services
from app.roleplays.models import Attempt
from tests.app.assignments.helpers import Drill, failed_call, good_call
from tests.support.web import home_panel, login_as, switch_to_english

RAW_CODE = re.compile(r"\b(intent|forbidden|call|delivery|judgement):[a-z_-]+")




def test_trainer_panels_say_what_will_appear_when_there_is_nothing(app, client, make_user):
    login_as(client, make_user("qa", "trainer"))
    switch_to_english(client)
    html = client.get("/").get_data(as_text=True)
    assert "Calls a learner or trainer flags for review will appear here" in home_panel(html, "flagged-calls")
    assert "misses most in the last 7 days will appear here" in home_panel(html, "failed-rules")
    assert "finished role-play calls will appear here" in home_panel(html, "recent-calls")


def test_learner_panels_say_what_will_appear_when_there_is_nothing(app, client, make_user):
    login_as(client, make_user("li", "learner"))
    switch_to_english(client)
    html = client.get("/").get_data(as_text=True)
    assert "When a trainer reviews one of your calls, their comments will appear here" in home_panel(html, "feedback")
    assert "Your last role-play drill and your scores will appear here" in home_panel(html, "practice")


def test_trainer_sees_flagged_calls_missed_rules_and_recent_calls(app, client, content, make_user):
    learner = make_user("li", "learner", name="学员小李", cohort="2026-春")
    trainer = make_user("qa", "trainer", name="质检王老师")
    failed = failed_call(app, Drill(app.test_client(), learner))
    passed = good_call(app, Drill(app.test_client(), learner))
    with app.app_context():
        services.flag(db.session.get(Attempt, failed), db.session.get(User, learner.id), "我觉得打分不对")
        db.session.commit()
    login_as(client, trainer)
    switch_to_english(client)
    html = client.get("/").get_data(as_text=True)
    flagged = home_panel(html, "flagged-calls")
    assert f'href="/reviews/attempts/{failed}"' in flagged and "学员小李" in flagged and "我觉得打分不对" in flagged
    assert f"/reviews/attempts/{passed}" not in flagged  # not flagged
    rules = home_panel(html, "failed-rules")
    assert "2026-春" in rules and re.search(r"missed \d+ times by 1 people", rules)
    assert not RAW_CODE.search(rules), RAW_CODE.search(rules)
    recent = home_panel(html, "recent-calls")
    assert recent.index(f"/reviews/attempts/{passed}") < recent.index(f"/reviews/attempts/{failed}")  # newest first
    # Resolving the flag (the review) takes it off the panel.
    with app.app_context():
        services.mark_reviewed(failed, db.session.get(User, trainer.id))
        db.session.commit()
    assert f"/reviews/attempts/{failed}" not in home_panel(client.get("/").get_data(as_text=True), "flagged-calls")


def test_learner_sees_the_trainers_comment_and_scores(app, client, content, make_user):
    learner = make_user("li", "learner", name="学员小李")
    trainer = make_user("qa", "trainer", name="质检王老师")
    attempt_id = good_call(app, Drill(app.test_client(), learner))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        turn = attempt.turns[0]
        item = next(i for i in turn.items if i["kind"] == "intent" and i["matched"])
        services.override_item(attempt_id, turn.id, item["item_id"], 0, "开场白太快了，请放慢语速",
                               db.session.get(User, trainer.id))
        db.session.commit()
    login_as(client, learner)
    switch_to_english(client)
    html = client.get("/").get_data(as_text=True)
    feedback = home_panel(html, "feedback")
    assert "开场白太快了，请放慢语速" in feedback and "Reviewed by 质检王老师" in feedback
    assert f'href="/roleplays/attempts/{attempt_id}/report"' in feedback
    assert not RAW_CODE.search(feedback)
    practice = home_panel(html, "practice")
    assert 'id="home-drill"' in practice and re.search(r"Score \d+", practice)
