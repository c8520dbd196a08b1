"""Language choice: the session's (copied from the user's saved preference at login), else the browser's.

The locale is read from the session, not from current_user: loading the user can
itself need a translated string, and asking for the user from here would recurse.
"""
from flask import has_request_context, request, session

# Locale code → label shown in its own language.
LANGUAGES = {"zh_CN": "中文", "en": "English"}


def normalise_language(value: str) -> str | None:
    value = value.replace("-", "_")
    if value in LANGUAGES:
        return value
    if value.lower().startswith("zh"):
        return "zh_CN"
    if value.lower().startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    if not has_request_context():
        # Command-line output and logs are for operators: keep them in the msgid language.
        return "en"
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    # Browsers ask for "zh-CN", "zh" or "en-US"; anything but English gets the primary language.
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"], default="zh-CN")
    return "en" if best == "en" else "zh_CN"


def content_language() -> str:
    """The content language tag (zh-CN or en) that matches the UI locale."""
    return "en" if select_locale() == "en" else "zh-CN"
