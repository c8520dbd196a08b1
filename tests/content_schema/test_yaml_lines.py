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
