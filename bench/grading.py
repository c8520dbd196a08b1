"""Agreement of the role-play grader with blind labels (prints figures; asserts nothing).

The development set (tests/fixtures/grading/devset.jsonl) was written by labellers who saw
only each scenario's case facts, its customer lines and the seed rules, never a rubric: for
each reply, three judgements (responds / advances / within the rules) and pass / fail /
borderline. devset-noisy.jsonl is the same replies as a recogniser or a hurried typist
would hand them over (bench/noisy_devset.py). Borderline replies are left out of agreement.

For every reply the grader's verdict is the one the call screen gives (grading.pipeline:
passed = every judgement holds), on the scenario as the content files define it.
Prints Cohen's kappa, false passes and false fails per language and per kind, every
adversarial reply that passed, and (with --show N) the first N disagreements.

Run: .venv/bin/python bench/grading.py [--set clean|noisy|both] [--show N]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from content_schema import load_content  # noqa: E402
from grading.pipeline import TurnContext, grade_turn  # noqa: E402
from grading.rubric import RubricItem, item_from_dict  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "grading"
SETS = {"clean": FIXTURES / "devset.jsonl", "noisy": FIXTURES / "devset-noisy.jsonl"}


@dataclass(frozen=True)
class Verdict:
    row: dict
    passed: bool
    judgements: dict[str, bool]


def load_rows(name: str) -> list[dict]:
    return [json.loads(line) for line in SETS[name].read_text("utf-8").splitlines() if line.strip()]


def scenario_rubrics(root: Path = ROOT) -> dict[str, tuple[str, dict[str, tuple[RubricItem, ...]], tuple[RubricItem, ...]]]:
    """slug -> (language, node -> rubric, rules), straight from the content files."""
    bundle = load_content(root)
    return {slug: (s.spec.language, {n: node.rubric for n, node in s.nodes.items()}, s.rules)
            for slug, s in bundle.scenarios.items()}


def grade_rows(rows: Iterable[dict], rubrics) -> list[Verdict]:
    verdicts = []
    for row in rows:
        language, nodes, rules = rubrics[row["scenario"]]
        grade = grade_turn(TurnContext(row["text"], language, nodes[row["node"]], rules))
        verdicts.append(Verdict(row, grade.passed, {k: j.held or not j.applies for k, j in grade.judgements.items()}))
    return verdicts


def kappa(pairs: list[tuple[bool, bool]]) -> float:
    """Cohen's kappa for two raters' pass/fail verdicts."""
    n = len(pairs)
    if n == 0:
        return float("nan")
    observed = sum(1 for a, b in pairs if a == b) / n
    p_a = sum(1 for a, _ in pairs if a) / n
    p_b = sum(1 for _, b in pairs if b) / n
    expected = p_a * p_b + (1 - p_a) * (1 - p_b)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class Agreement:
    n: int
    kappa: float
    false_pass: int
    false_fail: int
    adversarial_passed: int     # adversarial replies the labeller failed that the grader passed


def agreement(verdicts: list[Verdict]) -> Agreement:
    decided = [v for v in verdicts if v.row["label"] in ("pass", "fail")]
    pairs = [(v.row["label"] == "pass", v.passed) for v in decided]
    return Agreement(
        n=len(decided), kappa=kappa(pairs),
        false_pass=sum(1 for want, got in pairs if got and not want),
        false_fail=sum(1 for want, got in pairs if want and not got),
        adversarial_passed=sum(1 for v in decided if v.row["kind"] == "adversarial" and v.passed
                               and v.row["label"] == "fail"),
    )


def report(name: str, verdicts: list[Verdict], show: int) -> dict[str, Agreement]:
    groups: dict[str, list[Verdict]] = defaultdict(list)
    for v in verdicts:
        groups[v.row["language"]].append(v)
        groups[f"{v.row['language']} {v.row['kind']}"].append(v)
    groups["all"] = verdicts
    out = {}
    print(f"\n== {name}: {len(verdicts)} replies ({sum(1 for v in verdicts if v.row['label'] == 'borderline')} borderline left out)")
    print(f"{'group':<26}{'n':>5}{'kappa':>8}{'false pass':>12}{'false fail':>12}{'adv. passed':>13}")
    for key in sorted(groups, key=lambda k: (k != "all", k)):
        a = agreement(groups[key])
        out[key] = a
        print(f"{key:<26}{a.n:>5}{a.kappa:>8.3f}{a.false_pass:>12}{a.false_fail:>12}{a.adversarial_passed:>13}")
    for judgement, field in (("responds", "responds"), ("advances", "advances"), ("rules", "within_rules")):
        pairs = [(bool(v.row[field]), v.judgements[judgement]) for v in verdicts]
        print(f"judgement {judgement:<10} agreement {sum(a == b for a, b in pairs) / len(pairs):.3f}"
              f"  kappa {kappa(pairs):.3f}")
    bad = [v for v in verdicts if v.row["label"] in ("pass", "fail") and (v.row["label"] == "pass") != v.passed]
    for v in bad[:show]:
        mine = ",".join(k for k, held in v.judgements.items() if not held) or "-"
        theirs = ",".join(k for k, f in (("responds", "responds"), ("advances", "advances"), ("rules", "within_rules"))
                          if not v.row[f]) or "-"
        print(f"  {v.row['id']} label={v.row['label']} missed(label)={theirs} missed(grader)={mine}: {v.row['text']}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", choices=("clean", "noisy", "both"), default="both")
    parser.add_argument("--show", type=int, default=0, help="print the first N disagreements")
    args = parser.parse_args()
    rubrics = scenario_rubrics()
    names = ("clean", "noisy") if args.set == "both" else (args.set,)
    for name in names:
        started = time.perf_counter()
        verdicts = grade_rows(load_rows(name), rubrics)
        elapsed = time.perf_counter() - started
        report(name, verdicts, args.show)
        print(f"graded in {elapsed:.2f} s ({1000 * elapsed / max(1, len(verdicts)):.1f} ms a reply)")


if __name__ == "__main__":
    main()
