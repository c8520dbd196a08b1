"""Exam files: per-type question rules, ids and draw rules."""

QUIZ = "exams/quiz-call-centre-basics.yaml"


def test_draw_asking_more_than_the_tagged_pool(tree):
    tree.edit(QUIZ, "- {tags: [roles], count: 1}", "- {tags: [roles], count: 3}")
    assert tree.errors() == [
        f"{QUIZ}:7: draw[0].count: draws 3 questions but only 2 can be guaranteed (2 tagged roles, up to 0 "
        "taken by earlier draw rules) (expected count <= 2, or more questions tagged roles)"
    ]


def test_later_draw_accounts_for_questions_taken_by_earlier_rules(tree):
    # 6 questions; the first rule may take 1, so at most 5 remain for the second rule
    tree.edit(QUIZ, "- {count: 4}", "- {count: 6}")
    assert tree.errors() == [
        f"{QUIZ}:8: draw[1].count: draws 6 questions but only 5 can be guaranteed (6 in the exam, up to 1 "
        "taken by earlier draw rules) (expected count <= 5, or more questions in the exam)"
    ]
    tree.edit(QUIZ, "- {count: 6}", "- {count: 5}")
    assert len(tree.load().exams) == 3


def test_draw_with_an_unused_tag(tree):
    tree.edit(QUIZ, "- {tags: [roles], count: 1}", "- {tags: [role], count: 1}")
    assert tree.errors() == [
        f'{QUIZ}:7: draw[0].tags[0]: no question is tagged "role" (expected one of: roles)',
        f"{QUIZ}:7: draw[0].count: draws 1 questions but only 0 can be guaranteed (0 tagged role, up to 0 "
        "taken by earlier draw rules) (expected count <= 0, or more questions tagged role)",
    ]


def test_single_and_multiple_correct_options(tree):
    tree.edit(QUIZ, "- {id: b, text: {zh-CN: 实习座席, en: Trainee agent}}",
              "- {id: b, text: {zh-CN: 实习座席, en: Trainee agent}, correct: true}")
    tree.edit(QUIZ, "- {id: a, text: 接听来电, correct: true}", "- {id: a, text: 接听来电}")
    tree.edit(QUIZ, "- {id: b, text: 记录客户诉求, correct: true}", "- {id: b, text: 记录客户诉求}")
    assert tree.errors() == [
        f"{QUIZ}:20: questions[0].options: 2 options marked correct: true (a, b); expected exactly one for type single",
        f"{QUIZ}:27: questions[1].options: no option marked correct: true (expected one or more for type multiple)",
    ]


def test_duplicate_question_option_and_item_ids(tree):
    tree.edit(QUIZ, "  - id: basics-tf", "  - id: roles-2")
    tree.edit(QUIZ, "- {id: c, text: 修改公司政策}", "- {id: a, text: 修改公司政策}")
    tree.edit(QUIZ, "- {id: s4, text: 致谢并道别}", "- {id: s1, text: 致谢并道别}")
    assert tree.errors() == [
        f'{QUIZ}:30: questions[1].options[2].id: duplicate option id "a" (expected each id once)',
        f'{QUIZ}:31: questions[2].id: duplicate question id "roles-2" (expected each id once)',
        f'{QUIZ}:42: questions[3].items[3].id: duplicate item id "s1" (expected each id once)',
    ]


def test_type_specific_required_fields(tree):
    tree.edit(QUIZ, "    habitual: 你等一下\n", "")
    tree.edit(QUIZ, "    text: 您好，很高兴为您服务。\n", "")
    tree.edit(QUIZ, "      - {id: s4, text: 致谢并道别}\n", "")
    tree.edit(QUIZ, "      - {id: s3, text: 提供解决方案}\n", "")
    tree.edit(QUIZ, "    answer: false\n", "    answer: false\n    options: []\n")
    assert tree.errors() == [
        f'{QUIZ}:35: questions[2]: unknown key "options" (expected one of: id, tags, points, prompt, '
        "explanation, type, answer)",
        f"{QUIZ}:39: questions[3].items: List should have at least 3 items after validation, not 2",
        f'{QUIZ}:42: questions[4]: missing required field "habitual"',
        f'{QUIZ}:51: questions[5]: missing required field "text"',
    ]


def test_unknown_and_missing_question_type(tree):
    tree.edit(QUIZ, "    type: true_false\n", "    type: yes_no\n")
    tree.edit(QUIZ, "    type: ordering\n", "")
    assert tree.errors() == [
        f'{QUIZ}:32: questions[2].type: unknown type "yes_no" (expected one of: single, multiple, true_false, '
        "ordering, phrase_rewrite, listen_type)",
        f'{QUIZ}:35: questions[3]: missing required field "type" (expected one of: single, multiple, true_false, '
        "ordering, phrase_rewrite, listen_type)",
    ]


def test_phrase_rewrite_library_reference_needs_the_question_language(tree):
    tree.edit(QUIZ, "    language: zh-CN\n    habitual: 你等一下", "    language: en-US\n    habitual: wait")
    assert tree.errors() == [
        f'{QUIZ}:51: questions[4].rubric[1].use: library entry "thank_patience" has no en-US phrases (expected '
        "intents.thank_patience.en-US in roleplays/_library.yaml; it has: zh-CN)",
        f'{QUIZ}:52: questions[4].rubric[2].use: library entry "you_must" has no en-US phrases (expected '
        "forbidden.you_must.en-US in roleplays/_library.yaml; it has: zh-CN)",
    ]


def test_rubric_item_rules(tree):
    tree.edit(QUIZ, "- {id: polite-wait, points: 2, elements: [[请, 麻烦], [稍等, 等一下, 稍候]]}",
              "- {id: polite-wait, points: 2}")
    tree.edit(QUIZ, "- {id: no-must, use: you_must, kind: forbidden, points: 1}",
              "- {id: no-you, kind: forbidden, points: 1, elements: [[你]]}")
    assert tree.errors() == [
        f'{QUIZ}:50: questions[4].rubric[0]: rubric item "polite-wait" has nothing to match '
        "(expected phrases, elements, patterns, or use: <library entry>)",
        f'{QUIZ}:52: questions[4].rubric[2]: forbidden item "no-you" has elements (expected phrases only: a '
        "forbidden item triggers when any phrase matches)",
    ]


def test_exam_slug_must_match_file_and_files_must_be_yaml(tree):
    tree.edit("exams/quiz-call-handling.yaml", "slug: quiz-call-handling", "slug: quiz-handling")
    tree.write("exams/notes.yml", "slug: notes\n")
    errors = tree.errors()
    assert 'exams/quiz-call-handling.yaml:1: slug: "quiz-handling" does not match the file name (expected slug: quiz-call-handling)' in errors
    assert "exams/notes.yml: unexpected entry (expected exams/<slug>.yaml files)" in errors
