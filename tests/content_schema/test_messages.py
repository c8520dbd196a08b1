"""Every error carries a stable code, its parameters and the field path, next to its English text."""
import string

import pytest

from content_schema import ContentValidationError, load_library, validate_exam_text, validate_scenario_text
from content_schema.messages import TEMPLATES, Message, message

SCENARIO = "roleplays/broadband-outage-refund.yaml"
EXAM = "exams/quiz-call-handling.yaml"


def _errors(call):
    with pytest.raises(ContentValidationError) as caught:
        call()
    return caught.value.errors


def _scenario_errors(tree, text):
    return _errors(lambda: validate_scenario_text(text, library=load_library(tree.root), filename=SCENARIO))


def test_every_template_formats_with_the_names_it_declares():
    for code, template in TEMPLATES.items():
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        text = message(code, **{name: f"<{name}>" for name in names})
        assert isinstance(text, Message) and text.code == code and all(f"<{name}>" in text for name in names)


def test_a_bad_slug_has_its_code_value_and_field(tree):
    text = tree.read(SCENARIO).replace("slug: broadband-outage-refund", 'slug: "Wrong Address!"')
    [error] = _scenario_errors(tree, text)
    assert (error.code, error.params, error.where) == ("slug.invalid", {"value": "Wrong Address!"}, "slug")
    assert error.message.startswith('slug: "Wrong Address!" is not a valid slug')  # the English stays


def test_shape_reference_and_graph_errors_have_codes(tree):
    text = tree.read(SCENARIO).replace("    anger: 50\n", "    anger: 500\n", 1).replace("start: ", "starts: ", 1)
    errors = _scenario_errors(tree, text)
    codes = {(error.code, error.where) for error in errors}
    assert ("schema.less_than_equal", "nodes.check-ticket.anger") in codes
    assert ("schema.unknown_key", "") in codes and ("schema.missing", "") in codes
    anger = next(error for error in errors if error.code == "schema.less_than_equal")
    assert anger.params == {"le": "100", "got": "500"}
    text = tree.read(SCENARIO).replace("use: next_step", "use: next_steps").replace(
        "      deescalate: end:resolved\n", "      deescalate: end:hangup\n")
    codes = [error.code for error in _scenario_errors(tree, text)]
    assert "rubric.unknown_use" in codes and "graph.never_reached" in codes


def test_yaml_errors_have_codes_line_and_column(tree):
    [error] = _scenario_errors(tree, "slug: x\nnodes: [\n")
    assert error.code == "yaml.syntax" and error.params["line"] == 3 and error.params["column"] == 1
    [error] = _scenario_errors(tree, "slug: x\nslug: y\n")
    assert error.code == "yaml.duplicate_key" and error.params == {"line": 2, "key": "slug", "first_line": 1}


def test_exam_rules_have_codes(tree):
    text = tree.read(EXAM)
    first_correct = text.index("correct: true")
    text = text[:first_correct] + "correct: false" + text[first_correct + len("correct: true"):]
    errors = _errors(lambda: validate_exam_text(text, library=load_library(tree.root), filename=EXAM))
    assert all(error.code in TEMPLATES for error in errors) and errors
