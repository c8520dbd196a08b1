"""Agreement of the role-play grader with blind labels (prints figures; asserts nothing).

The labelled sets are described in grading/agreement.py: the development set (clean and
noisy, bench/noisy_devset.py) and a held-out set never used for tuning. Borderline replies
are left out of agreement.

For every reply the grader's verdict is the one the call screen gives (grading.pipeline:
passed = every judgement holds), on the scenario as the content files define it.
Prints Cohen's kappa, false passes and false fails per language and per kind, every
adversarial reply that passed, and (with --show N) the first N disagreements.

Run: .venv/bin/python bench/grading.py [--set clean|noisy|both] [--show N]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from content_schema import load_content  # noqa: E402
from grading.agreement import SETS, Verdict, agreement, grade_rows, kappa, load_rows  # noqa: E402,F401


def scenario_rubrics(root: Path = ROOT):
    """slug -> (language, node -> rubric, rules), straight from the content files."""
    bundle = load_content(root)
    return {slug: (s.spec.language, {n: node.rubric for n, node in s.nodes.items()}, s.rules)
            for slug, s in bundle.scenarios.items()}


def report(name: str, verdicts: list[Verdict], show: int) -> dict:
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
    parser.add_argument("--set", choices=(*SETS, "both", "all"), default="all")
    parser.add_argument("--show", type=int, default=0, help="print the first N disagreements")
    args = parser.parse_args()
    rubrics = scenario_rubrics()
    names = {"both": ("clean", "noisy"), "all": tuple(n for n in SETS if SETS[n].exists())}.get(args.set, (args.set,))
    for name in names:
        started = time.perf_counter()
        verdicts = grade_rows(load_rows(name), rubrics)
        elapsed = time.perf_counter() - started
        report(name, verdicts, args.show)
        print(f"graded in {elapsed:.2f} s ({1000 * elapsed / max(1, len(verdicts)):.1f} ms a reply)")


if __name__ == "__main__":
    main()
