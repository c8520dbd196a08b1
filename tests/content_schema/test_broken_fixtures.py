"""The broken trees under fixtures/broken/ (each overlaid on the valid tree)."""

from content_schema import render_markdown
from content_schema.markdown import split_front_matter


def test_yaml_syntax_error_names_file_and_line(tree):
    tree.overlay("yaml-syntax")
    (error,) = tree.errors()
    assert error.startswith("exams/quiz-call-handling.yaml:10: YAML syntax error: ")
    assert error.endswith("(expected valid YAML)")


def test_duplicate_yaml_keys_are_errors_with_lines(tree):
    tree.overlay("duplicate-keys")
    assert tree.errors() == [
        'courses/call-handling/course.yaml:7: duplicate key "title" (first defined on line 4; expected each key once)',
        'courses/call-handling/course.yaml:10: duplicate key "order" (first defined on line 2; expected each key once)',
    ]


def test_unsafe_html_in_markdown_is_reported_with_lines(tree):
    tree.overlay("unsafe-html")
    file = "courses/call-centre-basics/lessons/02-roles.zh-CN.md"
    assert tree.errors() == [
        f"{file}:10: HTML tag <script> is not allowed (expected Markdown or safe tags: headings, p, lists, "
        "tables, code, pre, blockquote, strong, em, a, img, audio)",
        f"{file}:12: event handler attribute onerror= on <img> is not allowed (expected none)",
        f'{file}:14: unsafe link in <a href>: "javascript:" URLs are not allowed '
        "(expected http, https, mailto or a relative link)",
    ]


def test_unsafe_html_is_stripped_from_the_render(tree):
    tree.overlay("unsafe-html")
    split = split_front_matter(tree.read("courses/call-centre-basics/lessons/02-roles.zh-CN.md"))
    assert split is not None
    html = render_markdown(split.body, asset_url_prefix="/courses/call-centre-basics/assets/")
    assert "<script" not in html and "偷取会话" not in html
    assert "onerror" not in html and "alert" not in html
    assert "javascript:" not in html
    assert '<img src="/courses/call-centre-basics/assets/diagram.png">' in html
    assert "点这里领取奖励" in html  # the link text stays, only the href goes
    assert "<blockquote>" in html


def test_role_play_graph_unreachable_node_and_missing_endings(tree):
    tree.overlay("bad-graph")
    assert tree.errors() == [
        "roleplays/missing-ending.yaml:11: nodes: end:transferred is never reached "
        "(expected a transition to it from a reachable node)",
        "roleplays/missing-ending.yaml:11: nodes: end:hangup is never reached (rule: it counts as reached when a "
        "reachable node transitions to end:hangup, or when escalate transitions chain through at least "
        "hangup_after_poor = 3 reachable nodes, an escalate loop included, so poor replies force a hang-up; "
        "expected one of these)",
        'roleplays/unreachable-node.yaml:29: nodes.forgotten: node "forgotten" is unreachable '
        '(expected some transition from start "opening" to lead to it)',
    ]


def test_all_errors_are_collected_across_several_files(tree):
    tree.overlay("several-files")
    assert tree.errors() == [
        'courses/call-handling/course.yaml:1: missing required field "summary"',
        'exams/certification.yaml:9: levels[1].requirements[1].exam: unknown exam "cert-senior" '
        "(expected a certification exam: cert-agent)",
        'exams/quiz-call-handling.yaml:15: questions[0]: unknown key "explaination" '
        "(expected one of: id, tags, points, prompt, explanation, type, options)",
        "exams/quiz-call-handling.yaml:16: questions[0].options: 2 options marked correct: true (a, b); "
        "expected exactly one for type single",
        'roleplays/wrong-use.yaml:15: nodes.opening.rubric[0].use: unknown library entry "acknowledge_feelings" '
        "(expected one of the intents in roleplays/_library.yaml: acknowledge_feeling, apologise, closing, "
        "confirm_details, greeting, next_step, thank_patience)",
        'roleplays/wrong-use.yaml:16: nodes.opening.rubric[1].use: "cite_policy" is a library forbidden entry but '
        "this item is kind: intent (expected kind: forbidden, or one of the intents: acknowledge_feeling, "
        "apologise, closing, confirm_details, greeting, next_step, thank_patience)",
    ]
