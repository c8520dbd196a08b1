"""Content validation messages in the UI language: the one place that translates them.

content_schema (pure, no Flask) gives every error a stable ``code`` with ``params`` and the
field path ``where``, next to its English text (``content_schema.messages``). ``describe``
says an error in the request's language by its code; an error without a code, or with a code
this table does not know yet, reads as its English text (never a raw code).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from flask_babel import gettext as _, lazy_gettext as _l

from content_schema import ContentError

# code -> the message with %(name)s for the params content_schema gives that code.
MESSAGES = {
    # YAML and files
    "yaml.syntax": _l("The YAML cannot be read at line %(line)s, column %(column)s: %(detail)s."),
    "yaml.error": _l("The YAML cannot be read: %(detail)s."),
    "yaml.too_long": _l("The YAML is longer than %(maximum)s characters."),
    "yaml.too_many_values": _l("The YAML expands to more than %(maximum)s values: each alias (*name) copies "
                               "everything its anchor (&name) holds. Use fewer or smaller aliases."),
    "yaml.too_deep": _l("The YAML is nested more than %(maximum)s levels deep."),
    "yaml.recursive_alias": _l("A YAML alias refers to itself; write the values out instead."),
    "yaml.tag_list": _l("The YAML tag %(tag)s is not supported here; write a plain list."),
    "yaml.tag_mapping": _l("The YAML tag %(tag)s is not supported here; write plain keys and values."),
    "yaml.bad_value": _l("This YAML value cannot be read (%(detail)s); write plain text, a number or true/false."),
    "yaml.merge_key": _l("YAML merge keys (<<) are not supported; write the keys out."),
    "yaml.complex_key": _l("A key is a list or a mapping; keys must be plain text."),
    "yaml.duplicate_key": _l("The key \u201c%(key)s\u201d appears twice (first on line %(first_line)s); "
                             "write each key once."),
    "file.not_utf8": _l("The file is not UTF-8 text."),
    "file.empty": _l("The file is empty; it should hold the fields of the content."),
    "file.missing": _l("A file is missing (%(purpose)s)."),
    "file.unexpected_entry": _l("This file does not belong here (expected %(expected)s files)."),
    "folder.missing": _l("A folder is missing (expected %(expected)s)."),
    # the shape of a file
    "schema.invalid_key": _l("This key is not valid: %(detail)s"),
    "schema.missing": _l("The required field \u201c%(name)s\u201d is missing."),
    "schema.expected_tagged_mapping": _l("Expected fields with %(field)s set to one of: %(expected)s."),
    "schema.missing_tag": _l("The required field \u201c%(field)s\u201d is missing (one of: %(expected)s)."),
    "schema.unknown_tag": _l("\u201c%(tag)s\u201d is not a known %(field)s (one of: %(expected)s)."),
    "schema.unknown_key": _l("Unknown field \u201c%(key)s\u201d (expected one of: %(expected)s)."),
    "schema.unknown_key_anywhere": _l("Unknown field \u201c%(key)s\u201d."),
    "schema.expected_mapping": _l("Expected a group of fields here (got %(got)s)."),
    "schema.string_type": _l("Expected text here."),
    "schema.int_type": _l("Expected a whole number here."),
    "schema.int_parsing": _l("Expected a whole number here."),
    "schema.int_from_float": _l("Expected a whole number here, without a fractional part."),
    "schema.float_type": _l("Expected a number here."),
    "schema.float_parsing": _l("Expected a number here."),
    "schema.bool_type": _l("Expected true or false here."),
    "schema.bool_parsing": _l("Expected true or false here."),
    "schema.list_type": _l("Expected a list here."),
    "schema.string_too_short": _l("The text is too short (at least %(min_length)s characters)."),
    "schema.string_too_long": _l("The text is too long (at most %(max_length)s characters)."),
    "schema.too_short": _l("Too few entries (at least %(min_length)s)."),
    "schema.too_long": _l("Too many entries (at most %(max_length)s)."),
    "schema.greater_than_equal": _l("The value must be at least %(ge)s."),
    "schema.greater_than": _l("The value must be more than %(gt)s."),
    "schema.less_than_equal": _l("The value must be at most %(le)s."),
    "schema.less_than": _l("The value must be less than %(lt)s."),
    "schema.literal_error": _l("The value must be %(expected)s."),
    "schema.string_pattern_mismatch": _l("The text does not have the expected form."),
    "schema.other": _l("This value is not valid: %(detail)s"),
    # values
    "slug.invalid": _l("\u201c%(value)s\u201d is not a valid slug: use 2 to 63 lowercase letters, digits and "
                       "hyphens, starting with a letter or digit (for example wrong-address)."),
    "id.invalid": _l("\u201c%(value)s\u201d is not a valid id: use letters, digits, - or _, starting with a "
                     "letter or digit."),
    "library_name.invalid": _l("\u201c%(value)s\u201d is not a valid library name: use lowercase letters, "
                               "digits and _."),
    "text.empty": _l("The text is empty."),
    "text.missing": _l("The text is missing."),
    "text.not_text": _l("Expected text, or a zh-CN text with an optional en text."),
    "text.unknown_language": _l("Unknown language \u201c%(language)s\u201d: texts are zh-CN and optionally en."),
    "text.zh_missing": _l("The Chinese text is missing (the English text is optional)."),
    "text.language_empty": _l("The %(language)s text is empty."),
    "rubric.nothing_to_match": _l("Rubric item \u201c%(id)s\u201d has nothing to match: give phrases, "
                                  "elements, patterns or a library entry."),
    "rubric.forbidden_elements": _l("Forbidden item \u201c%(id)s\u201d has elements: a forbidden item has "
                                    "phrases only."),
    "question.single_correct": _l("%(count)s options are marked correct (%(found)s); a single-choice question "
                                  "has exactly one."),
    "question.multiple_none": _l("No option is marked correct; a multiple-choice question needs at least one."),
    "thresholds.order": _l("The poor threshold (%(poor)s) must be below the good threshold (%(good)s)."),
    "library.nothing_to_match": _l("Nothing to match: give phrases, elements or patterns."),
    "certification.levels": _l("The levels are %(found)s; expected exactly %(expected)s in that order."),
    "certification.trainee_requirements": _l("The trainee level has requirements; it should have none, "
                                             "every learner holds it."),
    # cross-checks
    "ids.duplicate": _l("The id \u201c%(id)s\u201d is used twice; give each one its own id."),
    "draw.unknown_tag": _l("No question is tagged \u201c%(tag)s\u201d (tags in use: %(expected)s)."),
    "draw.too_many": _l("This rule draws %(count)s questions but only %(available)s can be guaranteed; lower "
                        "the count or add questions."),
    "graph.unknown_ending": _l("\u201c%(target)s\u201d is not an ending (endings: %(endings)s)."),
    "graph.unknown_node": _l("\u201c%(target)s\u201d is not a step of this scenario (steps: %(nodes)s; or an "
                             "ending: %(endings)s)."),
    "graph.too_few_nodes": _l("Only %(count)s steps; a scenario needs at least 4."),
    "graph.bad_start": _l("The first step \u201c%(start)s\u201d does not exist (steps: %(nodes)s)."),
    "graph.unreachable": _l("Step \u201c%(node)s\u201d can never be reached from the first step "
                            "\u201c%(start)s\u201d."),
    "graph.never_reached": _l("The ending %(ending)s is never reached; let some step lead to it."),
    "graph.hangup_never_reached": _l("The caller never hangs up: let some step lead to the hang-up ending, or "
                                     "let escalating replies pass through at least %(count)s steps."),
    "course.unknown_prerequisite": _l("Unknown course \u201c%(course)s\u201d (courses: %(expected)s)."),
    "course.prerequisite_cycle": _l("The prerequisites go round in a circle: %(cycle)s."),
    "course.unknown_quiz": _l("Unknown quiz \u201c%(exam)s\u201d (quizzes: %(expected)s)."),
    "course.quiz_kind": _l("\u201c%(exam)s\u201d is not a quiz."),
    "certification.unknown_course": _l("Unknown course \u201c%(course)s\u201d (courses: %(expected)s)."),
    "certification.unknown_exam": _l("Unknown exam \u201c%(exam)s\u201d (certification exams: %(expected)s)."),
    "certification.exam_kind": _l("\u201c%(exam)s\u201d is not a certification exam."),
    "rubric.duplicate_id": _l("The rubric item id \u201c%(id)s\u201d is used twice; give each item its own id."),
    "rubric.use_wrong_kind": _l("\u201c%(use)s\u201d is a library entry of another kind than this item "
                                "(choose one of: %(expected)s)."),
    "rubric.unknown_use": _l("Unknown library entry \u201c%(use)s\u201d (choose one of: %(expected)s)."),
    "rubric.use_no_language": _l("Library entry \u201c%(use)s\u201d has no phrases in %(language)s."),
    "pattern.invalid": _l("This pattern cannot be used: %(detail)s"),
    "slug.mismatch": _l("The slug \u201c%(slug)s\u201d does not match the file name (expected %(expected)s)."),
    "slug.taken": _l("The slug \u201c%(slug)s\u201d is already used; choose another."),
    "library.missing_entries": _l("The library lacks required entries: %(missing)s."),
    "library.forbidden_elements": _l("Forbidden sets match phrases only, not elements."),
    "scenario.forbidden_kind": _l("Items in the forbidden list must be of kind forbidden."),
    "call_rules.no_language": _l("The library has no %(language)s phrases for the %(rule)s rule; add them or "
                                 "set its points to 0."),
}

# Language codes in params are said as names (people never see "zh-CN").
LANGUAGE_NAMES = {"zh-CN": _l("Chinese"), "en": _l("English"), "en-US": _l("English"), "ko-KR": _l("Korean")}


def describe(error: ContentError) -> str:
    """One error in the UI language: by its code when known, else its English text."""
    template = MESSAGES.get(error.code) if error.code else None
    if template is None:
        return error.message
    params = {key: value for key, value in error.params.items()}
    if params.get("language") in LANGUAGE_NAMES:
        params["language"] = str(LANGUAGE_NAMES[params["language"]])
    if error.code == "schema.invalid_key":
        inner = ContentError(error.file, error.line, str(params.get("detail", "")), None,
                             params.get("inner_code"), params.get("inner_params") or {})
        params["detail"] = describe(inner)
    try:
        text = str(template) % params
    except (KeyError, TypeError, ValueError):
        return error.message
    if "got" in params and error.code not in ("schema.expected_mapping",):
        text = _("%(message)s (got %(value)s).", message=text.rstrip(".\u3002"), value=params["got"])
    if error.where:
        text = _("%(where)s: %(message)s", where=error.where, message=text)
    return text


def described(errors: Iterable[ContentError]) -> list[ContentError]:
    """The errors with ``message`` in the UI language (line, path and code kept)."""
    return [dataclasses.replace(error, message=describe(error)) for error in errors]
