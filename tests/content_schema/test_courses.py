"""Courses and lessons: references, slugs, lesson files and assets."""

import shutil

BASICS = "courses/call-centre-basics"
HANDLING = "courses/call-handling/course.yaml"


def test_unknown_prerequisite(tree):
    tree.edit(HANDLING, "prerequisites: [call-centre-basics]", "prerequisites: [call-centre-basics, call-basics]")
    assert tree.errors() == [
        f'{HANDLING}:7: prerequisites[1]: unknown course "call-basics" '
        "(expected one of: call-centre-basics, call-handling)"
    ]


def test_prerequisite_cycle_is_reported_once(tree):
    tree.edit(f"{BASICS}/course.yaml", "prerequisites: []", "prerequisites: [call-handling]")
    assert tree.errors() == [
        f"{BASICS}/course.yaml:9: prerequisites: prerequisite cycle call-centre-basics -> call-handling -> "
        "call-centre-basics (expected prerequisites without loops)"
    ]


def test_duplicate_slug_and_folder_mismatch(tree):
    shutil.copytree(tree.root / "courses/call-handling", tree.root / "courses/call-handling-v2")
    assert tree.errors() == [
        'courses/call-handling-v2/course.yaml:1: slug: "call-handling" does not match the folder name '
        "(expected slug: call-handling-v2)",
        'courses/call-handling-v2/course.yaml:1: slug: "call-handling" is already used by '
        "courses/call-handling/course.yaml (expected a unique slug)",
    ]


def test_missing_field_and_unknown_key(tree):
    tree.edit(HANDLING, "estimated_minutes: 20\n", "estimated_minute: 20\n")
    assert tree.errors() == [
        f'{HANDLING}:1: missing required field "estimated_minutes"',
        f'{HANDLING}:6: unknown key "estimated_minute" (expected one of: slug, order, level, title, summary, '
        "estimated_minutes, prerequisites, quiz)",
    ]


def test_wrong_types_and_localized_text(tree):
    tree.edit(HANDLING, "level: agent", "level: manager")
    tree.edit(HANDLING, "title: {zh-CN: 呼叫处理流程, en: Handling a call}", "title: {zh: 呼叫处理流程}")
    tree.edit(HANDLING, "estimated_minutes: 20", 'estimated_minutes: "20"')
    assert tree.errors() == [
        f"{HANDLING}:3: level: Input should be 'agent', 'senior' or 'expert' (got 'manager')",
        f'{HANDLING}:4: title: unknown language "zh" (expected zh-CN and optionally en)',
        f"{HANDLING}:6: estimated_minutes: Input should be a valid integer (got '20')",
    ]


def test_quiz_must_exist_and_be_a_quiz(tree):
    tree.edit(HANDLING, "quiz: quiz-call-handling", "quiz: cert-agent")
    tree.edit(f"{BASICS}/course.yaml", "quiz: quiz-call-centre-basics", "quiz: quiz-basics")
    assert tree.errors() == [
        f'{BASICS}/course.yaml:10: quiz: unknown exam "quiz-basics" (expected a quiz in exams/: '
        "quiz-call-centre-basics, quiz-call-handling)",
        f'{HANDLING}:8: quiz: exam "cert-agent" is kind: certification (expected an exam with kind: quiz)',
    ]


def test_missing_course_yaml(tree):
    tree.remove(HANDLING)
    errors = tree.errors()
    assert errors[0] == f"{HANDLING}: file is missing (expected course.yaml in every course folder)"
    # the certification still knows the folder, so it does not add "unknown course"
    assert len(errors) == 1


def test_lesson_without_zh_cn_file(tree):
    tree.write(f"{BASICS}/lessons/03-extra.en.md", "---\ntitle: Extra\norder: 3\nestimated_minutes: 2\n---\nText\n")
    assert tree.errors() == [
        f'{BASICS}/lessons/03-extra.en.md: lesson "03-extra" has no zh-CN file '
        "(expected lessons/03-extra.zh-CN.md; en is optional)"
    ]


def test_duplicate_lesson_order(tree):
    tree.edit(f"{BASICS}/lessons/02-roles.zh-CN.md", "order: 2", "order: 1")
    assert tree.errors() == [
        f'{BASICS}/lessons/02-roles.zh-CN.md:3: order: 1 is also used by lesson "01-what-is-a-call-centre" '
        "(expected a unique order within the course)"
    ]


def test_translation_must_share_order_and_duration(tree):
    tree.edit(f"{BASICS}/lessons/01-what-is-a-call-centre.en.md", "estimated_minutes: 8", "estimated_minutes: 9")
    assert tree.errors() == [
        f"{BASICS}/lessons/01-what-is-a-call-centre.en.md:4: estimated_minutes: 9 differs from the zh-CN file "
        "(expected 8, the same in every language)"
    ]


def test_lesson_front_matter_problems(tree):
    tree.write(f"{BASICS}/lessons/03-no-front.zh-CN.md", "# 没有 front matter\n")
    tree.write(f"{BASICS}/lessons/04-bad-front.zh-CN.md", "---\ntitle: 缺少顺序\nestimated_minutes: 5\n---\n正文\n")
    tree.write(f"{BASICS}/lessons/Notes.md", "随手记\n")
    assert tree.errors() == [
        f"{BASICS}/lessons/03-no-front.zh-CN.md:1: missing front matter (expected the file to start with a --- "
        "line, then title, order, estimated_minutes, then a closing --- line)",
        f'{BASICS}/lessons/04-bad-front.zh-CN.md:2: missing required field "order"',
        f"{BASICS}/lessons/Notes.md: unexpected lesson file name (expected <lesson-slug>.zh-CN.md or "
        "<lesson-slug>.en.md, lesson slug in lowercase letters, digits and hyphens)",
    ]


def test_front_matter_yaml_error_line_is_a_file_line(tree):
    tree.edit(f"{BASICS}/lessons/02-roles.zh-CN.md", "estimated_minutes: 10", "estimated_minutes: [10")
    (error,) = tree.errors()
    assert error.startswith(f"{BASICS}/lessons/02-roles.zh-CN.md:4: YAML syntax error:")


def test_assets_must_exist_and_have_an_allowed_type(tree):
    lesson = f"{BASICS}/lessons/02-roles.zh-CN.md"
    tree.edit(lesson, "[听示范录音](assets/greeting.mp3)", "[听示范录音](assets/greeting-v2.mp3)\n\n![图](assets/flow.svg)")
    (tree.root / BASICS / "assets/logo.svg").write_text("<svg onload='alert(1)'/>")
    assert tree.errors() == [
        f"{BASICS}/assets/logo.svg: asset type not allowed (expected one of: gif, jpeg, jpg, mp3, ogg, png, wav, webp)",
        f'{lesson}:16: asset "greeting-v2.mp3" does not exist (expected {BASICS}/assets/greeting-v2.mp3)',
        f'{lesson}:18: asset "flow.svg" has a type that is not allowed '
        "(expected one of: gif, jpeg, jpg, mp3, ogg, png, wav, webp)",
    ]


def test_asset_paths_cannot_leave_the_assets_folder(tree):
    lesson = f"{BASICS}/lessons/02-roles.zh-CN.md"
    tree.edit(lesson, "(assets/greeting.mp3)", "(assets/../../call-handling/course.yaml)")
    assert tree.errors() == [
        f'{lesson}:16: asset "../../call-handling/course.yaml" leaves the assets/ folder (expected assets/<file>)'
    ]
