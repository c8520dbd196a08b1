"""Text normalisation and tokenisation shared by the matcher, the exams and delivery.

Every unit keeps the character offsets of the original text it came from, so a match can
always point back at the exact words the trainee said (the evidence).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pypinyin import lazy_pinyin

Family = Literal["zh", "en", "ko"]

_FAMILIES: dict[str, Family] = {"zh-CN": "zh", "en-US": "en", "ko-KR": "ko", "zh": "zh", "en": "en", "ko": "ko"}

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})

# Contractions are expanded so "don't" and "do not" compare equal and negations are visible.
_CONTRACTION_WORDS: dict[str, tuple[str, ...]] = {
    "can't": ("can", "not"), "cannot": ("can", "not"), "won't": ("will", "not"),
    "shan't": ("shall", "not"), "ain't": ("is", "not"), "let's": ("let", "us"),
    # Typed answers often drop the apostrophe; only unambiguous spellings are listed.
    "dont": ("do", "not"), "doesnt": ("does", "not"), "didnt": ("did", "not"),
    "cant": ("can", "not"), "isnt": ("is", "not"), "arent": ("are", "not"),
    "wasnt": ("was", "not"), "werent": ("were", "not"), "havent": ("have", "not"),
    "hasnt": ("has", "not"), "hadnt": ("had", "not"), "wouldnt": ("would", "not"),
    "shouldnt": ("should", "not"), "couldnt": ("could", "not"), "mustnt": ("must", "not"),
    "im": ("i", "am"), "youre": ("you", "are"), "theyre": ("they", "are"),
    "thats": ("that", "is"), "whats": ("what", "is"), "ive": ("i", "have"),
    "youve": ("you", "have"), "weve": ("we", "have"), "theyve": ("they", "have"),
    "youll": ("you", "will"), "theyll": ("they", "will"), "wont": ("will", "not"),
}
_CONTRACTION_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("n't", "not"), ("'re", "are"), ("'ve", "have"), ("'ll", "will"), ("'m", "am"), ("'d", "would"),
)
# "'s" means "is" only after these; elsewhere it is a possessive and is dropped.
_S_IS_AFTER = frozenset({"it", "that", "there", "here", "what", "who", "where", "how", "he", "she"})


def family(language: str) -> Family:
    """Map a speech or UI language code to the matching rules it uses."""
    try:
        return _FAMILIES[language]
    except KeyError:
        raise ValueError(f"unsupported language: {language!r}") from None


def is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FA1F or char == "\u3007"
    )


def _is_syllabic(char: str) -> bool:
    """Scripts written without spaces between words: each character is its own unit."""
    if is_han(char):
        return True
    code = ord(char)
    return 0xAC00 <= code <= 0xD7A3 or 0x3040 <= code <= 0x30FF or 0x1100 <= code <= 0x11FF


@dataclass(frozen=True)
class Unit:
    """One comparable piece of text: a character (zh/ko) or a word (en)."""

    text: str                 # normalised form
    start: int                # offsets into the original text
    end: int
    clause: int               # punctuation-delimited clause number (negation never crosses it)
    sound: str                # pinyin without tone for Han characters, else the text itself


def _width_fold(char: str) -> str:
    # NFKC turns full-width letters, digits and punctuation into their ASCII forms.
    return unicodedata.normalize("NFKC", char).translate(_APOSTROPHES).lower()


def _is_separator(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "PSZC" and char != "'"


def _raw_units(text: str) -> list[tuple[str, int, int, int]]:
    """Split into (normalised text, start, end, clause) before contraction expansion."""
    units: list[tuple[str, int, int, int]] = []
    clause = 0
    word, word_start = "", -1

    def flush() -> None:
        nonlocal word, word_start
        stripped = word.strip("'")
        if stripped:
            lead = len(word) - len(word.lstrip("'"))
            units.append((stripped, word_start + lead, word_start + lead + len(stripped), clause))
        word, word_start = "", -1

    for index, original in enumerate(text):
        for char in _width_fold(original):
            if _is_syllabic(char):
                flush()
                units.append((char, index, index + 1, clause))
            elif _is_separator(char):
                flush()
                if unicodedata.category(char)[0] == "P" and char != "-":
                    clause += 1
            else:
                if not word:
                    word_start = index
                word += char
    flush()
    return units


def expand_english(word: str) -> tuple[str, ...]:
    if word in _CONTRACTION_WORDS:
        return _CONTRACTION_WORDS[word]
    for suffix, expansion in _CONTRACTION_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return (word[: -len(suffix)], expansion)
    if word.endswith("'s") and len(word) > 2:
        stem = word[:-2]
        return (stem, "is") if stem in _S_IS_AFTER else (stem,)
    return tuple(part for part in word.split("'") if part)


_FUZZY_INITIAL = re.compile(r"^(zh|ch|sh|n)")
_FUZZY_FINAL = re.compile(r"(?<=[aei])ng$")


def fuzzy_syllable(syllable: str) -> str:
    """Collapse pinyin distinctions that speakers and recognisers commonly blur."""
    syllable = _FUZZY_INITIAL.sub(lambda m: "l" if m[1] == "n" else m[1][0], syllable)
    return _FUZZY_FINAL.sub("n", syllable)


@lru_cache(maxsize=4096)
def _pinyin_run(run: str) -> tuple[str, ...]:
    syllables = lazy_pinyin(run)
    if len(syllables) == len(run):
        return tuple(syllables)
    # Characters outside pypinyin's table come back grouped; fall back to one at a time.
    return tuple((lazy_pinyin(char) or [char])[0] for char in run)


def tokenize(text: str, language: str) -> list[Unit]:
    """Units of `text` for matching in `language` (zh-CN, en-US or ko-KR)."""
    fam = family(language)
    raw = _raw_units(text)
    if fam == "en":
        units: list[Unit] = []
        for word, start, end, clause in raw:
            for part in expand_english(word):
                units.append(Unit(part, start, end, clause, part))
        return units
    if fam == "ko":
        return [Unit(t, s, e, c, t) for t, s, e, c in raw]
    han = "".join(t for t, *_ in raw if len(t) == 1 and is_han(t))
    sounds = iter(_pinyin_run(han)) if han else iter(())
    return [
        Unit(t, s, e, c, next(sounds) if len(t) == 1 and is_han(t) else t)
        for t, s, e, c in raw
    ]


def normalise(text: str, language: str) -> str:
    """Canonical text for character comparisons (typing accuracy, filler counting).

    zh/ko: full-width folded, punctuation and all whitespace removed.
    en: lowercased, punctuation removed, words joined by single spaces.
    """
    fam = family(language)
    words = [t for t, *_ in _raw_units(text)]
    if fam == "en":
        return " ".join(words).replace("'", "")
    return "".join(words).replace("'", "")
