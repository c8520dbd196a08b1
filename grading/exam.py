"""Scoring exam answers. Every function returns the share of the question's points (0..1)
earned, except where a richer result is needed to show reasons (phrase rewrite, typing)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from grading.rubric import ReplyGrade, RubricItem, grade_reply
from grading.text import normalise
from grading.typing import compare_typing


def score_single(selected: str | None, correct: str) -> float:
    return 1.0 if selected is not None and selected == correct else 0.0


def score_multiple(
    selected: Sequence[str],
    correct: Sequence[str],
    partial_credit: Literal["proportional", "all_or_nothing"] = "proportional",
) -> float:
    """proportional: max(0, (right picks − wrong picks) / number of correct options)."""
    picked, right = set(selected or ()), set(correct)
    if not right:
        raise ValueError("a multiple-choice question needs at least one correct option")
    if partial_credit == "all_or_nothing":
        return 1.0 if picked == right else 0.0
    if partial_credit != "proportional":
        raise ValueError(f"unknown partial_credit: {partial_credit!r}")
    hits, misses = len(picked & right), len(picked - right)
    return max(0.0, (hits - misses) / len(right))


def score_true_false(answer: bool | None, correct: bool) -> float:
    return 1.0 if answer is not None and answer is correct else 0.0


def score_ordering(
    given_order: Sequence[str],
    correct_order: Sequence[str],
    partial_credit: Literal["pairs", "all_or_nothing"] = "pairs",
) -> float:
    """pairs: share of the correct sequence's adjacent pairs (a, b) the learner still has
    in that relative order (a somewhere before b); items left out break their pairs."""
    given, correct = list(given_order or ()), list(correct_order)
    if not correct:
        raise ValueError("an ordering question needs items")
    if partial_credit == "all_or_nothing" or len(correct) == 1:
        return 1.0 if given == correct else 0.0
    if partial_credit != "pairs":
        raise ValueError(f"unknown partial_credit: {partial_credit!r}")
    position = {item: index for index, item in reversed(list(enumerate(given)))}
    kept = sum(
        1 for a, b in zip(correct, correct[1:])
        if a in position and b in position and position[a] < position[b]
    )
    return kept / (len(correct) - 1)


def score_phrase_rewrite(text: str, items: Sequence[RubricItem], language: str, *,
                         rules: Sequence[RubricItem] = (), ui_language: str = "zh-CN") -> ReplyGrade:
    """The rewrite is graded with the role-play reply grader (every item asked for, and the whole
    forbidden catalogue checked); `.fraction` is the share of points earned."""
    return grade_reply(text or "", items, language, rules=rules, ui_language=ui_language)


@dataclass(frozen=True)
class ListenTypeScore:
    accuracy: float   # 1 − weighted edit distance / weight of the expected text, 0..1 (grading.typing)
    cpm: float        # characters typed per minute
    fraction: float   # share of the question's points


def typing_accuracy(expected: str, typed: str, language: str) -> float:
    """Character accuracy after folding width, punctuation and spaces away; an error in a number,
    date, day, negation or amount weighs more than other slips (grading.typing)."""
    return compare_typing(expected, typed or "", language).accuracy


def score_listen_type(expected: str, typed: str, seconds: float, min_accuracy: float,
                      min_cpm: float, language: str) -> ListenTypeScore:
    """Full points when accuracy and speed are both met; otherwise points × accuracy if
    accuracy ≥ min_accuracy − 0.2, else nothing."""
    accuracy = typing_accuracy(expected, typed, language)
    typed_chars = len(normalise(typed or "", language))
    cpm = typed_chars * 60.0 / seconds if seconds > 0 else 0.0
    if not typed_chars:
        fraction = 0.0
    elif accuracy >= min_accuracy and cpm >= min_cpm:
        fraction = 1.0
    elif accuracy >= min_accuracy - 0.2 - 1e-9:
        fraction = accuracy
    else:
        fraction = 0.0
    return ListenTypeScore(accuracy, cpm, fraction)
