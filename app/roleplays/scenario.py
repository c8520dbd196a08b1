"""A scenario as the grader sees it: the resolved spec stored as JSON on a ScenarioVersion.

``scenario_document`` turns content_schema's validated Scenario into that JSON (the rubric
items already expanded from the library, greeting and closing included), and ``ScenarioDoc``
reads it back for grading, so a past attempt is always graded against what it was taken on.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from content_schema import Scenario as ContentScenario
from grading.call import ENDINGS
from grading.localize import pick
from grading.rubric import RubricItem, item_from_dict

# 2: items carry judgement, patterns, slots and label; the document carries `rules` (forbidden on
# every reply). Format-1 documents (versions published before) are read with no extra rules.
DOCUMENT_FORMAT = 2


def _item_to_json(item: RubricItem | None) -> dict | None:
    if item is None:
        return None
    data = asdict(item)
    data["phrases"] = list(item.phrases)
    data["elements"] = [list(group) for group in item.elements]
    data["patterns"] = list(item.patterns)
    data["slots"] = {name: list(values) for name, values in item.slots.items()}
    return data


def _item_from_json(data: Mapping[str, Any] | None) -> RubricItem | None:
    return item_from_dict(data) if data else None


def scenario_document(scenario: ContentScenario) -> dict:
    """The full resolved scenario as plain JSON data."""
    spec = scenario.spec.model_dump(mode="json", by_alias=True)
    spec["format"] = DOCUMENT_FORMAT
    spec["nodes"] = {
        node_id: {
            "line": node.line,
            "anger": node.anger,
            "rubric": [_item_to_json(item) for item in node.rubric],
            "next": dict(node.next),
        }
        for node_id, node in scenario.nodes.items()
    }
    spec["greeting"] = _item_to_json(scenario.greeting)
    spec["closing"] = _item_to_json(scenario.closing)
    spec["rules"] = [_item_to_json(item) for item in scenario.rules]
    return spec


def document_checksum(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Node:
    id: str
    line: str
    anger: int
    rubric: tuple[RubricItem, ...]
    next: Mapping[str, str]


# The customer's last words per ending, in the call's language, when the scenario gives none
# (a scenario document's own `last_lines: {resolved: …, transferred: …, hangup: …}` take precedence).
LAST_LINES = {
    "resolved": {"zh-CN": "好的，那就按您说的办。谢谢您的帮忙。",
                 "en-US": "All right, that sorts it out then. Thanks for your help.",
                 "ko-KR": "네, 그럼 그렇게 해 주세요. 도와주셔서 감사합니다."},
    "transferred": {"zh-CN": "好吧，那我等着那边的同事接听。",
                    "en-US": "Fine, I'll hold for your colleague then.",
                    "ko-KR": "알겠어요, 그럼 담당자 연결을 기다릴게요."},
    "hangup": {"zh-CN": "算了，跟你说不清楚，我挂了！",
               "en-US": "Forget it, this is going nowhere. I'm hanging up!",
               "ko-KR": "됐어요, 말이 안 통하네요. 끊을게요!"},
}


class _Nodes(dict):
    """The scenario's nodes. An ending ("end:resolved") is not one of them (`in`, iteration), but
    looking it up gives the moment after the case ended: the customer's last line, and the closing
    (thanks and goodbye) as its only rubric item — what the trainee's closing turn answers."""

    def __init__(self, nodes: dict, doc: ScenarioDoc) -> None:
        super().__init__(nodes)
        self._doc = doc

    def __missing__(self, key: str) -> Node:
        if key not in ENDINGS:
            raise KeyError(key)
        doc = self._doc
        rubric = (doc.closing,) if doc.closing is not None else ()
        return Node(key, doc.last_line(key.removeprefix("end:")), 0, rubric, {})


class ScenarioDoc:
    """Read access to a stored scenario document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.data = document
        self.greeting = _item_from_json(document.get("greeting"))
        self.closing = _item_from_json(document.get("closing"))
        self.nodes: dict[str, Node] = _Nodes({
            node_id: Node(node_id, node["line"], int(node["anger"]),
                          tuple(_item_from_json(item) for item in node["rubric"]), dict(node["next"]))
            for node_id, node in document["nodes"].items()
        }, self)
        self.rules: tuple[RubricItem, ...] = tuple(_item_from_json(item) for item in document.get("rules") or ())

    def last_line(self, ending: str) -> str:
        """What the customer says as the call reaches `ending` (resolved | transferred | hangup)."""
        own = (self.data.get("last_lines") or {}).get(ending)
        if isinstance(own, str) and own.strip():
            return own.strip()
        lines = LAST_LINES.get(ending, LAST_LINES["resolved"])
        language = str(self.data.get("language") or "zh-CN")
        return lines.get(language) or lines["zh-CN"]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.data["thresholds"])

    @property
    def anger_step(self) -> dict[str, int]:
        return dict(self.data["anger_step"])

    @property
    def delivery_points(self) -> float:
        return float(self.data["delivery"]["points"])

    @property
    def rings_rule(self) -> dict:
        return dict(self.data["call_rules"]["answer_within_rings"])

    def text(self, field: str, ui_language: str) -> str:
        """A localized field (title, case_facts) in the UI language, zh-CN as fallback."""
        return pick(self.data.get(field), ui_language)

    def is_fallback(self, field: str, ui_language: str) -> bool:
        """True when `field` has no text in `ui_language` and the zh-CN text is shown instead."""
        value = self.data.get(field)
        return isinstance(value, Mapping) and not value.get(ui_language)

    def temperament(self, ui_language: str) -> str:
        return pick(self.data["persona"].get("temperament"), ui_language)

    def grammar(self, node_id: str, *, phrasebook_forms: list[str] = ()) -> list[str]:
        """Every phrasing the grader listens for in this scenario, this node's first: rubric
        phrases and element alternatives (forbidden ones too, so a bad reply is heard as bad),
        the greeting, the closing, and the habitual forms of the phrasebook.

        The whole scenario's phrases, not only this node's: a grammar forces all speech onto
        its phrases, so words meant for another node (a second greeting, an early apology)
        would otherwise be heard as whatever this node lists, a forbidden phrase included.
        """
        items = list(self.nodes[node_id].rubric)
        items.extend(item for other_id, other in self.nodes.items() if other_id != node_id for item in other.rubric)
        items.extend(rule for rule in (self.greeting, self.closing) if rule is not None)
        phrases: list[str] = []
        for item in items:
            phrases.extend(item.phrases)
            for group in item.elements:
                phrases.extend(group)
        phrases.extend(phrasebook_forms)
        # Recognisers know words, not punctuation: "네, 알겠어요." is listened for as "네 알겠어요".
        cleaned = (" ".join("".join(" " if unicodedata.category(ch).startswith("P") else ch
                                    for ch in phrase).split()) for phrase in phrases)
        return list(dict.fromkeys(p for p in cleaned if p))
