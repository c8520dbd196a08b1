"""Picking the UI-language version of a localized text (LText), zh-CN being the fallback."""
from __future__ import annotations

from collections.abc import Mapping

FALLBACK_UI_LANGUAGE = "zh-CN"


def pick(text: Mapping[str, str] | str | None, ui_language: str) -> str:
    """`text` in `ui_language`, else in zh-CN, else any version, else ""."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text   # a plain string is zh-CN by the content format
    for language in (ui_language, FALLBACK_UI_LANGUAGE):
        if text.get(language):
            return text[language]
    return next((value for value in text.values() if value), "")


def as_ltext(value: Mapping[str, str] | str | None) -> dict[str, str]:
    """Normalise an LText (plain string = zh-CN) to a dict."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {FALLBACK_UI_LANGUAGE: value}
    return {str(key): str(text) for key, text in value.items()}


def both(zh: str, en: str) -> dict[str, str]:
    """A text the grader writes itself (measured figures), in both UI languages."""
    return {"zh-CN": zh, "en": en}
