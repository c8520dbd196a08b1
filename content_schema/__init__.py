"""Validate and parse all authored content (docs/content-format.md).

Pure package: no Flask, no database. ``load_content`` is the one entry point the app
uses; ``python -m content_schema ROOT`` runs it from the command line.
"""

from .bundle import (
    Certification,
    ContentBundle,
    Course,
    Exam,
    Lesson,
    LessonText,
    ResolvedNode,
    Scenario,
)
from .errors import ContentError, ContentValidationError
from .dump import dump_exam, dump_scenario, spec_data
from .loader import (
    default_asset_url_prefix,
    load_content,
    load_library,
    validate_exam_text,
    validate_scenario_text,
)
from .markdown import check_markdown, render_markdown

__all__ = [
    "Certification",
    "ContentBundle",
    "ContentError",
    "ContentValidationError",
    "Course",
    "Exam",
    "Lesson",
    "LessonText",
    "ResolvedNode",
    "Scenario",
    "check_markdown",
    "default_asset_url_prefix",
    "dump_exam",
    "dump_scenario",
    "load_content",
    "load_library",
    "render_markdown",
    "spec_data",
    "validate_exam_text",
    "validate_scenario_text",
]
