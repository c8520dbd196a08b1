"""Notifications for the tests: notices of a person, a review done the way trainers do it."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.notifications.models import Notification
from tests.app.assignments.helpers import good_call
from tests.support.roleplays import Drill
from tests.support.web import csrf_token, login_as

COMMENT = "第二句没有先安抚客户，请注意"


def notices_of(app, user_id: int, kind: str | None = None) -> list[Notification]:
    with app.app_context():
        query = select(Notification).where(Notification.user_id == user_id)
        if kind:
            query = query.where(Notification.kind == kind)
        rows = list(db.session.scalars(query.order_by(Notification.id)))
        db.session.expunge_all()
        return rows


def reviewed_call(app, learner, trainer, comment: str = COMMENT) -> int:
    """The learner's typed call, one item overridden by the trainer with a comment, then marked reviewed."""
    from app.roleplays.models import Attempt
    attempt_id = good_call(app, Drill(app.test_client(), learner))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        turn, item = next((t, i) for t in attempt.turns for i in t.items
                          if i["kind"] == "intent" and i["matched"] and not i["rule"].startswith("call:"))
        turn_id, item_id = turn.id, item["item_id"]
    client = app.test_client()
    login_as(client, trainer)
    token = csrf_token(client, "/reviews")
    response = client.post(f"/reviews/attempts/{attempt_id}/override", data={
        "csrf_token": token, "turn_id": str(turn_id), "item_id": item_id, "points": "0", "comment": comment})
    assert response.status_code == 302
    assert client.post(f"/reviews/attempts/{attempt_id}/reviewed", data={"csrf_token": token}).status_code == 302
    return attempt_id
