"""The valid fixture tree loads completely: rendered lessons, resolved rubrics, references."""

import hashlib

from grading.rubric import RubricItem, load_phrasebook

from content_schema import load_content
from content_schema.models import SingleQuestion

from tests.support.content_schema import VALID


def test_counts_and_catalog_order():
    bundle = load_content(VALID)
    assert bundle.summary() == "2 courses, 3 lessons, 3 exams, 1 scenarios"
    assert list(bundle.courses) == ["call-centre-basics", "call-handling"]
    assert set(bundle.exams) == {"quiz-call-centre-basics", "quiz-call-handling", "cert-agent"}


def test_course_lessons_are_ordered_and_localized():
    course = load_content(VALID).courses["call-centre-basics"]
    assert course.spec.title == {"zh-CN": "呼叫中心与坐席岗位", "en": "The call centre and the agent's job"}
    assert course.source_file == "courses/call-centre-basics/course.yaml"
    assert [lesson.slug for lesson in course.lessons] == ["01-what-is-a-call-centre", "02-roles"]
    first, second = course.lessons
    assert set(first.texts) == {"zh-CN", "en"}
    assert set(second.texts) == {"zh-CN"}  # en is optional
    assert first.title == {"zh-CN": "什么是呼叫中心", "en": "What is a call centre?"}
    assert (first.order, first.estimated_minutes) == (1, 8)
    assert course.assets == ("diagram.png", "greeting.mp3")


def test_plain_string_ltext_means_zh_cn():
    course = load_content(VALID).courses["call-handling"]
    assert course.spec.summary == {"zh-CN": "从问候到道别，掌握一通电话的标准流程。"}


def test_lesson_html_is_rendered_with_asset_urls_rewritten():
    bundle = load_content(VALID, asset_url_prefix=lambda slug: f"/static/content/{slug}/")
    text = bundle.courses["call-centre-basics"].lessons[0].texts["zh-CN"]
    assert text.source_file == "courses/call-centre-basics/lessons/01-what-is-a-call-centre.zh-CN.md"
    assert "<strong>来电</strong>" in text.html
    assert '<img src="/static/content/call-centre-basics/diagram.png" alt="来电流程图" title="来电流程">' in text.html
    assert '<th style="text-align:left">业务</th>' in text.html  # tables are enabled
    assert '<a href="https://example.com/call-centre" rel="noopener noreferrer">' in text.html
    assert "title: 什么是呼叫中心" not in text.html  # front matter is not part of the body
    raw = (VALID / text.source_file).read_bytes()
    assert text.checksum == hashlib.sha256(raw).hexdigest()


def test_default_asset_prefix_is_the_course_assets_url():
    lesson = load_content(VALID).courses["call-centre-basics"].lessons[1]
    assert '<a href="/courses/call-centre-basics/assets/greeting.mp3"' in lesson.texts["zh-CN"].html


def test_checksum_changes_when_a_lesson_changes(tree):
    before = tree.load().courses["call-centre-basics"].checksum
    tree.edit("courses/call-centre-basics/lessons/02-roles.zh-CN.md", "三声之内", "响铃三声之内")
    after = tree.load().courses["call-centre-basics"]
    assert after.checksum != before
    assert "响铃三声之内" in after.lessons[1].texts["zh-CN"].html


def test_scenario_rubric_use_is_expanded_from_the_library():
    scenario = load_content(VALID).scenarios["broadband-outage-refund"]
    opening = scenario.nodes["opening"]
    ack, apologise, confirm, no_policy = opening.rubric
    assert isinstance(ack, RubricItem)
    # library phrases first, then the item's own extra phrasing
    assert ack.phrases == ("我理解您的心情", "我能理解您的感受", "换作是我也会着急", "让您着急了")
    assert ack.kind == "intent" and ack.points == 2 and ack.source == "acknowledge_feeling"
    assert ack.explanation == {"zh-CN": "先接住客户的情绪", "en": "Acknowledge the caller's feelings first"}
    assert apologise.explanation == {"zh-CN": "为给客户带来的不便致歉"}
    assert confirm.source is None and confirm.phrases == ("请问您的宽带账号是多少", "核对一下您的账号")
    assert no_policy.kind == "forbidden" and no_policy.phrases == ("这是公司的政策", "公司规定的")
    assert opening.next == {"deescalate": "check-ticket", "stay": "refund-demand", "escalate": "angry"}
    next_step = scenario.nodes["check-ticket"].rubric[0]
    assert next_step.elements == (("接下来", "稍后", "马上"), ("为您", "帮您"))


def test_scenario_defaults_and_call_rules():
    scenario = load_content(VALID).scenarios["broadband-outage-refund"]
    spec = scenario.spec
    assert (spec.anger_step.deescalate, spec.anger_step.stay, spec.anger_step.escalate) == (-15, 5, 20)
    assert (spec.thresholds.good, spec.thresholds.poor) == (0.7, 0.4)
    assert spec.hangup_after_poor == 2 and spec.delivery.points == 3
    assert scenario.greeting is not None
    assert scenario.greeting.points == 2 and scenario.greeting.phrases[0] == "您好很高兴为您服务"
    assert scenario.closing is None  # closing: {points: 0} switches the rule off


def test_exam_questions_and_phrase_rewrite_rubric():
    exam = load_content(VALID).exams["quiz-call-centre-basics"]
    spec = exam.spec
    assert [q.type for q in spec.questions] == [
        "single", "multiple", "true_false", "ordering", "phrase_rewrite", "listen_type",
    ]
    single = spec.questions[0]
    assert isinstance(single, SingleQuestion) and [o.correct for o in single.options] == [True, False]
    assert spec.questions[1].partial_credit == "proportional"
    assert spec.questions[3].partial_credit == "pairs"
    listen = spec.questions[5]
    assert (listen.min_accuracy, listen.min_cpm) == (0.9, 50)
    polite, thanks, no_must = exam.rubrics["rewrite-wait"]
    assert polite.elements == (("请", "麻烦"), ("稍等", "等一下", "稍候"))
    assert thanks.phrases == ("感谢您的耐心等待", "谢谢您的耐心")
    assert no_must.kind == "forbidden" and no_must.phrases == ("你必须", "你一定要")


def test_certification_and_phrasebook():
    bundle = load_content(VALID)
    assert bundle.certification.version == 3
    assert [level.level for level in bundle.certification.spec.levels] == ["trainee", "agent", "senior", "expert"]
    phrasebook = load_phrasebook(bundle.phrasebook)
    assert [pair.id for pair in phrasebook.pairs] == ["wait-a-moment", "hold-on"]
    assert set(bundle.library.intents) >= {"greeting", "closing", "acknowledge_feeling"}
