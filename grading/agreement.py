"""How far the grader agrees with blind labels: the development sets and Cohen's kappa.

The sets in grading/devset/ were written and labelled by people who saw only each scenario's
case facts, its customer lines and the seed rules, never a rubric:
- devset.jsonl: the development set (rubrics were tuned while looking at it);
- devset-noisy.jsonl: the same replies as a recogniser or a hurried typist hands them over;
- holdout.jsonl: a second set by other labellers, never tuned on directly (its disagreements were
  read once, so it is no longer untouched);
- holdout2.jsonl: a third set by yet another labeller, measured once after the tuning of its day;
- holdout3.jsonl: natural replies (most in the agent's own words, a fifth as a recogniser hands
  them over) written and labelled by one person and labelled again, blind, by a second, who agreed
  on every pass/fail (kappa 1.0); where either said borderline, so does the row. Tuned on;
- holdout4.jsonl: the same kind of set by another writer, measured once, then tuned on;
- holdout5.jsonl: the same kind by a third writer, measured once after all tuning (kappa 0.819
  overall, 0.801 zh-CN / 0.889 en-US, before any rubric had seen it); its three false passes
  were read afterwards.
Each row: scenario, node, language, kind (plain / paraphrase / adversarial), trap, text, the three
judgements (responds, advances, within_rules) and label (pass / fail / borderline).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from grading.pipeline import TurnContext, grade_turn
from grading.rubric import RubricItem

DEVSET_DIR = Path(__file__).resolve().parent / "devset"
SETS = {"clean": DEVSET_DIR / "devset.jsonl", "noisy": DEVSET_DIR / "devset-noisy.jsonl",
        "holdout": DEVSET_DIR / "holdout.jsonl", "holdout2": DEVSET_DIR / "holdout2.jsonl",
        "holdout3": DEVSET_DIR / "holdout3.jsonl", "holdout4": DEVSET_DIR / "holdout4.jsonl",
        "holdout5": DEVSET_DIR / "holdout5.jsonl"}
# slug -> (language, node id -> rubric, rules checked on every reply)
Rubrics = Mapping[str, tuple[str, Mapping[str, Sequence[RubricItem]], Sequence[RubricItem]]]


@dataclass(frozen=True)
class Verdict:
    row: dict
    passed: bool
    judgements: dict[str, bool]


@dataclass(frozen=True)
class Agreement:
    n: int
    kappa: float
    false_pass: int
    false_fail: int
    adversarial_passed: int     # adversarial replies the labeller failed that the grader passed


def load_rows(name: str) -> list[dict]:
    return [json.loads(line) for line in SETS[name].read_text("utf-8").splitlines() if line.strip()]


def grade_rows(rows: Iterable[dict], rubrics: Rubrics) -> list[Verdict]:
    """The grader's verdict on each labelled reply, as the call screen would give it."""
    verdicts = []
    for row in rows:
        if row["scenario"] not in rubrics:
            continue
        language, nodes, rules = rubrics[row["scenario"]]
        if row["node"] not in nodes:
            continue
        grade = grade_turn(TurnContext(row["text"], language, nodes[row["node"]], rules))
        verdicts.append(Verdict(row, grade.passed, {k: j.held or not j.applies for k, j in grade.judgements.items()}))
    return verdicts


def kappa(pairs: Sequence[tuple[bool, bool]]) -> float:
    """Cohen's kappa for two raters' pass/fail verdicts (nan for no pairs; 0 when one rater
    gave a single verdict to everything and the other did not agree throughout)."""
    n = len(pairs)
    if n == 0:
        return float("nan")
    observed = sum(1 for a, b in pairs if a == b) / n
    p_a = sum(1 for a, _ in pairs if a) / n
    p_b = sum(1 for _, b in pairs if b) / n
    expected = p_a * p_b + (1 - p_a) * (1 - p_b)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def agreement(verdicts: Sequence[Verdict]) -> Agreement:
    decided = [v for v in verdicts if v.row["label"] in ("pass", "fail")]
    pairs = [(v.row["label"] == "pass", v.passed) for v in decided]
    return Agreement(
        n=len(decided), kappa=kappa(pairs),
        false_pass=sum(1 for want, got in pairs if got and not want),
        false_fail=sum(1 for want, got in pairs if want and not got),
        adversarial_passed=sum(1 for v in decided if v.row["kind"] == "adversarial" and v.passed
                               and v.row["label"] == "fail"),
    )
