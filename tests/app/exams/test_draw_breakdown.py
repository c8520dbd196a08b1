"""Texts about how many questions of a kind an attempt gets are derived from the draw rules (the same
rules paper.draw applies), never written by hand."""
from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import yaml

from app.exams import paper

REPO = Path(__file__).resolve().parents[3]

POOL = ([(f"r{i}", ["rewrite"], "phrase_rewrite") for i in range(4)]
        + [(f"s{i}", ["register"], "single") for i in range(6)]
        + [(f"t{i}", ["register"], "true_false") for i in range(2)])
RULES = [{"tags": ["rewrite"], "count": 3}, {"count": 5}]


def test_breakdown_is_the_range_the_draw_produces():
    breakdown = {row.type: (row.low, row.high) for row in paper.draw_breakdown(POOL, RULES)}
    # "3 of them rewriting tasks" was wrong: the second rule may take the fourth rewrite.
    assert breakdown == {"phrase_rewrite": (3, 4), "single": (2, 5), "true_false": (0, 2)}
    seen: dict[str, set[int]] = {kind: set() for kind in breakdown}
    for seed in range(300):
        drawn = paper.draw([(qid, tags) for qid, tags, _kind in POOL], RULES, random.Random(seed))
        kinds = Counter(kind for qid, _tags, kind in POOL if qid in drawn)
        for kind, (low, high) in breakdown.items():
            assert low <= kinds[kind] <= high
            seen[kind].add(kinds[kind])
    assert {kind: (min(counts), max(counts)) for kind, counts in seen.items()} == breakdown


def test_breakdown_without_rules_and_with_overlapping_tags():
    assert [(r.type, r.low, r.high) for r in paper.draw_breakdown(POOL, None)] == [
        ("phrase_rewrite", 4, 4), ("single", 6, 6), ("true_false", 2, 2)]
    overlapping = [("a", ["x", "y"], "single"), ("b", ["x"], "ordering"), ("c", ["y"], "single")]
    rules = [{"tags": ["x"], "count": 1}, {"tags": ["y"], "count": 1}]
    # x takes a or b; y then takes c or a: a paper is {a, c} or {b, a} or {b, c}.
    assert {r.type: (r.low, r.high) for r in paper.draw_breakdown(overlapping, rules)} == {
        "single": (1, 2), "ordering": (0, 1)}


def test_shipped_exam_descriptions_carry_no_hand_written_counts():
    counted = re.compile(r"\d+\s*(?:题|道)|\b\d+\s+(?:questions?|of them)\b", re.IGNORECASE)
    for path in sorted((REPO / "exams").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for language, text in (spec.get("description") or {}).items():
            assert not counted.search(text), f"{path.name} description ({language}) counts questions by hand: {text}"


def test_start_page_lists_the_derived_breakdown(app, client, exams, make_user):
    from tests.support.web import login_as
    login_as(client, make_user("reader"))
    page = client.get("/exams/quiz-service-language").get_data(as_text=True)
    assert 'id="question-count">8' in page
    rewrite = re.search(r'<li data-type="phrase_rewrite" data-low="(\d+)" data-high="(\d+)">', page)
    assert rewrite and rewrite.groups() == ("3", "4")
    assert "共抽取8题" not in page and "其中3题" not in page
