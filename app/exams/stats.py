"""Item analysis for exam questions: how often a question is answered right and whether
it separates strong from weak learners. Pure functions over (attempt score, fraction) pairs."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_ATTEMPTS = 5          # fewer answers than this say nothing reliable; no flags
TOO_EASY = 0.95           # share correct above this: everyone gets it, it measures nothing
TOO_HARD = 0.2            # share correct below this: wrong key, unclear wording or untaught
MIN_DISCRIMINATION = 0.1  # strong learners do barely better (or worse) than weak ones
GROUP_SHARE = 0.27        # the classic upper/lower 27 % groups

FLAG_EASY = "too_easy"
FLAG_HARD = "too_hard"
FLAG_NOT_DISCRIMINATING = "low_discrimination"


@dataclass
class ItemAnalysis:
    answers: int
    share_correct: float | None          # mean fraction of the question's points earned
    discrimination: float | None         # share correct in the top 27 % minus the bottom 27 %
    flags: list[str] = field(default_factory=list)


def analyse(pairs: Sequence[tuple[float, float]]) -> ItemAnalysis:
    """``pairs`` are (the attempt's total score, the fraction earned on this question)."""
    n = len(pairs)
    if n == 0:
        return ItemAnalysis(0, None, None)
    share = sum(fraction for _score, fraction in pairs) / n
    discrimination = None
    if n >= 2:
        ranked = sorted(pairs, key=lambda pair: pair[0])
        group = max(1, round(GROUP_SHARE * n))
        lower = ranked[:group]
        upper = ranked[-group:]
        discrimination = (sum(f for _s, f in upper) / group) - (sum(f for _s, f in lower) / group)
    flags: list[str] = []
    if n >= MIN_ATTEMPTS:
        if share > TOO_EASY:
            flags.append(FLAG_EASY)
        if share < TOO_HARD:
            flags.append(FLAG_HARD)
        if discrimination is not None and discrimination < MIN_DISCRIMINATION:
            flags.append(FLAG_NOT_DISCRIMINATING)
    return ItemAnalysis(n, share, discrimination, flags)
