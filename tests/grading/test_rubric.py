import pytest

from grading.rubric import RubricItem, evaluate_item, grade_reply, load_phrasebook

ZH, EN = "zh-CN", "en-US"

ACK = RubricItem(
    "ack", "intent", 2, phrases=("我理解您的心情", "理解您的心情"),
    explanation={"zh-CN": "先回应情绪。", "en": "Acknowledge the feeling first."}, source="acknowledge_feeling",
)
WAIT = RubricItem(
    "wait", "intent", 2, elements=(("请", "麻烦"), ("稍等", "等一下")),
    explanation={"zh-CN": "请客户稍候。"},
)
POLICY = RubricItem(
    "no-policy", "forbidden", 2, phrases=("这是公司的政策", "公司规定的"),
    explanation={"zh-CN": "不要拿政策压人。", "en": "Don't hide behind policy."}, source="cite_policy",
)
HOLLOW = RubricItem("hollow", "forbidden", 1, phrases=("好，好", "对，对"), source="hollow_listening")

PHRASEBOOK = load_phrasebook({"pairs": [
    {"id": "wait", "language": "zh-CN", "habitual": ["你等一下"], "professional": "请您稍等片刻",
     "note": {"zh-CN": "用请求代替命令。", "en": "Ask, don't order."}},
    {"id": "must", "language": "zh-CN", "habitual": "你必须", "professional": "我们需要您……", "note": "用“我们”。"},
    {"id": "must-today", "language": "zh-CN", "habitual": ["你必须今天做好"], "professional": "如果您今天能完成，我会非常感激"},
    {"id": "wait-en", "language": "en-US", "habitual": ["hold on"], "professional": "Please bear with me a moment."},
]})


def test_intent_by_phrase_names_rule_and_evidence():
    result = evaluate_item("王先生，我 理 姐 您 的 心 情", ACK, ZH)
    assert result.matched and result.points_awarded == 2 and result.points_possible == 2
    assert result.rule == "intent:acknowledge_feeling"
    assert result.evidence == ["我 理 姐 您 的 心 情"]


def test_intent_by_element_groups_needs_every_group():
    full = evaluate_item("麻烦您等一下，我查查", WAIT, ZH)
    assert full.matched and full.evidence == ["麻烦", "等一下"]
    assert full.rule == "intent:wait"
    half = evaluate_item("您等一下", WAIT, ZH)
    assert not half.matched and half.points_awarded == 0 and half.evidence == []


def test_negated_intent_earns_nothing():
    assert not evaluate_item("我不理解您的心情", ACK, ZH).matched


def test_forbidden_deducts_and_quotes_every_occurrence():
    result = evaluate_item("这是公司的政策，公司规定的，没办法", POLICY, ZH)
    assert result.matched and result.points_awarded == -2 and result.points_possible == 0
    assert result.rule == "forbidden:cite_policy"
    assert result.evidence == ["这是公司的政策", "公司规定的"]


def test_hollow_listening_is_caught():
    result = evaluate_item("好，好，您接着说", HOLLOW, ZH)
    assert result.matched and result.evidence == ["好，好"]


def test_grade_reply_totals_floor_at_zero_and_fraction():
    grade = grade_reply("我理解您的心情，请稍等", [ACK, WAIT, POLICY], ZH)
    assert grade.possible == 4 and grade.earned == 4 and grade.fraction == 1.0
    assert grade.tips == []

    grade = grade_reply("这是公司的政策", [ACK, WAIT, POLICY], ZH)
    assert grade.earned == 0 and grade.fraction == 0.0   # 0 − 2 is floored

    grade = grade_reply("我理解您的心情，但这是公司的政策", [ACK, WAIT, POLICY], ZH)
    assert grade.earned == 0 and grade.possible == 4
    grade = grade_reply("我理解您的心情", [ACK, WAIT], ZH)
    assert grade.fraction == 0.5


def test_every_item_reports_a_rule_and_points():
    grade = grade_reply("我理解您的心情", [ACK, WAIT, POLICY], ZH)
    assert [(r.item_id, r.rule, r.points_awarded) for r in grade.items] == [
        ("ack", "intent:acknowledge_feeling", 2.0), ("wait", "intent:wait", 0.0), ("no-policy", "forbidden:cite_policy", 0.0),
    ]


def test_tips_one_per_miss_in_ui_language_with_zh_fallback():
    grade = grade_reply("这是公司的政策", [ACK, WAIT, POLICY], ZH, ui_language="en")
    assert len(grade.tips) == 3
    assert grade.tips[0].startswith("Acknowledge the feeling first.") and "我理解您的心情" in grade.tips[0]
    assert grade.tips[1].startswith("请客户稍候。")          # no English explanation: zh-CN
    assert grade.tips[2] == 'You said "这是公司的政策". Don\'t hide behind policy.'
    zh = grade_reply("这是公司的政策", [POLICY], ZH)
    assert zh.tips == ["你说了“这是公司的政策”。不要拿政策压人。"]


def test_only_forbidden_items_clean_reply_is_full_marks():
    assert grade_reply("您好", [POLICY], ZH).fraction == 1.0
    assert grade_reply("这是公司的政策", [POLICY], ZH).fraction == 0.0


def test_empty_reply_grades_without_error():
    grade = grade_reply("", [ACK, POLICY], ZH, phrasebook=PHRASEBOOK)
    assert grade.earned == 0 and grade.possible == 2 and grade.habitual_found == []


def test_phrasebook_hits_show_professional_version_and_note():
    grade = grade_reply("你 等 一 下，我查查", [ACK], ZH, phrasebook=PHRASEBOOK, ui_language="en")
    assert grade.habitual_found == [("你 等 一 下", "请您稍等片刻", "Ask, don't order.")]


def test_phrasebook_prefers_the_longest_overlapping_form():
    hits = PHRASEBOOK.find_habitual("注意，你必须今天做好", ZH)
    assert [h.professional for h in hits] == ["如果您今天能完成，我会非常感激"]
    hits = PHRASEBOOK.find_habitual("你必须先交费", ZH)
    assert hits[0].professional == "我们需要您……" and hits[0].note == "用“我们”。"


def test_phrasebook_only_checks_the_reply_language():
    assert PHRASEBOOK.find_habitual("hold on please", EN)[0].professional == "Please bear with me a moment."
    assert PHRASEBOOK.find_habitual("hold on please", ZH) == []


@pytest.mark.parametrize("bad", [{}, {"pairs": "x"}, {"pairs": [{"id": "a", "language": "zh-CN"}]}, {"pairs": [1]}])
def test_malformed_phrasebook_is_rejected(bad):
    with pytest.raises(ValueError):
        load_phrasebook(bad)


def test_english_reply_grading():
    items = [
        RubricItem("ack", "intent", 1, phrases=("I understand how frustrating",)),
        RubricItem("must", "forbidden", 1, phrases=("you must",), source="you_must"),
    ]
    good = grade_reply("I understand how frustrating this is.", items, EN)
    assert good.fraction == 1.0
    bad = grade_reply("I don't understand how frustrating it is, you must wait.", items, EN)
    assert bad.items[0].matched is False and bad.items[1].evidence == ["you must"] and bad.earned == 0
