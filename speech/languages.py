"""Language codes the engine knows, and the aliases callers may use."""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("zh-CN", "en-US", "ko-KR")

# Short and lower-case spellings seen in content files and espeak voice names.
_ALIASES = {
    "zh": "zh-CN", "zh-cn": "zh-CN", "cmn": "zh-CN",
    "en": "en-US", "en-us": "en-US",
    "ko": "ko-KR", "ko-kr": "ko-KR",
}


def normalize_language(lang: str) -> str:
    """Return the canonical code (``zh-CN``, ``en-US``, ``ko-KR``) or raise ValueError."""
    canonical = _ALIASES.get(lang.strip().lower().replace("_", "-"))
    if canonical is None:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return canonical
