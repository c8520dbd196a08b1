"""Finding an accepted phrasing inside a (speech-recognised or typed) reply.

The search is an approximate substring alignment over units (characters for Chinese and
Korean, words for English): the phrase may start anywhere in the reply, and each unit
costs nothing when it matches (same character, same toneless pinyin, or the same word),
a little when it nearly matches (confusable pinyin, a misspelt word) and one point when it
is missing, extra or different. A phrase matches when the cost stays within a tolerance
that grows with its length, so short phrases must be (homophone-)exact while a dropped or
misheard character in a longer phrase is forgiven.

Negations and personal pronouns are protected: they can never be dropped, added or
swapped, because that flips the meaning ("我没办法" vs "我有办法", "你必须" vs "我们必须").
A match right after a negation marker ("不理解", "I do not understand") is refused.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Indel

from grading.patterns import NEGATORS_ZH, negates_speech
from grading.text import Family, Unit, family, fuzzy_syllable, tokenize

INF = float("inf")
NEAR_COST = 0.5   # confusable pinyin or a slightly misspelt word


@dataclass(frozen=True)
class Match:
    matched_text: str   # the words of the reply that matched, exactly as transcribed
    start: int          # character offsets into the reply
    end: int
    score: float        # 0..100; 100 = exact (homophones count as exact)
    phrase: str = ""    # the accepted phrasing that was found


# --- protected units -----------------------------------------------------------------

_NEGATION_UNITS: dict[Family, frozenset[str]] = {
    "zh": NEGATORS_ZH,
    "en": frozenset({"not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "without"}),
    "ko": frozenset({"안", "못", "않"}),
}
_PRONOUN_GROUPS: dict[Family, dict[str, int]] = {
    # 你 and 您 are the same person, only the politeness differs.
    "zh": {"你": 1, "您": 1, "我": 2, "他": 3, "她": 3, "它": 3, "咱": 4},
    "en": {
        **dict.fromkeys(("i", "me", "my", "mine", "myself"), 1),
        **dict.fromkeys(("you", "your", "yours", "yourself"), 2),
        **dict.fromkeys(("we", "us", "our", "ours"), 3),
        **dict.fromkeys(("he", "him", "his", "she", "her", "hers", "they", "them", "their"), 4),
    },
    "ko": {},
}

# A negation marker, optionally followed by degree/modal words, right before the match.
_NEGATED_BEFORE: dict[Family, re.Pattern[str]] = {
    "zh": re.compile(
        r"(?:不|没有?|别|未能?|无法|甭|勿|并非|绝非)"
        r"(?:太|很|是|大|怎么|能|会|可能|够|曾|完全|一定|再|都|真|真的|特别|那么|这么){0,3}$"
    ),
    "en": re.compile(
        r"(?:^|\s)(?:not|no|never|nothing|nobody|neither|nor|without|hardly|barely)"
        r"(?:\s(?:else|really|quite|fully|entirely|completely|totally|truly|actually|even|ever|"
        r"yet|always|exactly|be|been|so|too|very|much|able|to|going|gonna))*\s?$"
    ),
    "ko": re.compile(r"(?:^|\s)(?:안|못)\s+$"),
}
# Chinese potential-complement negation after the verb: 理解不了, 帮不上, 做不到.
_NEGATED_AFTER_ZH = re.compile(r"^(?:不|没)(?:了|到|来|动|懂|清|出|成|起|上|住|透|通|开)")
_LOOKBACK_UNITS = 6
# A doubled word right after one of these is still a backchannel ("嗯好好").
_INTERJECTIONS_ZH = frozenset("嗯啊哦噢哎唉诶呃")


# --- tolerance -----------------------------------------------------------------------

def tolerance(phrase_units: int, fam: Family) -> float:
    """Largest alignment cost accepted for a phrase of this many units."""
    if fam == "en":
        # Words carry more meaning than characters: swapping one in a short phrase
        # ("sorry for the wait" / "sorry for the inconvenience") changes what was said.
        if phrase_units <= 5:
            return NEAR_COST
        return 1.0 if phrase_units <= 8 else 2.0
    if phrase_units <= 3:
        return 0.0          # 2-3 characters: homophone-exact only
    if phrase_units == 4:
        return NEAR_COST    # only a confusable syllable, no dropped character
    if phrase_units <= 8:
        return 1.0
    return 2.0 if phrase_units <= 12 else 3.0


# --- unit costs ----------------------------------------------------------------------



class _Costs:
    def __init__(self, fam: Family) -> None:
        self.fam = fam
        self.negations = _NEGATION_UNITS[fam]
        self.pronouns = _PRONOUN_GROUPS[fam]

    def protected(self, unit: Unit) -> bool:
        return unit.text in self.negations or unit.text in self.pronouns

    def indel(self, unit: Unit) -> float:
        return INF if self.protected(unit) else 1.0

    def substitute(self, want: Unit, got: Unit) -> float:
        if want.text == got.text:
            return 0.0
        want_neg, got_neg = want.text in self.negations, got.text in self.negations
        if want_neg or got_neg:
            # Polarity must survive; one negation word for another is an ordinary error.
            return 1.0 if want_neg and got_neg else INF
        want_group, got_group = self.pronouns.get(want.text), self.pronouns.get(got.text)
        if want_group is not None and got_group is not None:
            return 0.0 if want_group == got_group else INF
        if (want_group is None) != (got_group is None) and want.sound != got.sound:
            return INF
        if self.fam == "zh":
            if want.sound == got.sound:
                return 0.0
            if fuzzy_syllable(want.sound) == fuzzy_syllable(got.sound):
                return NEAR_COST
            return 1.0
        if self.fam == "en" and min(len(want.text), len(got.text)) >= 5:
            if Indel.normalized_similarity(want.text, got.text) >= 0.8:
                return NEAR_COST
        return 1.0


# --- alignment -----------------------------------------------------------------------

def _align(phrase: Sequence[Unit], reply: Sequence[Unit], costs: _Costs) -> list[tuple[float, int, int]]:
    """(cost, first unit, end unit) for every place the phrase could end in the reply.

    Sellers' approximate substring alignment: row 0 is free, so a match may start anywhere.
    """
    n = len(reply)
    prev_cost = [0.0] * (n + 1)
    prev_start = list(range(n + 1))
    insert = [costs.indel(u) for u in reply]
    for want in phrase:
        delete = costs.indel(want)
        cost = [prev_cost[0] + delete] + [INF] * n
        start = [0] * (n + 1)
        for j, got in enumerate(reply, start=1):
            best, best_start = prev_cost[j - 1] + costs.substitute(want, got), prev_start[j - 1]
            if prev_cost[j] + delete < best:
                best, best_start = prev_cost[j] + delete, prev_start[j]
            if cost[j - 1] + insert[j - 1] < best:
                best, best_start = cost[j - 1] + insert[j - 1], start[j - 1]
            cost[j], start[j] = best, best_start
        prev_cost, prev_start = cost, start
    return [(prev_cost[j], prev_start[j], j) for j in range(1, n + 1) if prev_start[j] < j]


def _is_negated(text: str, reply: Sequence[Unit], first: int, last: int, fam: Family) -> bool:
    if fam == "ko":
        # Korean units are syllables, so the negator must stand as its own word before.
        return bool(_NEGATED_BEFORE["ko"].search(text[:reply[first].start]))
    clause = reply[first].clause
    before = [u.text for u in reply[max(0, first - _LOOKBACK_UNITS):first] if u.clause == clause]
    joiner = " " if fam == "en" else ""
    rest = joiner.join(u.text for u in reply[last + 1:] if u.clause == reply[last].clause)
    if before and (_NEGATED_BEFORE[fam].search(joiner.join(before)) or negates_speech(joiner.join(before), rest, fam)):
        return True
    if fam == "zh":
        after = [u.text for u in reply[last + 1:last + 3] if u.clause == reply[last].clause]
        return bool(_NEGATED_AFTER_ZH.match("".join(after)))
    return False


def _is_adverbial_double(phrase: Sequence[Unit], reply: Sequence[Unit], first: int) -> bool:
    """A doubled word inside a clause is an adverb ("我一定给您好好留着", "好好安排"); only at the start
    of a clause, or after an interjection, is it a "好，好" backchannel."""
    doubled = len(phrase) >= 2 and len({u.text for u in phrase}) == 1
    if not doubled or first == 0 or reply[first - 1].clause != reply[first].clause:
        return False
    return reply[first - 1].text not in _INTERJECTIONS_ZH


def _missing_units(phrase: Sequence[Unit], reply: Sequence[Unit]) -> int:
    """Phrase units with no equal or confusable unit anywhere in the reply.

    Each of them costs at least 1 in any alignment, so this bounds the cost from below.
    """
    present = {u.text for u in reply} | {fuzzy_syllable(u.sound) for u in reply}
    return sum(1 for u in phrase if u.text not in present and fuzzy_syllable(u.sound) not in present)


def _find_in_units(text: str, units: Sequence[Unit], phrase: str, language: str) -> list[Match]:
    """Every acceptable, non-negated occurrence of `phrase`, best first."""
    fam = family(language)
    wanted = tokenize(phrase, language)
    if not wanted or not units:
        return []
    costs = _Costs(fam)
    limit = tolerance(len(wanted), fam)
    if fam != "en" and _missing_units(wanted, units) > limit:
        return []   # cheap exit: too many phrase units are nowhere in the reply
    if len(wanted) == 1 and fam != "en":
        # A single character is too ambiguous for homophones: it must be that character.
        candidates = [(0.0, j, j + 1) for j, u in enumerate(units) if u.text == wanted[0].text]
    else:
        candidates = [c for c in _align(wanted, units, costs) if c[0] <= limit]
    # Lowest cost first; on a tie the earlier and then the longer span.
    candidates.sort(key=lambda c: (c[0], c[1], -c[2]))
    matches: list[Match] = []
    # Each stretch of the reply is decided by its best alignment; a negated one blocks
    # its neighbours too, so a shifted span cannot slip past the negation check.
    taken: list[tuple[int, int]] = []
    for cost, first, end in candidates:
        if any(first < t_end and t_first < end for t_first, t_end in taken):
            continue
        taken.append((first, end))
        if _is_negated(text, units, first, end - 1, fam):
            continue
        if fam == "zh" and _is_adverbial_double(wanted, units, first):
            continue
        start_char, end_char = units[first].start, units[end - 1].end
        score = round(100.0 * max(0.0, 1.0 - cost / len(wanted)), 1)
        matches.append(Match(text[start_char:end_char], start_char, end_char, score, phrase))
    return matches


def find_phrase(text: str, phrase: str, language: str) -> Match | None:
    """The best non-negated occurrence of `phrase` in `text`, or None."""
    found = _find_in_units(text, tokenize(text, language), phrase, language)
    return found[0] if found else None


def find_all(text: str, phrases: Iterable[str], language: str) -> list[Match]:
    """Every occurrence of any of `phrases`, one per stretch of the reply, in reply order."""
    units = tokenize(text, language)
    found = [m for phrase in phrases for m in _find_in_units(text, units, phrase, language)]
    found.sort(key=lambda m: (-m.score, -(m.end - m.start), m.start))
    kept: list[Match] = []
    for match in found:
        if not any(match.start < k.end and k.start < match.end for k in kept):
            kept.append(match)
    return sorted(kept, key=lambda m: m.start)


def find_any(text: str, phrases: Iterable[str], language: str) -> Match | None:
    """The best match among `phrases` (highest score, then earliest), or None."""
    units = tokenize(text, language)
    best: Match | None = None
    for phrase in phrases:
        for match in _find_in_units(text, units, phrase, language)[:1]:
            if best is None or (match.score, -match.start) > (best.score, -best.start):
                best = match
    return best
