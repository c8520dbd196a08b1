"""The grader against blind labels and against the probe replies a QA lead would judge.

The development set was written and labelled by people who never saw a rubric (see
bench/grading.py). These floors are what the shipped content reaches today; a change that
lowers agreement fails here, and bench/grading.py shows where.
"""
from __future__ import annotations

import pytest

from bench.grading import scenario_rubrics
from grading.agreement import agreement, grade_rows, load_rows
from grading.pipeline import TurnContext, grade_turn

# Committed floors (kappa) per set and language, a little under what the shipped content reaches
# (bench/grading.py; zh-CN / en-US when committed): development set clean 0.994 / 0.984, noisy
# 0.961 / 0.969; holdout 0.936 / 0.974; holdout2 0.966 / 1.000; holdout3 0.961 / 0.895; holdout4
# 0.951 / 0.937; holdout5, measured once before any tuning had seen it, 0.801 / 0.889, and 0.830 /
# 0.944 after its three false passes were read.
FLOORS = {("clean", "zh-CN"): 0.97, ("clean", "en-US"): 0.95, ("noisy", "zh-CN"): 0.93, ("noisy", "en-US"): 0.95,
          ("holdout", "zh-CN"): 0.91, ("holdout", "en-US"): 0.94,
          ("holdout2", "zh-CN"): 0.95, ("holdout2", "en-US"): 0.95,
          ("holdout3", "zh-CN"): 0.93, ("holdout3", "en-US"): 0.86,
          ("holdout4", "zh-CN"): 0.92, ("holdout4", "en-US"): 0.90,
          ("holdout5", "zh-CN"): 0.80, ("holdout5", "en-US"): 0.90}
MIN_ROWS = {"clean": 400, "noisy": 400, "holdout": 200, "holdout2": 140, "holdout3": 190, "holdout4": 150,
            "holdout5": 170}


@pytest.fixture(scope="module")
def rubrics():
    return scenario_rubrics()


@pytest.mark.parametrize("name", list(MIN_ROWS))
def test_agreement_with_blind_labels_stays_above_the_floor(rubrics, name):
    verdicts = grade_rows(load_rows(name), rubrics)
    assert len(verdicts) >= MIN_ROWS[name]
    for language in ("zh-CN", "en-US"):
        result = agreement([v for v in verdicts if v.row["language"] == language])
        assert result.kappa >= FLOORS[(name, language)], (name, language, result)
    adversarial = agreement([v for v in verdicts if v.row["kind"] == "adversarial"])
    assert adversarial.adversarial_passed <= MAX_ADVERSARIAL_PASSED[name], adversarial


# No adversarial reply passes except two of the first held-out set (bench/grading.py --show).
MAX_ADVERSARIAL_PASSED = {"clean": 0, "noisy": 0, "holdout": 2, "holdout2": 0, "holdout3": 0, "holdout4": 0,
                          "holdout5": 0}

PROBES = [
    # (scenario, node, reply, passes) — the probe replies.
    ("double-billing", "opening",
     "您好，这里是客服中心，我姓张。李女士，非常理解您的着急，多扣了钱换谁都会担心。请您放心，我马上帮您查一下这两笔扣款。"
     "麻烦您提供一下手机号码好吗？", True),
    ("broadband-outage-refund", "opening",
     "您好，感谢您的耐心等待，我非常理解您现在着急的心情，给您添麻烦了。我马上帮您查一下报修工单，麻烦您报一下宽带账号。", True),
    ("broadband-outage-refund", "opening", "我理解您的心情，非常抱歉，请问您的宽带账号是多少？这是公司的政策，你错了。", False),
    ("broadband-outage-refund", "opening", "你吼什么吼？这事我不管，你爱找谁找谁。我理解，抱歉，请问您的宽带账号是多少", False),
    ("broadband-outage-refund", "opening", "理解 抱歉 宽带账号 是多少", False),
    ("late-delivery-refund", "opening", "I understand, I'm sorry. That's company policy, there's nothing I can do.", False),
    ("late-delivery-refund", "opening",
     "I'm so sorry your gift didn't arrive in time for the birthday, that's really disappointing. "
     "Let me pull up your order right now and sort out the express fee for you.", True),
]


@pytest.mark.parametrize("slug,node,reply,passes", PROBES)
def test_probe_replies_are_judged_as_a_qa_lead_would(rubrics, slug, node, reply, passes):
    language, nodes, rules = rubrics[slug]
    grade = grade_turn(TurnContext(reply, language, nodes[node], rules))
    assert grade.passed is passes, {k: (j.held, j.evidence) for k, j in grade.judgements.items()}
    if not passes:
        assert grade.outcome == "escalate" or not grade.is_sentence or not grade.judgements["rules"].held


# Words that sound like responding to the caller but are not (a second reviewer's probes): each is
# a homophone or a sneer that an earlier, looser construction heard as empathy or an apology.
NOT_RESPONDING = [
    ("double-billing", "suspicious", "多扣的钱不退给您，我现在给您退话费。"),   # 退 sounds like 推 (不推给)
    ("double-billing", "suspicious", "你心疼那点钱就早点查账，我现在给您退款。"),
    ("repair-failed-again", "opening", "维修的钱我们不退。你有什么事？"),
    ("repair-failed-again", "opening", "你不用再说了。你这是什么问题啊？"),
    ("repair-failed-again", "opening", "大家都得排队等，麻烦您报一下手机号。"),
    ("repair-failed-again", "opening", "难怪你搞不明白，麻烦您报一下手机号。"),
    ("repair-failed-again", "opening", "我知道你是想多要点钱，麻烦您报一下手机号。"),
    ("repair-failed-again", "opening", "你要我道个歉？麻烦您报一下手机号。"),
    ("repair-failed-again", "opening", "你先到个前台，麻烦您报一下手机号。"),   # 到个前 sounds like 道个歉
    ("late-delivery-refund", "tracking", "You'll miss the delivery window, so what's the tracking number?"),
    ("late-delivery-refund", "opening", "So get your facts straight. What is your order number?"),
]


@pytest.mark.parametrize("slug,node,reply", NOT_RESPONDING)
def test_sneers_and_sound_alikes_do_not_respond_to_the_caller(rubrics, slug, node, reply):
    language, nodes, rules = rubrics[slug]
    grade = grade_turn(TurnContext(reply, language, nodes[node], rules))
    assert not grade.judgements["responds"].held, grade.judgements["responds"].evidence
    assert not grade.passed
