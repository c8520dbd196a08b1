"""The one place that turns points into a percentage and a percentage into pass/fail."""
from __future__ import annotations


def percent(earned: float, possible: float) -> float:
    """Share of the available points as a percentage, 0..100, rounded to 1 decimal.

    0 when nothing was available; clamped so deductions or rounding never leave 0..100.
    """
    if possible <= 0:
        return 0.0
    return round(max(0.0, min(100.0, 100.0 * earned / possible)), 1)


def is_passed(score_percent: float, pass_mark: float) -> bool:
    """Passed when the (rounded) percentage reaches the pass mark."""
    return score_percent >= pass_mark
