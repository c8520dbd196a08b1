"""An exam paper: drawing questions, fixing the order they are shown in, checking and
scoring responses. Pure functions over plain data; the services add the database.

A paper entry is the question as authored (answer key included) plus ``version`` and
``display`` (option or item ids in the order this learner sees them). It never goes to
the browser as a whole: templates pick out what may be shown.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from grading.exam import (
    score_listen_type,
    score_multiple,
    score_ordering,
    score_phrase_rewrite,
    score_single,
    score_true_false,
)
from grading.rubric import RubricItem, item_from_dict
from grading.typing import TypingComparison, compare_typing

CHOICE_TYPES = ("single", "multiple")
TEXT_TYPES = ("phrase_rewrite", "listen_type")
MAX_TEXT_LENGTH = 2000


class InvalidResponse(ValueError):
    """A response that does not fit its question (unknown option, not a permutation…)."""


# --- from content to stored question -----------------------------------------------

def question_data(spec: Any, rubric: Sequence[RubricItem] = (), rules: Sequence[RubricItem] = ()) -> dict[str, Any]:
    """The stored form of a validated question spec; phrase_rewrite gets its resolved rubric and the
    forbidden catalogue checked on every rewrite."""
    data = spec.model_dump(mode="json")
    if data["type"] == "phrase_rewrite":
        data["rubric"] = [asdict(item) for item in rubric]
        data["rules"] = [asdict(item) for item in rules]
    return data


def question_checksum(data: Mapping[str, Any]) -> str:
    # The audio file name is left out: a new speech engine version renames the file
    # without changing the question.
    content = {key: value for key, value in data.items() if key != "audio"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


# --- drawing and ordering -------------------------------------------------------------

def draw(questions: Sequence[tuple[str, Sequence[str]]], rules: Sequence[Mapping[str, Any]] | None,
         rng: random.Random) -> list[str]:
    """Question ids drawn by the rules, applied in order, each from what earlier rules left.

    ``questions`` are (id, tags) in authored order; no rules means every question.
    The result keeps authored order; shuffling is a separate step.
    """
    if not rules:
        return [question_id for question_id, _tags in questions]
    drawn: set[str] = set()
    for rule in rules:
        wanted = set(rule.get("tags") or ())
        pool = [qid for qid, tags in questions if qid not in drawn and (not wanted or wanted & set(tags))]
        drawn.update(rng.sample(pool, min(rule["count"], len(pool))))
    return [question_id for question_id, _tags in questions if question_id in drawn]


def paper_size(question_count: int, rules: Sequence[Mapping[str, Any]] | None) -> int:
    """How many questions an attempt gets (the validator guarantees every rule can be met)."""
    if not rules:
        return question_count
    return min(question_count, sum(rule["count"] for rule in rules))


@dataclass(frozen=True)
class TypeCount:
    type: str
    low: int   # fewest questions of this type an attempt can get
    high: int  # most


def draw_breakdown(questions: Sequence[tuple[str, Sequence[str], str]],
                   rules: Sequence[Mapping[str, Any]] | None) -> list[TypeCount]:
    """How many questions of each type an attempt can contain under the same rules ``draw`` applies:
    the fewest and the most over every paper the rules can produce. ``questions`` are
    (id, tags, type) in authored order; types are listed in the order they first appear.
    Texts such as "3 of them rewriting tasks" are derived from this, never written by hand."""
    types = list(dict.fromkeys(kind for _qid, _tags, kind in questions))
    if not rules:
        return [TypeCount(kind, n, n) for kind in types
                for n in [sum(1 for _q, _t, k in questions if k == kind)]]
    counts = []
    for kind in types:
        low = _draw_extreme(questions, rules, kind, fewest=True)
        high = _draw_extreme(questions, rules, kind, fewest=False)
        if high:
            counts.append(TypeCount(kind, low, high))
    return counts


def _draw_extreme(questions: Sequence[tuple[str, Sequence[str], str]], rules: Sequence[Mapping[str, Any]],
                  kind: str, fewest: bool) -> int:
    """The fewest (or most) questions of ``kind`` in a full draw: a paper is any choice of distinct
    questions giving every rule ``count`` questions from its pool (what ``draw`` picks at random), so
    this is a min-cost max-flow source → rule → question → sink, each question of ``kind`` costing
    +1 (fewest) or −1 (most)."""
    n_rules = len(rules)
    source, sink = 0, 1 + n_rules + len(questions)
    graph: list[list[list[int]]] = [[] for _ in range(sink + 1)]  # edge: [to, capacity, cost, reverse index]

    def edge(a: int, b: int, capacity: int, cost: int) -> None:
        graph[a].append([b, capacity, cost, len(graph[b])])
        graph[b].append([a, 0, -cost, len(graph[a]) - 1])

    for index, rule in enumerate(rules):
        edge(source, 1 + index, int(rule["count"]), 0)
        wanted = set(rule.get("tags") or ())
        for q_index, (_qid, tags, _kind) in enumerate(questions):
            if not wanted or wanted & set(tags):
                edge(1 + index, 1 + n_rules + q_index, 1, 0)
    for q_index, (_qid, _tags, q_kind) in enumerate(questions):
        edge(1 + n_rules + q_index, sink, 1, (1 if fewest else -1) if q_kind == kind else 0)

    total = 0
    while True:  # successive shortest paths (Bellman-Ford with a queue: costs may be negative)
        distance: list[int | None] = [None] * (sink + 1)
        previous: list[tuple[int, int] | None] = [None] * (sink + 1)
        distance[source] = 0
        queue, queued = deque([source]), {source}
        while queue:
            node = queue.popleft()
            queued.discard(node)
            for e_index, (to, capacity, cost, _rev) in enumerate(graph[node]):
                if capacity > 0 and (distance[to] is None or distance[node] + cost < distance[to]):
                    distance[to] = distance[node] + cost
                    previous[to] = (node, e_index)
                    if to not in queued:
                        queue.append(to)
                        queued.add(to)
        if distance[sink] is None:
            break
        node = sink
        while node != source:
            back, e_index = previous[node]
            forward = graph[back][e_index]
            forward[1] -= 1
            graph[node][forward[3]][1] += 1
            node = back
        total += distance[sink]
    return abs(total)


def display_order(data: Mapping[str, Any], shuffle_options: bool, rng: random.Random) -> list[str] | None:
    """Option or item ids in the order this learner sees them (None: nothing to order)."""
    if data["type"] in CHOICE_TYPES:
        ids = [option["id"] for option in data["options"]]
        if shuffle_options:
            rng.shuffle(ids)
        return ids
    if data["type"] == "ordering":
        # Items are always shown shuffled, and never already in the right order.
        correct = [item["id"] for item in data["items"]]
        ids = list(correct)
        while ids == correct:
            rng.shuffle(ids)
        return ids
    return None


def paper_entry(data: Mapping[str, Any], version: int, display: list[str] | None) -> dict[str, Any]:
    return {**data, "version": version, "display": display}


# --- responses ------------------------------------------------------------------------

def clean_response(entry: Mapping[str, Any], raw: Any) -> Any:
    """The response in its stored form, or InvalidResponse. None means "no answer"."""
    kind = entry["type"]
    if raw is None:
        return None
    if kind == "single":
        if raw == "":
            return None
        if not isinstance(raw, str) or raw not in entry["display"]:
            raise InvalidResponse("unknown option")
        return raw
    if kind == "multiple":
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise InvalidResponse("expected a list of option ids")
        if set(raw) - set(entry["display"]):
            raise InvalidResponse("unknown option")
        return [option for option in entry["display"] if option in raw]
    if kind == "true_false":
        if isinstance(raw, bool):
            return raw
        if raw in ("true", "false"):  # from a form
            return raw == "true"
        if raw == "":
            return None
        raise InvalidResponse("expected true or false")
    if kind == "ordering":
        if not isinstance(raw, list) or sorted(raw) != sorted(entry["display"]):
            raise InvalidResponse("expected every item exactly once")
        return raw
    if not isinstance(raw, str):
        raise InvalidResponse("expected text")
    if len(raw) > MAX_TEXT_LENGTH:
        raise InvalidResponse("text too long")
    return raw


def is_answered(entry: Mapping[str, Any], response: Any) -> bool:
    if entry["type"] == "ordering":
        return response is not None
    if isinstance(response, str):
        return bool(response.strip())
    return response not in (None, [])


def effective_ordering(entry: Mapping[str, Any], response: Any) -> list[str]:
    # The list as shown: the learner's order once they moved something, else the starting order
    # (which is not an answer: an untouched ordering question is unanswered and scores 0).
    return list(response) if response is not None else list(entry["display"])


def correct_options(entry: Mapping[str, Any]) -> list[str]:
    return [option["id"] for option in entry["options"] if option.get("correct")]


def rubric_items(entry: Mapping[str, Any]) -> list[RubricItem]:
    return [item_from_dict(item) for item in entry["rubric"]]


# --- scoring --------------------------------------------------------------------------

@dataclass
class QuestionResult:
    fraction: float  # share of the question's points, 0..1
    feedback: dict[str, Any] = field(default_factory=dict)
    accuracy: float | None = None
    cpm: float | None = None


def score(entry: Mapping[str, Any], response: Any, typing_seconds: float | None = None) -> QuestionResult:
    """Score one response against its paper entry; listen_type needs the typing time."""
    kind = entry["type"]
    if kind == "single":
        return QuestionResult(score_single(response, correct_options(entry)[0]))
    if kind == "multiple":
        return QuestionResult(score_multiple(response or [], correct_options(entry), entry["partial_credit"]))
    if kind == "true_false":
        return QuestionResult(score_true_false(response, entry["answer"]))
    if kind == "ordering":
        if response is None:  # never moved: the shuffled starting order is not an answer
            return QuestionResult(0.0, {"untouched": True})
        correct = [item["id"] for item in entry["items"]]
        return QuestionResult(score_ordering(list(response), correct, entry["partial_credit"]))
    if kind == "phrase_rewrite":
        grade = score_phrase_rewrite(response or "", rubric_items(entry), entry["language"],
                                     rules=[item_from_dict(r) for r in entry.get("rules") or ()])
        items = [asdict(item) for item in grade.items]
        return QuestionResult(grade.fraction, {"items": items, "earned": grade.earned, "possible": grade.possible})
    if kind == "listen_type":
        seconds = typing_seconds or 0.0
        typed = score_listen_type(entry["text"], response or "", seconds, entry["min_accuracy"],
                                  entry["min_cpm"], entry["language"])
        compared = compare_typing(entry["text"], response or "", entry["language"])
        return QuestionResult(typed.fraction, {"seconds": round(seconds, 1), "errors": compared.errors,
                                               "critical_errors": compared.critical_errors},
                              accuracy=typed.accuracy, cpm=typed.cpm)
    raise ValueError(f"unknown question type {kind!r}")


# --- display ---------------------------------------------------------------------------

def shown_choices(entry: Mapping[str, Any], response: Any = None) -> list[dict[str, Any]]:
    """Options (single, multiple) or items (ordering, in the learner's current order) to show."""
    if entry["type"] in CHOICE_TYPES:
        options = {option["id"]: option for option in entry["options"]}
        return [options[option_id] for option_id in entry["display"]]
    if entry["type"] == "ordering":
        items = {item["id"]: item for item in entry["items"]}
        return [items[item_id] for item_id in effective_ordering(entry, response)]
    return []


def typing_comparison(entry: Mapping[str, Any], response: Any) -> TypingComparison:
    """A listen-and-type answer against what was said, character by character (for the result page)."""
    return compare_typing(entry["text"], response or "", entry["language"])
