"""File-level problems: empty, not a mapping, not UTF-8, stray entries."""


def test_file_level_problems_are_all_reported(tree):
    tree.write("roleplays/_phrasebook.yaml", "")
    tree.write("exams/quiz-call-handling.yaml", "- 问题一\n- 问题二\n")
    (tree.root / "exams/cert-agent.yaml").write_bytes("slug: cert-agent\ntitle: 认证\n".encode("gbk"))
    tree.write("courses/README.md", "说明\n")
    tree.write("roleplays/notes.txt", "备注\n")
    assert tree.errors() == [
        "courses/README.md: unexpected file (expected course folders courses/<slug>/)",
        "exams/cert-agent.yaml: file is not UTF-8 text (invalid continuation byte; expected UTF-8)",
        "exams/quiz-call-handling.yaml:1: expected a mapping (got ['问题一', '问题二'])",
        "roleplays/_phrasebook.yaml: file is empty (expected a mapping of fields)",
        "roleplays/notes.txt: unexpected entry (expected roleplays/<slug>.yaml files)",
    ]


def test_empty_localized_text_and_front_matter(tree):
    tree.edit("courses/call-handling/course.yaml", "summary: 从问候到道别，掌握一通电话的标准流程。", "summary:")
    tree.write("courses/call-handling/lessons/02-empty.zh-CN.md", "---\n---\n正文\n")
    assert tree.errors() == [
        "courses/call-handling/course.yaml:5: summary: no text (expected text or a mapping {zh-CN: ..., en: ...})",
        "courses/call-handling/lessons/02-empty.zh-CN.md:1: front matter is empty "
        "(expected title, order, estimated_minutes)",
    ]


def test_shared_library_files_and_hidden_files_are_not_items(tree):
    tree.write("roleplays/_drafts.yaml", "not: a scenario\n")
    tree.write("exams/.hidden.yaml", "x: 1\n")
    tree.write("courses/_templates/course.yaml", "x: 1\n")
    assert len(tree.load().scenarios) == 1


def test_crlf_and_bom_are_accepted(tree):
    rel = "courses/call-handling/lessons/01-greeting.zh-CN.md"
    tree.write(rel, "\ufeff" + tree.read(rel).replace("\n", "\r\n"))
    lesson = tree.load().courses["call-handling"].lessons[0]
    assert lesson.texts["zh-CN"].title == "问候与开场"
