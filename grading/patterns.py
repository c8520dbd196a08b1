"""Constructions with slots: how an intent is recognised in the agent's own words.

A phrase list can only hear the spellings someone wrote down. A pattern describes the
construction instead ("理解/明白/体会 + 您的 + 着急/心情/难处", "换谁/搁谁 + 都 + 急/上火",
"I get/see/hear why you're upset"), so any of its combinations is heard, and so are the
recogniser's homophones.

Pattern syntax (a small subset of regular expressions, written in the reply's language):

    (a|b|c)    one of the alternatives            ?       the group before is optional
                                                  *       the group before, any number of times
    ~          a short gap: up to 4 characters (zh) or 3 words (en) of anything
    …          a long gap: up to 12 characters (zh) or 8 words (en)
    ^  $       start / end of a clause (punctuation, or the start / end of the reply)
    _          an optional clause break ("好，好" and "好好" alike)
    {name}     a slot: alternatives given by the rubric item (``slots``) or a shared macro
    #          a number written in digits ("24", "3-5" is two numbers)
    word*      (English) any word starting with "word"

Chinese is compared by sound, character by character (each Han character becomes its toneless
pinyin syllable), so "理解" matches a recogniser's "里解"; spaces and missing punctuation do not
matter. English is compared word by
word with contractions expanded ("I'm" = "I am", "can't" = "can not"). A match right after a
negation ("我不理解…", "I don't understand…") is refused, as for phrases.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin

from grading.text import Family, expand_english, family, is_han, tokenize

SEP = "\u00a6"        # clause boundary in a key string ("¦")
_ZH_GAP, _ZH_LONG_GAP = 4, 12
_EN_GAP, _EN_LONG_GAP = 3, 8

# Shared slots any pattern may use.
MACROS: dict[str, dict[Family, str]] = {
    "num": {
        "zh": "(#|(一|二|三|四|五|六|七|八|九|十|两|零|半|几|百)+)",
        "en": "(#|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|twenty-four|forty-eight|a few|a couple of)",
    },
    "you": {"zh": "(您|你)", "en": "(you|your)"},
}


# --- keys: what is compared --------------------------------------------------------------

_SYLLABLE_KEYS: dict[str, str] = {}


def _syllable_key(syllable: str) -> str:
    """One private-use character per fuzzy syllable, so a regex can compare sounds."""
    key = _SYLLABLE_KEYS.get(syllable)
    if key is None:
        key = chr(0xE000 + len(_SYLLABLE_KEYS))
        _SYLLABLE_KEYS[syllable] = key
    return key


# Negation characters: never heard as a homophone here, never dropped or swapped by the phrase matcher.
NEGATORS_ZH = frozenset("不没别未无勿甭")


@lru_cache(maxsize=8192)
def han_key(char: str) -> str:
    """The key of one Han character: its default reading, without tone.

    The default (context-free) reading is used on both sides, reply and pattern, so the same
    character always gets the same key even when it has several readings. Not the phrase
    matcher's fuzzy syllables: a recogniser's homophones share the whole syllable, and merging
    n/l or zh/z as well made short constructions hear other words ("是你" as "失礼").
    """
    if char in NEGATORS_ZH:
        # A negation keeps its polarity: it is heard only as itself, never as a homophone, so
        # "不光是钱" is not "补…十千" and a gap cannot pass over it.
        return _syllable_key("neg:" + char)
    syllable = (lazy_pinyin(char) or [char])[0]
    return _syllable_key(syllable)


@dataclass(frozen=True)
class KeyText:
    """A reply as a string of comparable keys, with the way back to the reply's characters."""

    text: str                       # the reply as typed or transcribed
    language: str
    keys: str                       # what patterns run on
    spans: tuple[tuple[int, int], ...]   # keys index -> (start, end) in text; (-1, -1) for SEP
    unit_texts: tuple[str, ...]     # keys index -> normalised unit text ("" for SEP)

    def evidence(self, start: int, end: int) -> tuple[str, int, int]:
        chars = [s for s in self.spans[start:end] if s[0] >= 0]
        if not chars:
            return "", 0, 0
        first, last = chars[0][0], chars[-1][1]
        return self.text[first:last], first, last


def key_text(text: str, language: str) -> KeyText:
    fam = family(language)
    units = tokenize(text, language)
    keys: list[str] = []
    spans: list[tuple[int, int]] = []
    unit_texts: list[str] = []
    clause = units[0].clause if units else 0

    def sep() -> None:
        keys.append(SEP if fam != "en" else SEP + " ")
        spans.extend([(-1, -1)] * (1 if fam != "en" else 2))
        unit_texts.extend([""] * (1 if fam != "en" else 2))

    for unit in units:
        if unit.clause != clause:
            sep()
            clause = unit.clause
        if fam == "en":
            piece = unit.text + " "
        elif len(unit.text) == 1 and is_han(unit.text):
            piece = han_key(unit.text)
        else:
            piece = unit.text
        keys.append(piece)
        spans.extend([(unit.start, unit.end)] * len(piece))
        unit_texts.extend([unit.text] * len(piece))
    return KeyText(text, language, "".join(keys), tuple(spans), tuple(unit_texts))


# --- compiling patterns -------------------------------------------------------------------

_EN_TOKEN = re.compile(r"\{[a-z_]+\}|[a-z0-9][a-z0-9'\-]*\*?|[()|?~…^$_#*]|\s+", re.IGNORECASE)
# Gaps never swallow a negation: "I don't see why…" is not "I … see why…".
_ZH_GAP_UNIT = None   # built lazily: the keys of 不 没 别 未 are excluded
_EN_GAP_WORD = f"(?!(?:not|never|no|nothing|hardly) )[^ {SEP}]+ "


def _zh_gap_class() -> str:
    global _ZH_GAP_UNIT
    if _ZH_GAP_UNIT is None:
        _ZH_GAP_UNIT = f"[^{SEP}{''.join(re.escape(han_key(c)) for c in '不没别未')}]"
    return _ZH_GAP_UNIT


class PatternError(ValueError):
    pass


def _zh_piece(char: str) -> str:
    if is_han(char):
        return re.escape(han_key(char))
    return re.escape(char.lower())


def _expand_slots(pattern: str, slots: Mapping[str, Sequence[str]], fam: Family) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in slots:
            values = [v for v in slots[name] if v]
            if not values:
                raise PatternError(f"slot {{{name}}} has no values")
            return "(" + "|".join(values) + ")"
        if name in MACROS:
            return MACROS[name][fam]
        raise PatternError(f"unknown slot {{{name}}} (expected one of the item's slots or {', '.join(MACROS)})")
    for _ in range(3):   # slots may use macros
        expanded = re.sub(r"\{([a-z_]+)\}", fill, pattern)
        if expanded == pattern:
            break
        pattern = expanded
    return pattern


def _compile_zh(pattern: str) -> str:
    out: list[str] = []
    for char in pattern:
        if char in "()|?*":
            out.append(char)
        elif char == "~":
            out.append(f"{_zh_gap_class()}{{0,{_ZH_GAP}}}")
        elif char == "…":
            out.append(f"{_zh_gap_class()}{{0,{_ZH_LONG_GAP}}}")
        elif char == "_":
            out.append(f"[{SEP}]?")
        elif char == "#":
            out.append("[0-9]+")
        elif char == "^":
            out.append(f"(?<![^{SEP}])")
        elif char == "$":
            out.append(f"(?=[{SEP}]|$)")
        elif char.isspace() or (not char.isalnum() and not is_han(char)):
            continue   # punctuation and spaces in a pattern mean nothing
        else:
            out.append(_zh_piece(char))
    return "".join(out)


def _compile_en(pattern: str) -> str:
    out: list[str] = []
    position = 0
    word = _EN_GAP_WORD
    while position < len(pattern):
        match = _EN_TOKEN.match(pattern, position)
        if match is None:
            position += 1   # punctuation in a pattern means nothing
            continue
        token = match.group(0)
        position = match.end()
        if token.isspace():
            continue
        if token in "()|?*":
            out.append(token)
        elif token == "~":
            out.append(f"(?:{word}){{0,{_EN_GAP}}}")
        elif token == "…":
            out.append(f"(?:{word}){{0,{_EN_LONG_GAP}}}")
        elif token == "^":
            out.append(f"(?:^|(?<={SEP} ))")
        elif token == "_":
            out.append(f"(?:{SEP} )?")
        elif token == "#":
            out.append(f"[0-9][0-9.,:]* ")
        elif token == "$":
            out.append(f"(?=[{SEP}]|$)")
        elif token.endswith("*"):
            out.append(re.escape(token[:-1].lower()) + f"[^ {SEP}]* ")
        else:
            out.append("".join(re.escape(part) + " " for part in expand_english(token.lower())))
    return "".join(out)


@lru_cache(maxsize=16384)
def _compiled(pattern: str, fam: Family, slot_items: tuple[tuple[str, tuple[str, ...]], ...]) -> re.Pattern[str]:
    expanded = _expand_slots(pattern, dict(slot_items), fam)
    body = _compile_en(expanded) if fam == "en" else _compile_zh(expanded)
    if fam == "en":
        body = f"(?<![^ {SEP}])" + body
    try:
        return re.compile(body)
    except re.error as exc:
        raise PatternError(f"pattern {pattern!r} is not well formed: {exc}") from None


def compile_pattern(pattern: str, language: str, slots: Mapping[str, Sequence[str]] | None = None) -> re.Pattern[str]:
    """The regular expression a pattern becomes for `language` (raises PatternError)."""
    slot_items = tuple(sorted((k, tuple(v)) for k, v in (slots or {}).items()))
    return _compiled(pattern, family(language), slot_items)


# --- negation --------------------------------------------------------------------------

_NEGATED_BEFORE_ZH = re.compile(
    r"(?:不|没有?|别|未能?|无法|甭|勿|并非|绝非|并不|不太)"
    r"(?:太|很|是|大|怎么|能|会|可能|够|曾|完全|一定|再|都|真|真的|特别|那么|这么|太能){0,3}$")
_NEGATED_BEFORE_EN = re.compile(
    r"(?:^|\s)(?:not|no|never|nothing|nobody|neither|nor|without|hardly|barely)"
    r"(?:\s(?:else|really|quite|fully|entirely|completely|totally|truly|actually|even|ever|"
    r"yet|always|exactly|be|been|so|too|very|much|able|to|going|gonna|see|get))*\s?$")
_NEGATED_AFTER_ZH = re.compile(r"^(?:不|没)(?:了|到|来|动|懂|清|出|成|起|上|住|透|通|开)")
# A phrase the agent says they will NOT say or do is not said: "我不会跟您说这是规定",
# "也不想把责任推给店员", "I'm not going to tell you there's nothing I can do".
# Not after 得/能/可 ("不得不说", "不能不说", "不可不说" are saying it), and "不用说" is "needless to say".
_NEG_SPEAKER_ZH = r"(?<![得能可])(?:不|没|别|绝不|决不|并不)(?:会|想|要|再|是|能|打算|是要|该|愿意|敢)?(?:再|去)?"
_NEGATED_SPEECH_ZH = re.compile(
    _NEG_SPEAKER_ZH + r"(?:跟|和|对|给|向|拿)(?:您|你)?(?:说|讲|提|扯|强调|解释|重复)(?:什么)?$"
    r"|" + _NEG_SPEAKER_ZH + r"(?:说|讲|提|扯|强调|搬出|拿出|把责任|把问题|怪|推)(?:什么)?$")
# …unless the clause turns it into a question: "我不是跟你说这是规定吗？" says it again.
_RHETORICAL_END_ZH = re.compile(r"(?:吗|嘛|么)$")
_NEGATED_SPEECH_EN = re.compile(
    r"(?:^|\s)(?:not|never|no)(?:\s(?:going|gonna|to|too|about|be|ever|even|just|here))*"
    r"\s(?:tell|telling|say|saying|give|giving|hand|handing|feed|feeding)(?:\s(?:you|that|it|there|is|are))*\s?$")


def negates_speech(before: str, rest_of_clause: str, fam: Family) -> bool:
    """Does `before` say the agent will NOT say what follows (and the clause is not a question)?"""
    if fam == "en":
        return bool(_NEGATED_SPEECH_EN.search(before))
    if fam == "zh":
        return bool(_NEGATED_SPEECH_ZH.search(before)) and not _RHETORICAL_END_ZH.search(rest_of_clause)
    return False


def _clause_end(view: KeyText, index: int) -> int:
    while index < len(view.unit_texts) and view.unit_texts[index]:
        index += 1
    return index


def _is_negated(view: KeyText, start: int, end: int) -> bool:
    fam = family(view.language)
    before: list[str] = []
    index = start - 1
    while index >= 0 and view.unit_texts[index] and len(before) < 8:
        unit = view.unit_texts[index]
        if not before or before[-1] is not unit:
            before.append(unit)
        # Walk back over one unit (English units span several key characters).
        index -= 1
        while index >= 0 and view.spans[index] == view.spans[index + 1] and view.unit_texts[index]:
            index -= 1
    before.reverse()
    if fam == "en":
        joined = " ".join(before)
        return bool(before) and bool(_NEGATED_BEFORE_EN.search(joined) or negates_speech(joined, "", fam))
    if before and _NEGATED_BEFORE_ZH.search("".join(before)):
        return True
    rest = "".join(view.unit_texts[index] for index in range(end, _clause_end(view, end)))
    if before and negates_speech("".join(before), rest, fam):
        return True
    after: list[str] = []
    index = end
    while index < len(view.unit_texts) and view.unit_texts[index] and len(after) < 2:
        after.append(view.unit_texts[index])
        index += 1
    return bool(_NEGATED_AFTER_ZH.match("".join(after)))


@dataclass(frozen=True)
class PatternMatch:
    matched_text: str
    start: int
    end: int
    pattern: str


def find_pattern(view: KeyText, pattern: str, slots: Mapping[str, Sequence[str]] | None = None,
                 *, allow_negated: bool = False) -> PatternMatch | None:
    """The first non-negated place `pattern` matches in the reply, or None."""
    regex = compile_pattern(pattern, view.language, slots)
    for match in regex.finditer(view.keys):
        if match.end() == match.start():
            continue
        if not allow_negated and _is_negated(view, match.start(), match.end()):
            continue
        words, first, last = view.evidence(match.start(), match.end())
        if words:
            return PatternMatch(words, first, last, pattern)
    return None
