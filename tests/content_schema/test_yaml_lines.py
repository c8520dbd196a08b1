import pytest

from content_schema.yaml_lines import YamlProblems, load_yaml


def test_lines_of_nested_keys_and_list_items():
    document = load_yaml(
        "slug: demo\n"
        "nodes:\n"
        "  opening:\n"
        "    rubric:\n"
        "      - {id: ack, points: 2}\n"
        "      - id: confirm\n"
        "        points: 3\n"
    )
    assert document.data["nodes"]["opening"]["rubric"][1] == {"id": "confirm", "points": 3}
    assert document.line_for(("slug",)) == 1
    assert document.line_for(("nodes", "opening")) == 3
    assert document.line_for(("nodes", "opening", "rubric", 0)) == 5
    assert document.line_for(("nodes", "opening", "rubric", 1, "points")) == 7


def test_missing_path_falls_back_to_nearest_ancestor():
    document = load_yaml("a:\n  b:\n    c: 1\n")
    assert document.line_for(("a", "b", "missing", "deeper")) == 2


def test_line_offset_shifts_every_line():
    document = load_yaml("title: 标题\norder: 1\n", line_offset=1)
    assert document.line_for(("order",)) == 3


def test_duplicate_keys_are_all_reported_with_their_lines():
    with pytest.raises(YamlProblems) as caught:
        load_yaml("title: 一\norder: 1\ntitle: 二\nnested:\n  k: 1\n  k: 2\n")
    reported = [(problem.line, problem.message) for problem in caught.value.problems]
    assert reported == [
        (3, 'duplicate key "title" (first defined on line 1; expected each key once)'),
        (6, 'duplicate key "k" (first defined on line 5; expected each key once)'),
    ]


def test_syntax_error_reports_the_line_of_the_problem():
    with pytest.raises(YamlProblems) as caught:
        load_yaml("a: 1\nb: [1, 2\nc: 3\n")
    (problem,) = caught.value.problems
    assert problem.line == 3
    assert problem.message.startswith("YAML syntax error:")


def test_custom_tags_and_merge_keys_are_rejected():
    with pytest.raises(YamlProblems) as caught:
        load_yaml("a: !!python/name:os.system x\n")
    assert caught.value.problems[0].line == 1
    with pytest.raises(YamlProblems) as caught:
        load_yaml("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert caught.value.problems[0].line == 3
    assert "merge keys" in caught.value.problems[0].message


def test_empty_document_has_no_data():
    assert load_yaml("# only a comment\n").data is None


# --- caps (issue 19, item 9) ---------------------------------------------------------------------

import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from content_schema.yaml_lines import MAX_YAML_DEPTH, MAX_YAML_VALUES, YamlLimit  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def billion_laughs() -> str:
    """Nine levels of nine aliases: 342 bytes that expand to 9**9 (387 million) strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


MEASURE = """
import json, sys, time, tracemalloc
from content_schema.yaml_lines import YamlProblems, load_yaml
text = sys.stdin.read()

def attempt():
    try:
        load_yaml(text)
        return "loaded"
    except YamlProblems as problems:
        return problems.problems[0].message

start = time.perf_counter()
outcome = attempt()
seconds = time.perf_counter() - start
tracemalloc.start()  # a second run for memory: tracing slows the parse several times over
attempt()
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"outcome": outcome, "seconds": seconds, "peak_bytes": peak}))
"""


def _limit_address_space():
    # Without the cap the bomb takes minutes and gigabytes: let it fail fast instead of swapping.
    resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))


def test_billion_laughs_is_refused_in_under_two_seconds_and_100_mb():
    text = billion_laughs()
    assert len(text.encode()) < 400
    run = subprocess.run([sys.executable, "-c", MEASURE], input=text, capture_output=True, text=True,
                         cwd=REPO, timeout=60, preexec_fn=_limit_address_space)
    assert run.returncode == 0, run.stderr[-2000:]
    measured = json.loads(run.stdout)
    assert measured["outcome"].startswith(f"the YAML expands to more than {MAX_YAML_VALUES} values"), measured
    assert measured["seconds"] < 2, measured
    assert measured["peak_bytes"] < 100 * 1024 * 1024, measured


def test_nesting_deeper_than_the_cap_is_refused_with_its_line():
    with pytest.raises(YamlProblems) as caught:
        load_yaml("a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    (problem,) = caught.value.problems
    assert isinstance(problem, YamlLimit) and problem.kind == "depth" and problem.line == 1
    nested = "".join("  " * level + f"k{level}:\n" for level in range(MAX_YAML_DEPTH + 5))
    with pytest.raises(YamlProblems) as caught:
        load_yaml(nested)
    # The line of the key whose value goes one level too deep (or of that value).
    assert caught.value.problems[0].kind == "depth"
    assert caught.value.problems[0].line in (MAX_YAML_DEPTH, MAX_YAML_DEPTH + 1)


def test_aliases_that_nest_deeper_than_the_cap_are_refused():
    # Each level is shallow in the text; the copies stack up only when the aliases are expanded.
    lines = ["l0: &l0 [x]"] + [f"l{n}: &l{n} [[[[[[[[[[*l{n - 1}]]]]]]]]]]" for n in range(1, 8)]
    with pytest.raises(YamlProblems) as caught:
        load_yaml("\n".join(lines) + "\n")
    assert caught.value.problems[0].kind == "depth"


def test_text_longer_than_the_cap_is_refused_before_parsing():
    with pytest.raises(YamlProblems) as caught:
        load_yaml("a: b\n" * 10, max_chars=20)
    assert caught.value.problems[0].kind == "chars"


def test_anchors_within_the_caps_still_work():
    document = load_yaml("base: &b {x: 1, y: [1, 2]}\ncopies: [*b, *b, *b]\n")
    assert document.data["copies"] == [{"x": 1, "y": [1, 2]}] * 3
    with pytest.raises(YamlProblems):
        load_yaml("base: &b [1, 2, 3, 4, 5, 6, 7, 8, 9]\ncopies: [*b, *b, *b]\n", max_values=30)


def test_the_shipped_scenario_that_uses_anchors_still_loads():
    text = (REPO / "roleplays" / "interrupting-caller.yaml").read_text(encoding="utf-8")
    assert "*hear-her" in text
    document = load_yaml(text)
    assert document.data["slug"] == "interrupting-caller"
