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
    # The list as shown is the learner's answer until they move something, exactly as
    # the form would send it.
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
        correct = [item["id"] for item in entry["items"]]
        return QuestionResult(score_ordering(effective_ordering(entry, response), correct, entry["partial_credit"]))
    if kind == "phrase_rewrite":
        grade = score_phrase_rewrite(response or "", rubric_items(entry), entry["language"],
                                     rules=[item_from_dict(r) for r in entry.get("rules") or ()])
        items = [asdict(item) for item in grade.items]
        return QuestionResult(grade.fraction, {"items": items, "earned": grade.earned, "possible": grade.possible})
    if kind == "listen_type":
        seconds = typing_seconds or 0.0
        typed = score_listen_type(entry["text"], response or "", seconds, entry["min_accuracy"],
                                  entry["min_cpm"], entry["language"])
        return QuestionResult(typed.fraction, {"seconds": round(seconds, 1)},
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
