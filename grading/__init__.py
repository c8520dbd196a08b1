"""Pure grading engine: phrase matching, rubric and delivery grading, call flow, exam scoring.

No Flask and no database here; callers pass plain data in and get dataclasses back.
"""
from grading.call import (
    CallState,
    answer_within_rings_rule,
    choose_outcome,
    closing_rule,
    greeting_rule,
    next_anger,
)
from grading.delivery import count_fillers, judge_delivery
from grading.exam import (
    ListenTypeScore,
    score_listen_type,
    score_multiple,
    score_ordering,
    score_phrase_rewrite,
    score_single,
    score_true_false,
    typing_accuracy,
)
from grading.matching import Match, find_all, find_any, find_phrase
from grading.rubric import (
    HabitualHit,
    ItemResult,
    Phrasebook,
    PhrasePair,
    ReplyGrade,
    RubricItem,
    evaluate_item,
    grade_reply,
    load_phrasebook,
)
from grading.scoring import is_passed, percent

__all__ = [
    "CallState", "HabitualHit", "ItemResult", "ListenTypeScore", "Match", "Phrasebook", "PhrasePair",
    "ReplyGrade", "RubricItem", "answer_within_rings_rule", "choose_outcome", "closing_rule",
    "count_fillers", "evaluate_item", "find_all", "find_any", "find_phrase", "grade_reply",
    "greeting_rule", "is_passed", "judge_delivery", "load_phrasebook", "next_anger", "percent",
    "score_listen_type", "score_multiple", "score_ordering", "score_phrase_rewrite", "score_single",
    "score_true_false", "typing_accuracy",
]
