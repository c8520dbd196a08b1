"""Matchers: the ways a rubric item can be recognised in a reply, one class each.

A matcher looks at one field of a rubric item (its accepted phrases, its element groups, its
constructions) and answers with the reply's own words that satisfy it. Adding a way of
recognising an intent is one class here and one ``register_matcher`` call; the item kinds in
grading.kinds ask every registered matcher in turn.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from grading.matching import Match, find_all, find_any
from grading.patterns import KeyText, find_pattern, key_text
from grading.text import Unit, tokenize

if TYPE_CHECKING:
    from grading.items import RubricItem


@dataclass
class Reply:
    """One reply, with the views matchers need computed once."""

    text: str
    language: str

    @cached_property
    def units(self) -> list[Unit]:
        return tokenize(self.text, self.language)

    @cached_property
    def keys(self) -> KeyText:
        return key_text(self.text, self.language)


@dataclass(frozen=True)
class Found:
    words: tuple[str, ...]   # the reply's words, as typed or transcribed (one per element group)
    start: int
    end: int


class Matcher:
    name: ClassVar[str]

    def first(self, reply: Reply, item: RubricItem) -> Found | None:
        """The best place the item is satisfied, or None."""
        raise NotImplementedError

    def every(self, reply: Reply, item: RubricItem) -> list[Found]:
        """Every place (forbidden items quote each occurrence)."""
        found = self.first(reply, item)
        return [found] if found else []


class PhraseMatcher(Matcher):
    """An accepted phrasing, tolerant of homophones and a dropped character (grading.matching)."""
    name = "phrases"

    def first(self, reply: Reply, item: RubricItem) -> Found | None:
        match = find_any(reply.text, item.phrases, reply.language) if item.phrases else None
        return _found(match)

    def every(self, reply: Reply, item: RubricItem) -> list[Found]:
        return [_found(m) for m in find_all(reply.text, item.phrases, reply.language)] if item.phrases else []


class ElementsMatcher(Matcher):
    """Every element group present somewhere in the reply, any alternative of each."""
    name = "elements"

    def first(self, reply: Reply, item: RubricItem) -> Found | None:
        if not item.elements:
            return None
        matches: list[Match] = []
        for group in item.elements:
            match = find_any(reply.text, group, reply.language)
            if match is None:
                return None
            matches.append(match)
        matches.sort(key=lambda m: m.start)
        return Found(tuple(m.matched_text for m in matches), matches[0].start, matches[-1].end)


class PatternMatcher(Matcher):
    """A construction with slots (grading.patterns)."""
    name = "patterns"

    def first(self, reply: Reply, item: RubricItem) -> Found | None:
        for pattern in item.patterns:
            match = find_pattern(reply.keys, pattern, item.slots)
            if match is not None:
                return Found((match.matched_text,), match.start, match.end)
        return None

    def every(self, reply: Reply, item: RubricItem) -> list[Found]:
        found: list[Found] = []
        for pattern in item.patterns:
            match = find_pattern(reply.keys, pattern, item.slots)
            if match is not None:
                found.append(Found((match.matched_text,), match.start, match.end))
        return found


def _found(match: Match | None) -> Found | None:
    return Found((match.matched_text,), match.start, match.end) if match else None


MATCHERS: list[Matcher] = []


def register_matcher(matcher: Matcher | Callable[[], Matcher]) -> Matcher:
    instance = matcher() if isinstance(matcher, type) else matcher
    MATCHERS.append(instance)
    return instance


for _matcher in (PhraseMatcher, PatternMatcher, ElementsMatcher):
    register_matcher(_matcher)
