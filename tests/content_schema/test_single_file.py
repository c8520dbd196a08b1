"""Validating ONE scenario or exam text (the editors' entry point) and writing specs back as YAML."""

import pytest

from content_schema import (
    ContentValidationError,
    dump_exam,
    dump_scenario,
    load_library,
    validate_exam_text,
    validate_scenario_text,
)

SCENARIO = "roleplays/broadband-outage-refund.yaml"
EXAM = "exams/quiz-call-handling.yaml"


def _errors(call):
    with pytest.raises(ContentValidationError) as caught:
        call()
    return caught.value.errors


def test_a_valid_scenario_text_gives_the_same_scenario_as_the_tree(tree):
    bundle = tree.load()
    scenario = validate_scenario_text(tree.read(SCENARIO), library=load_library(tree.root), filename=SCENARIO)
    assert scenario.spec == bundle.scenarios["broadband-outage-refund"].spec
    assert scenario.nodes == bundle.scenarios["broadband-outage-refund"].nodes
    assert scenario.source_file == SCENARIO


def test_scenario_errors_carry_line_and_data_path(tree):
    text = tree.read(SCENARIO).replace("    anger: 50\n", "    anger: 500\n", 1).replace(
        "use: next_step", "use: next_steps").replace("slug: broadband-outage-refund", "slug: other-name")
    errors = _errors(lambda: validate_scenario_text(text, library=load_library(tree.root), filename=SCENARIO))
    by_path = {error.path: error for error in errors}
    assert by_path[("nodes", "check-ticket", "anger")].line == 33
    assert "less than or equal to 100" in by_path[("nodes", "check-ticket", "anger")].message
    # Cross-checks only run on a text that parsed: fix the shape, keep the reference and slug errors.
    text = text.replace("anger: 500", "anger: 50")
    errors = _errors(lambda: validate_scenario_text(text, library=load_library(tree.root), filename=SCENARIO))
    assert [(error.line, error.path) for error in errors] == [
        (1, ("slug",)), (35, ("nodes", "check-ticket", "rubric", 0, "use"))]
    assert 'does not match the file name (expected slug: broadband-outage-refund)' in errors[0].message
    assert str(errors[1]).startswith(f"{SCENARIO}:35: nodes.check-ticket.rubric[0].use: unknown library entry")


def test_scenario_graph_rules_apply_to_a_single_text(tree):
    text = tree.read(SCENARIO).replace("      deescalate: end:resolved\n", "      deescalate: end:hangup\n")
    errors = _errors(lambda: validate_scenario_text(text, library=load_library(tree.root), filename=SCENARIO))
    assert [(error.path, error.message) for error in errors] == [
        (("nodes",), "nodes: end:resolved is never reached (expected a transition to it from a reachable node)")]


def test_yaml_syntax_errors_have_lines_and_no_path(tree):
    errors = _errors(lambda: validate_scenario_text("slug: x\nnodes: [\n", library=load_library(tree.root),
                                                    filename="roleplays/x.yaml"))
    assert len(errors) == 1 and errors[0].line == 3 and errors[0].path is None
    assert "YAML syntax error" in errors[0].message


def test_exam_text(tree):
    bundle = tree.load()
    library = load_library(tree.root)
    exam = validate_exam_text(tree.read(EXAM), library=library, filename=EXAM)
    assert exam.spec == bundle.exams["quiz-call-handling"].spec
    text = tree.read(EXAM).replace("correct: true", "correct: false", 1)
    (error,) = _errors(lambda: validate_exam_text(text, library=library, filename=EXAM))
    assert error.path == ("questions", 0, "options") and error.line is not None
    assert "expected exactly one for type single" in error.message


def test_library_errors_are_reported(tree):
    tree.edit("roleplays/_library.yaml", "  greeting:", "  greetings:")
    errors = _errors(lambda: load_library(tree.root))
    assert any("missing required entries: greeting" in str(error) for error in errors)


def test_dump_round_trips_every_fixture(tree):
    bundle = tree.load()
    library = load_library(tree.root)
    for slug, scenario in bundle.scenarios.items():
        text = dump_scenario(scenario.spec)
        assert validate_scenario_text(text, library=library, filename=f"roleplays/{slug}.yaml").spec == scenario.spec
    for slug, exam in bundle.exams.items():
        text = dump_exam(exam.spec)
        assert validate_exam_text(text, library=library, filename=f"exams/{slug}.yaml").spec == exam.spec


def test_dump_writes_the_file_format(tree):
    spec = tree.load().scenarios["broadband-outage-refund"].spec
    text = dump_scenario(spec)
    assert text.startswith("slug: broadband-outage-refund\nlanguage: zh-CN\ntitle:\n  zh-CN: 宽带断网三天要求退费\n")
    assert "      - id: ack\n        points: 2\n        use: acknowledge_feeling\n        phrases: [让您着急了]\n" in text
    assert "anger_step" not in text  # defaults are left out
    assert "call_rules:\n  closing:\n    points: 0\n" in text
