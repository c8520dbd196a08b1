"""Stable message ids for every validation message, with their English default text.

A message is a ``Message``: a ``str`` (the English text, so ``str(error)`` and the command
line read as before) that also carries ``code`` (a stable id from ``TEMPLATES``) and
``params`` (the values put into the text). An application translates by ``code`` and
``params``; the English text is the fallback. Pure: no Flask, no app.
"""

from __future__ import annotations

from typing import Any

# code -> English template (str.format). Keep codes stable: applications translate by them.
TEMPLATES: dict[str, str] = {
    # --- YAML and files -------------------------------------------------------------
    "yaml.syntax": "YAML syntax error: {detail} (expected valid YAML)",
    "yaml.error": "YAML error: {detail} (expected valid YAML)",
    "yaml.too_long": "the YAML is longer than {maximum} characters (expected a smaller file)",
    "yaml.too_many_values": "the YAML expands to more than {maximum} values; aliases (*name) copy what their "
                            "anchor holds (expected fewer or smaller aliases)",
    "yaml.too_deep": "the YAML is nested more than {maximum} levels deep (expected a flatter document)",
    "yaml.recursive_alias": "recursive YAML alias (expected a finite tree)",
    "yaml.tag_list": "unsupported YAML tag {tag} (expected a plain list)",
    "yaml.tag_mapping": "unsupported YAML tag {tag} (expected a plain mapping)",
    "yaml.bad_value": "{detail} (expected a plain YAML value)",
    "yaml.merge_key": "YAML merge keys (<<) are not supported (expected the keys written out)",
    "yaml.complex_key": "mapping key is a list or mapping (expected a plain text key)",
    "yaml.duplicate_key": 'duplicate key "{key}" (first defined on line {first_line}; expected each key once)',
    "file.not_utf8": "file is not UTF-8 text ({reason}; expected UTF-8)",
    "file.empty": "file is empty (expected a mapping of fields)",
    "file.missing": "file is missing (expected {purpose})",
    "file.unexpected_entry": "unexpected entry (expected {expected} files)",
    "folder.missing": "folder is missing (expected {expected})",
    # --- the shape of a file (pydantic) -----------------------------------------------
    "schema.invalid_key": "invalid key: {detail}",
    "schema.missing": 'missing required field "{name}"',
    "schema.expected_tagged_mapping": "expected a mapping with {field}: one of {expected}",
    "schema.missing_tag": 'missing required field "{field}" (expected one of: {expected})',
    "schema.unknown_tag": 'unknown {field} "{tag}" (expected one of: {expected})',
    "schema.unknown_key": 'unknown key "{key}" (expected one of: {expected})',
    "schema.unknown_key_anywhere": 'unknown key "{key}"',
    "schema.expected_mapping": "expected a mapping (got {got})",
    # pydantic's own checks keep pydantic's English text; the code is "schema." + its error type.
    "schema.string_type": "Input should be a valid string",
    "schema.int_type": "Input should be a valid integer",
    "schema.int_parsing": "Input should be a valid integer, unable to parse string as an integer",
    "schema.int_from_float": "Input should be a valid integer, got a number with a fractional part",
    "schema.float_type": "Input should be a valid number",
    "schema.float_parsing": "Input should be a valid number, unable to parse string as a number",
    "schema.bool_type": "Input should be a valid boolean",
    "schema.bool_parsing": "Input should be a valid boolean, unable to interpret input",
    "schema.list_type": "Input should be a valid list",
    "schema.string_too_short": "String should have at least {min_length} characters",
    "schema.string_too_long": "String should have at most {max_length} characters",
    "schema.too_short": "List should have at least {min_length} items",
    "schema.too_long": "List should have at most {max_length} items",
    "schema.greater_than_equal": "Input should be greater than or equal to {ge}",
    "schema.greater_than": "Input should be greater than {gt}",
    "schema.less_than_equal": "Input should be less than or equal to {le}",
    "schema.less_than": "Input should be less than {lt}",
    "schema.literal_error": "Input should be {expected}",
    "schema.string_pattern_mismatch": "String should match pattern '{pattern}'",
    "schema.other": "{detail}",
    # --- values (models.py) -------------------------------------------------------------
    "slug.invalid": '"{value}" is not a valid slug (expected lowercase ASCII letters, digits and '
                    "hyphens, starting with a letter or digit, 2-63 characters)",
    "id.invalid": '"{value}" is not a valid id (expected ASCII letters, digits, "-" or "_", '
                  "starting with a letter or digit)",
    "library_name.invalid": '"{value}" is not a valid library name (expected lowercase snake_case)',
    "text.empty": "text is empty (expected non-blank text)",
    "text.missing": "no text (expected text or a mapping {{zh-CN: ..., en: ...}})",
    "text.not_text": "expected text or a mapping {{zh-CN: ..., en: ...}}",
    "text.unknown_language": 'unknown language "{language}" (expected zh-CN and optionally en)',
    "text.zh_missing": "zh-CN text is missing (expected zh-CN, en is optional)",
    "text.language_empty": "{language} text is empty (expected non-blank text)",
    "rubric.nothing_to_match": 'rubric item "{id}" has nothing to match '
                               "(expected phrases, elements, patterns, or use: <library entry>)",
    "rubric.forbidden_elements": 'forbidden item "{id}" has elements (expected phrases only: '
                                 "a forbidden item triggers when any phrase matches)",
    "question.single_correct": "{count} options marked correct: true ({found}); expected exactly one for type single",
    "question.multiple_none": "no option marked correct: true (expected one or more for type multiple)",
    "thresholds.order": "poor ({poor}) is not below good ({good}) (expected poor < good)",
    "library.nothing_to_match": "nothing to match (expected phrases, elements and/or patterns)",
    "certification.levels": "levels are {found} (expected exactly {expected} in that order)",
    "certification.trainee_requirements": "trainee has requirements (expected none: every learner holds trainee)",
    # --- cross-checks (checks.py, rubrics.py, loader.py) ------------------------------------
    "ids.duplicate": 'duplicate {what} id "{id}" (expected each id once)',
    "draw.unknown_tag": 'no question is tagged "{tag}" (expected one of: {expected})',
    "draw.too_many": "draws {count} questions but only {available} can be guaranteed "
                     "({pool} {source}, up to {taken} taken by earlier draw rules) "
                     "(expected count <= {available}, or more questions {source})",
    "graph.unknown_ending": 'unknown ending "{target}" (expected one of: {endings})',
    "graph.unknown_node": 'unknown node "{target}" (expected a node id: {nodes}; or an ending: {endings})',
    "graph.too_few_nodes": "only {count} node(s) (expected at least 4)",
    "graph.bad_start": '"{start}" is not a node (expected one of: {nodes})',
    "graph.unreachable": 'node "{node}" is unreachable (expected some transition from start "{start}" to lead to it)',
    "graph.never_reached": "{ending} is never reached (expected a transition to it from a reachable node)",
    "graph.hangup_never_reached": "end:hangup is never reached (rule: it counts as reached when a reachable node "
                                  "transitions to end:hangup, or when escalate transitions chain through at least "
                                  "hangup_after_poor = {count} reachable nodes, an escalate loop included, so poor "
                                  "replies force a hang-up; expected one of these)",
    "course.unknown_prerequisite": 'unknown course "{course}" (expected one of: {expected})',
    "course.prerequisite_cycle": "prerequisite cycle {cycle} (expected prerequisites without loops)",
    "course.unknown_quiz": 'unknown exam "{exam}" (expected a quiz in exams/: {expected})',
    "course.quiz_kind": 'exam "{exam}" is kind: {kind} (expected an exam with kind: quiz)',
    "certification.unknown_course": 'unknown course "{course}" (expected one of: {expected})',
    "certification.unknown_exam": 'unknown exam "{exam}" (expected a certification exam: {expected})',
    "certification.exam_kind": 'exam "{exam}" is kind: {kind} (expected an exam with kind: certification)',
    "rubric.duplicate_id": 'duplicate rubric item id "{id}" (expected ids unique within the list)',
    "rubric.use_wrong_kind": '"{use}" is a library {other_kind} entry but this item is kind: {kind} '
                             "(expected kind: {other_kind}, or one of the {section}: {expected})",
    "rubric.unknown_use": 'unknown library entry "{use}" (expected one of the {section} '
                          "in roleplays/_library.yaml: {expected})",
    "rubric.use_no_language": 'library entry "{use}" has no {language} phrases '
                              "(expected {section}.{use}.{language} in roleplays/_library.yaml; it has: {has})",
    "pattern.invalid": "{detail} (see docs/content-format.md, patterns)",
    "slug.mismatch": '"{slug}" does not match the {what} name (expected slug: {expected})',
    "slug.taken": '"{slug}" is already used by {other} (expected a unique slug)',
    "library.missing_entries": "missing required entries: {missing} (expected all of: {expected})",
    "library.forbidden_elements": "forbidden sets match phrases only (expected phrases, no elements)",
    "scenario.forbidden_kind": "expected kind: forbidden (a scenario's forbidden list holds what its case facts "
                               "forbid)",
    "call_rules.no_language": 'library intent "{rule}" has no {language} phrases '
                              "(expected intents.{rule}.{language} in {file}, or {rule}: {{points: 0}})",
}


class Message(str):
    """English text with a stable ``code`` and the ``params`` that went into it."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, text: str | None = None, **params: Any) -> Message:
        if text is None:
            text = TEMPLATES[code].format(**params)
        message = super().__new__(cls, text)
        message.code = code
        message.params = params
        return message

    def __reduce__(self):  # pickles and copies keep the code
        return (_rebuild, (self.code, str(self), self.params))


def _rebuild(code: str, text: str, params: dict[str, Any]) -> Message:
    return Message(code, text, **params)


def message(code: str, **params: Any) -> Message:
    """The message ``code`` with ``params`` (raises KeyError for an unknown code)."""
    if code not in TEMPLATES:
        raise KeyError(code)
    return Message(code, **params)


def code_of(text: Any) -> tuple[str | None, dict[str, Any]]:
    """(code, params) of a message; (None, {}) for plain text."""
    if isinstance(text, Message):
        return text.code, dict(text.params)
    return None, {}
