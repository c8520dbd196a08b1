"""python -m content_schema ROOT"""

import subprocess
import sys
from pathlib import Path

from content_schema.__main__ import main

from tests.support.content_schema import VALID

REPO = Path(__file__).resolve().parents[2]


def test_valid_tree_prints_summary_and_exits_0(capsys):
    assert main([str(VALID)]) == 0
    assert capsys.readouterr().out == "2 courses, 3 lessons, 3 exams, 1 scenarios: OK\n"


def test_errors_are_printed_one_per_line_and_exit_1(tree, capsys):
    tree.overlay("duplicate-keys")
    tree.edit("exams/certification.yaml", "exam: cert-agent,", "exam: cert-expert,")
    assert main([str(tree.root)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        'courses/call-handling/course.yaml:7: duplicate key "title" (first defined on line 4; expected each key once)',
        'courses/call-handling/course.yaml:10: duplicate key "order" (first defined on line 2; expected each key once)',
        'exams/certification.yaml:9: levels[1].requirements[1].exam: unknown exam "cert-expert" '
        "(expected a certification exam: cert-agent)",
    ]
    assert captured.err == "3 error(s)\n"


def test_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "content_schema", str(VALID)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, "2 courses, 3 lessons, 3 exams, 1 scenarios: OK\n")
