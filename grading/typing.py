"""Listen-and-type: what differs, character by character, between what the caller said and what the
learner typed, and an accuracy that weighs meaning-changing errors more than other slips.

"今天晚上" typed as "昨天晚上" is one character off but a different evening: numbers (digits and
Chinese numerals), dates and days (今天/昨天/明天, weekdays, months), negations (不/没/别/未) and
amounts weigh CRITICAL_WEIGHT times an ordinary character, in what was said and in what was typed.

Both texts are compared in their normalised form (grading.text.normalise: width folded, punctuation
and spaces dropped; English lowercased, words joined by single spaces), the same form the typing
speed counts. Pure: no Flask, no database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from grading.text import family, normalise

CRITICAL_WEIGHT = 5.0

SAME, WRONG, MISSING, EXTRA = "same", "wrong", "missing", "extra"

_ZH_NUMERALS = "零〇一二两三四五六七八九十百千万亿"
_ZH_UNITS = "元块角毛分万千百亿%％号日月年点时岁个次天周楼层件台"
_ZH_CRITICAL = re.compile(
    r"[0-9０-９]+(?:[.,][0-9]+)*[" + _ZH_UNITS + r"]?"          # digits, with the unit they count
    r"|第[" + _ZH_NUMERALS + r"0-9]+"                           # ordinals
    r"|[" + _ZH_NUMERALS + r"]{2,}[" + _ZH_UNITS + r"]?"         # 二十, 三百五十元
    r"|[" + _ZH_NUMERALS + r"][" + _ZH_UNITS + r"]"             # 三天, 五元, 一号
    r"|大?[今昨明前后]天|[今昨明]晚|[今昨明]早|[今去明前]年|[上下本这]个?(?:月|周|星期|礼拜)"
    r"|(?:星期|礼拜|周)[一二三四五六日天末]|[上下中]午|凌晨|傍晚"
    r"|不(?!好意思)|没|(?<![特区类分级性识告派])别(?![人的])|未(?!来)"   # negations, not 不好意思/特别/未来
)

_EN_WORDS = (
    # numbers
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred "
    "thousand million billion first second third fourth fifth half "
    # days and dates
    "today tomorrow yesterday tonight morning afternoon evening monday tuesday wednesday thursday "
    "friday saturday sunday weekend january february march april may june july august september "
    "october november december week month year "
    # negations
    "not no never none nothing nobody dont doesnt didnt cant cannot couldnt wont wouldnt isnt arent "
    "wasnt werent havent hasnt hadnt shouldnt "
    # amounts
    "dollar dollars pound pounds yuan euro euros cent cents percent"
).split()
_EN_CRITICAL = re.compile(r"[0-9]+(?:[.,][0-9]+)*|\b(?:" + "|".join(_EN_WORDS) + r")\b")
_OTHER_CRITICAL = re.compile(r"[0-9]+(?:[.,][0-9]+)*")


def critical_mask(text: str, language: str) -> list[bool]:
    """For each character of the (already normalised) text: does it belong to a meaning-changing
    span (a number, date, day, negation or amount)?"""
    fam = family(language)
    pattern = _ZH_CRITICAL if fam == "zh" else _EN_CRITICAL if fam == "en" else _OTHER_CRITICAL
    mask = [False] * len(text)
    for match in pattern.finditer(text):
        for index in range(match.start(), match.end()):
            mask[index] = True
    return mask


@dataclass(frozen=True)
class DiffPart:
    kind: str        # same | wrong (said `expected`, typed `typed`) | missing (not typed) | extra (not said)
    expected: str    # the characters said ("" for extra)
    typed: str       # the characters typed ("" for missing)
    critical: bool   # the part changes the meaning: a number, date, day, negation or amount

    def as_dict(self) -> dict:
        return {"kind": self.kind, "expected": self.expected, "typed": self.typed, "critical": self.critical}


@dataclass(frozen=True)
class TypingComparison:
    expected: str            # normalised text said
    typed: str               # normalised text typed
    parts: tuple[DiffPart, ...]
    accuracy: float          # 1 − weighted errors / weight of what was said, 0..1
    errors: int              # characters wrong, missing or extra
    critical_errors: int     # of those, in a number, date, day, negation or amount


def _weight(critical: bool) -> float:
    return CRITICAL_WEIGHT if critical else 1.0


# Above this many cells the weighted alignment would be slow; rapidfuzz's plain one is used instead.
_MAX_ALIGN_CELLS = 60_000


def _align(want: str, got: str, want_mask: list[bool], got_mask: list[bool]) -> list[tuple[str, int, int]]:
    """(kind, index in want, index in got) from start to end: a weighted edit alignment in which a
    meaning-changing character costs CRITICAL_WEIGHT to leave out, add or change. A substitution
    costs a hair more than its weight, so a matching character between a slip and the next one is
    kept ("上好"→"好呀" reads as 上 missing and 呀 extra, not as two wrong characters)."""
    n, m = len(want), len(got)
    if n * m > _MAX_ALIGN_CELLS:
        steps: list[tuple[str, int, int]] = []
        for op in Levenshtein.opcodes(want, got):
            said, wrote = range(op.src_start, op.src_end), range(op.dest_start, op.dest_end)
            if op.tag == "equal":
                steps += [(SAME, i, j) for i, j in zip(said, wrote)]
                continue
            pairs = min(len(said), len(wrote)) if op.tag == "replace" else 0
            steps += [(WRONG, said[k], wrote[k]) for k in range(pairs)]
            steps += [(MISSING, i, -1) for i in said[pairs:]] + [(EXTRA, -1, j) for j in wrote[pairs:]]
        return steps
    # Integer costs (ordinary 2, critical 2 × weight, substitution + 1) keep ties exact.
    wd = [int(2 * _weight(flag)) for flag in want_mask]
    wg = [int(2 * _weight(flag)) for flag in got_mask]
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for j in range(1, m + 1):
        cost[0][j] = cost[0][j - 1] + wg[j - 1]
    for i in range(1, n + 1):
        row, above = cost[i], cost[i - 1]
        row[0] = above[0] + wd[i - 1]
        for j in range(1, m + 1):
            diagonal = above[j - 1] + (0 if want[i - 1] == got[j - 1] else max(wd[i - 1], wg[j - 1]) + 1)
            row[j] = min(diagonal, above[j] + wd[i - 1], row[j - 1] + wg[j - 1])
    steps = []
    i, j = n, m
    while i or j:
        here = cost[i][j]
        if i and j and want[i - 1] == got[j - 1] and here == cost[i - 1][j - 1]:
            kind = SAME
        elif i and j and here == cost[i - 1][j - 1] + max(wd[i - 1], wg[j - 1]) + 1:
            kind = WRONG
        elif i and here == cost[i - 1][j] + wd[i - 1]:
            kind = MISSING
        else:
            kind = EXTRA
        if kind in (SAME, WRONG):
            i, j = i - 1, j - 1
            steps.append((kind, i, j))
        elif kind == MISSING:
            i -= 1
            steps.append((kind, i, -1))
        else:
            j -= 1
            steps.append((kind, -1, j))
    steps.reverse()
    return steps


def compare_typing(expected: str, typed: str, language: str) -> TypingComparison:
    """Align what was typed with what was said and weigh each difference."""
    want, got = normalise(expected or "", language), normalise(typed or "", language)
    want_mask, got_mask = critical_mask(want, language), critical_mask(got, language)
    parts: list[DiffPart] = []
    cost = 0.0
    errors = critical_errors = 0

    def add(kind: str, said: str, wrote: str, critical: bool) -> None:
        last = parts[-1] if parts else None
        if last is not None and last.kind == kind and last.critical == critical:
            parts[-1] = DiffPart(kind, last.expected + said, last.typed + wrote, critical)
        else:
            parts.append(DiffPart(kind, said, wrote, critical))

    for tag, i, j in _align(want, got, want_mask, got_mask):
        if tag == SAME:
            add(SAME, want[i], got[j], want_mask[i])
        elif tag == WRONG:
            critical = want_mask[i] or got_mask[j]
            add(WRONG, want[i], got[j], critical)
            cost += max(_weight(want_mask[i]), _weight(got_mask[j]))
            errors += 1
            critical_errors += critical
        elif tag == MISSING:
            add(MISSING, want[i], "", want_mask[i])
            cost += _weight(want_mask[i])
            errors += 1
            critical_errors += want_mask[i]
        else:
            add(EXTRA, "", got[j], got_mask[j])
            cost += _weight(got_mask[j])
            errors += 1
            critical_errors += got_mask[j]

    total = sum(_weight(flag) for flag in want_mask)
    if not total:
        accuracy = 1.0 if not got else 0.0
    else:
        accuracy = max(0.0, 1.0 - cost / total)
    return TypingComparison(want, got, tuple(parts), accuracy, errors, critical_errors)
