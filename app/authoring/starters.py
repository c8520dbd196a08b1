"""What a new scenario or bank starts from: small, valid, in the file format, ready to edit.

Some of its text is only an example of what to write there (``EXAMPLE_FIELDS``): the form
editor shows it as a placeholder, not a value, and publishing is refused while a field still
holds it (``fields_with_example_text``), so the example never reaches trainees.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

STARTER_SCENARIO = """\
slug: new-scenario
language: zh-CN
title:
  zh-CN: 新的情景
  en: New scenario
difficulty: 1
persona:
  name: 李女士
  gender: female
  temperament:
    zh-CN: 着急，但讲道理。
    en: In a hurry but reasonable.
case_facts:
  zh-CN: 写下客户是谁、发生了什么、座席可以做什么。
  en: Who the caller is, what happened, and what the agent can do.
starting_anger: 50
pass_mark: 70
start: opening
nodes:
  opening:
    line: 我的订单到现在还没到，你们到底怎么回事？
    anger: 50
    rubric:
      - id: ack
        points: 2
        use: acknowledge_feeling
      - id: apologise
        points: 2
        use: apologise
      - id: no-blame
        kind: forbidden
        points: 2
        use: blame_caller
    next:
      deescalate: plan
      stay: supervisor
      escalate: angry
  plan:
    line: 那你说什么时候能送到？
    anger: 35
    rubric:
      - id: next-step
        points: 3
        use: next_step
      - id: thanks
        points: 1
        use: thank_patience
    next:
      deescalate: end:resolved
      stay: end:resolved
      escalate: supervisor
  angry:
    line: 别跟我说这些，我要投诉！
    anger: 80
    rubric:
      - id: ack
        points: 2
        use: acknowledge_feeling
      - id: no-cannot-help
        kind: forbidden
        points: 2
        use: cannot_help
    next:
      deescalate: plan
      stay: supervisor
      escalate: end:hangup
  supervisor:
    line: 你做不了主，就让你们主管来跟我说。
    anger: 70
    rubric:
      - id: transfer
        points: 3
        phrases: [我马上帮您转接主管]
        elements: [[主管, 经理, 负责人], [转接, 转给, 接通]]
    next:
      deescalate: end:transferred
      stay: end:transferred
      escalate: end:hangup
"""

STARTER_BANK = """\
slug: new-question-bank
kind: quiz
title:
  zh-CN: 新的题库
  en: New question bank
pass_mark: 70
time_limit_minutes: 10
shuffle_questions: true
shuffle_options: true
attempts_allowed: 0
cooldown_minutes: 0
show_answers: true
questions:
  - id: q1
    type: single
    prompt:
      zh-CN: 客户情绪激动时，座席首先应该做什么？
      en: What should the agent do first when a caller is upset?
    options:
      - id: a
        text:
          zh-CN: 先安抚情绪，表示理解
          en: Acknowledge the feeling first
        correct: true
      - id: b
        text:
          zh-CN: 解释公司的规定
          en: Explain the company's rules
  - id: q2
    type: true_false
    prompt:
      zh-CN: 转接电话前应先向同事说明情况。
      en: Before transferring a call, brief the colleague first.
    answer: true
"""


# Fields of the starters whose text is an example of what to write (data path, label).
EXAMPLE_FIELDS = {
    "scenario": (
        (("title", "zh-CN"), _l("Title (Chinese)")),
        (("title", "en"), _l("Title (English, optional)")),
        (("case_facts", "zh-CN"), _l("Case facts (Chinese)")),
        (("case_facts", "en"), _l("Case facts (English, optional)")),
    ),
    "bank": (
        (("title", "zh-CN"), _l("Title (Chinese)")),
        (("title", "en"), _l("Title (English, optional)")),
    ),
}


def _at(data: Any, path: tuple) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _starter_data(kind: str) -> dict:
    from content_schema.yaml_lines import load_yaml
    return load_yaml(STARTER_SCENARIO if kind == "scenario" else STARTER_BANK).data


def example_text(kind: str) -> dict[tuple, tuple[str, Any]]:
    """{data path: (example text, label)} of the starter of ``kind``."""
    starter = _starter_data(kind)
    return {path: (_at(starter, path), label) for path, label in EXAMPLE_FIELDS.get(kind, ())}


def fields_with_example_text(kind: str, data: dict) -> list[tuple[tuple, Any]]:
    """(data path, label) of every field of ``data`` that still holds the starter's example text."""
    found = []
    for path, (example, label) in example_text(kind).items():
        value = _at(data, path)
        if isinstance(value, str) and isinstance(example, str) and value.strip() == example.strip():
            found.append((path, label))
    return found
