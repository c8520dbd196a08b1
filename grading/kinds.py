"""Rubric item kinds: what an item of each kind means for a reply, one class each.

An intent is satisfied when any registered matcher finds it; a forbidden item is broken when
any matcher finds it and costs its points. A new kind is one class with ``evaluate`` and one
``register_kind`` call (CTFd's CHALLENGE_CLASSES are the model).
"""
from __future__ import annotations

from typing import ClassVar

from grading.items import ItemResult, RubricItem, judgement_of, rule_name
from grading.matchers import MATCHERS, Found, Reply


class ItemKind:
    name: ClassVar[str]

    @classmethod
    def evaluate(cls, reply: Reply, item: RubricItem) -> ItemResult:
        raise NotImplementedError


class Intent(ItemKind):
    name = "intent"

    @classmethod
    def evaluate(cls, reply: Reply, item: RubricItem) -> ItemResult:
        found = next((f for m in MATCHERS if (f := m.first(reply, item)) is not None), None)
        points = float(item.points)
        return ItemResult(item.id, "intent", points, points if found else 0.0, found is not None,
                          list(found.words) if found else [], rule_name(item), dict(item.explanation),
                          judgement_of(item), dict(item.label))


class Forbidden(ItemKind):
    name = "forbidden"

    @classmethod
    def evaluate(cls, reply: Reply, item: RubricItem) -> ItemResult:
        found: list[Found] = []
        for matcher in MATCHERS:
            for hit in matcher.every(reply, item):
                if not any(hit.start < f.end and f.start < hit.end for f in found):
                    found.append(hit)
        found.sort(key=lambda f: f.start)
        return ItemResult(item.id, "forbidden", 0.0, -float(item.points) if found else 0.0, bool(found),
                          [w for f in found for w in f.words], rule_name(item), dict(item.explanation),
                          judgement_of(item), dict(item.label))


ITEM_KINDS: dict[str, type[ItemKind]] = {}


def register_kind(kind: type[ItemKind]) -> type[ItemKind]:
    ITEM_KINDS[kind.name] = kind
    return kind


for _kind in (Intent, Forbidden):
    register_kind(_kind)
