"""Typed calls through the real role-play services: each moment answered with its model reply."""
from __future__ import annotations

from grading.pipeline import model_reply

from app.extensions import db

ZH_SCENARIOS = ["double-billing", "late-delivery-refund", "sold-out-product"]  # zh-CN, difficulty 1


def typed_call(user_id: int, slug: str, *, practice: bool = False):
    """One typed call answered well to its end; returns the ended attempt."""
    from app.roleplays import services as roleplays
    from app.roleplays.models import ENDED
    attempt = roleplays.start_attempt(user_id, slug, "typed", practice=practice)
    roleplays.answer_call(attempt, rings=1)
    for _ in range(20):
        db.session.refresh(attempt)
        if attempt.status == ENDED:
            break
        doc = roleplays.doc_of(attempt)
        turn = roleplays.submit_typed(attempt, model_reply(doc.nodes[attempt.node_id].rubric, doc.language))
        roleplays.grade_turn(turn.id)
    db.session.refresh(attempt)
    assert attempt.status == ENDED and attempt.passed, (slug, attempt.status, attempt.score)
    return attempt
