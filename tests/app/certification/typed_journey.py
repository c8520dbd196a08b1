"""Typed calls through the real role-play services: each moment answered with its model reply."""
from __future__ import annotations

from grading.pipeline import model_reply

from app.extensions import db

ZH_SCENARIOS = ["double-billing", "late-delivery-refund", "sold-out-product"]  # zh-CN, difficulty 1


def typed_call(user_id: int, slug: str, *, practice: bool = False):
    """One typed call answered well to its end; returns the ended attempt."""
    from app.roleplays import grader as roleplay_grader
    from app.roleplays import operations as roleplay_operations
    from app.roleplays import queries as roleplay_queries
    from app.roleplays.models import ENDED
    attempt = roleplay_operations.start_attempt(user_id, slug, "typed", practice=practice)
    roleplay_operations.answer_call(attempt, rings=1)
    for _ in range(20):
        db.session.refresh(attempt)
        if attempt.status == ENDED:
            break
        doc = roleplay_queries.doc_of(attempt)
        turn = roleplay_operations.submit_typed(attempt, model_reply(doc.nodes[attempt.node_id].rubric, doc.language))
        roleplay_grader.grade_turn(turn.id)
    db.session.refresh(attempt)
    assert attempt.status == ENDED and attempt.passed, (slug, attempt.status, attempt.score)
    return attempt
