"""What trainees, trainers and HR read instead of internal rule names.

Every rule a report can show has a label in both UI languages: the three judgements, the
call rules, delivery, and every rubric item (its library entry's label, else its
own explanation's first clause, else a readable form of its id).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grading.localize import pick

JUDGEMENT_LABELS = {
    "responds": {"zh-CN": "回应客户", "en": "Responds to the caller"},
    "advances": {"zh-CN": "推进问题解决", "en": "Moves the case forward"},
    "rules": {"zh-CN": "遵守服务规范", "en": "Stays within the rules"},
}
RULE_LABELS = {
    "call:greeting": {"zh-CN": "开场问候", "en": "Greeting"},
    "call:closing": {"zh-CN": "致谢道别", "en": "Thanks and goodbye"},
    "call:answer_within_rings": {"zh-CN": "三声铃内接听", "en": "Answered within three rings"},
    "delivery:speaking_rate": {"zh-CN": "语速", "en": "Speaking rate"},
    "delivery:pauses": {"zh-CN": "停顿", "en": "Pauses"},
    "delivery:loudness": {"zh-CN": "音量", "en": "Loudness"},
    "delivery:pitch": {"zh-CN": "语调", "en": "Pitch"},
    "delivery:fillers": {"zh-CN": "口头禅", "en": "Filler words"},
    "delivery:calm_under_provocation": {"zh-CN": "被激怒时保持冷静", "en": "Calm under provocation"},
}
def judgement_label(name: str, ui_language: str) -> str:
    return pick(JUDGEMENT_LABELS.get(name), ui_language) or name


def rule_label(item: Mapping[str, Any], ui_language: str) -> str:
    """A stored ItemResult (dict) as people should read it."""
    if item.get("label"):
        return pick(item["label"], ui_language)
    rule = str(item.get("rule", ""))
    if rule.startswith("judgement:"):
        return judgement_label(rule.partition(":")[2], ui_language)
    if rule in RULE_LABELS:
        return pick(RULE_LABELS[rule], ui_language)
    if rule.startswith("delivery:"):
        return pick({"zh-CN": "表达方式", "en": "Delivery"}, ui_language)
    explanation = pick(item.get("explanation"), ui_language)
    if explanation:
        # The explanation's first phrase: up to its first punctuation mark.
        cut = min((i for i in (explanation.find(stop) for stop in "，,。；;：:.") if i > 0), default=len(explanation))
        return explanation[:min(cut, 40)]
    return str(item.get("item_id", "")).replace("-", " ").replace("_", " ")
