"""The ladder's levels and what certificates, statuses, audit actions and languages are called.

Registered for templates in the package's init_app (the ``level_label`` filter and friends), so
pages never receive a module to call into.
"""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from . import rules
from .models import ACTIVE, EXPIRED, PENDING, REJECTED, REVOKED, SUSPENDED

LEVELS = rules.LEVELS
# The level names as printed on a certificate, whatever the UI language.
LEVEL_NAMES = {
    "trainee": ("实习座席", "Trainee"),
    "agent": ("座席", "Agent"),
    "senior": ("高级座席", "Senior agent"),
    "expert": ("专家座席", "Expert agent"),
}
LEVEL_LABELS = {
    "trainee": _l("Trainee"),
    "agent": _l("Agent"),
    "senior": _l("Senior agent"),
    "expert": _l("Expert agent"),
}
STATUS_LABELS = {
    PENDING: _l("awaiting HR approval"),
    ACTIVE: _l("in force"),
    SUSPENDED: _l("suspended"),
    REVOKED: _l("revoked"),
    EXPIRED: _l("expired"),
    REJECTED: _l("rejected"),
}
# For the PDF, which is bilingual whatever the UI language.
STATUS_BILINGUAL = {SUSPENDED: "已暂停 suspended", REVOKED: "已撤销 revoked", EXPIRED: "已过期 expired"}
ACTION_LABELS = {
    "issued": _l("certificate issued"),
    "held_for_approval": _l("held for HR approval"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "suspended": _l("suspended"),
    "reinstated": _l("reinstated"),
    "revoked": _l("revoked"),
    "expired": _l("expired"),
    "signoff_given": _l("trainer sign-off given"),
    "signoff_withdrawn": _l("trainer sign-off withdrawn"),
    "call_signed_off": _l("typed call signed off in place of a voice pass"),
    # Account changes (recorded by account_audit.py, whoever makes them).
    "renamed": _l("name changed"),
    "roles_changed": _l("roles changed"),
    "password_reset": _l("password reset"),
    "password_changed": _l("password changed by the user"),
}
LANGUAGE_LABELS = {"zh-CN": _l("Mandarin"), "en-US": _l("English"), "ko-KR": _l("Korean")}


def level_label(level: str | None) -> str:
    return str(LEVEL_LABELS.get(level or "", level or ""))


def level_names(level: str) -> dict[str, str] | None:
    """The level in both printed languages, as carried by events and notices."""
    names = LEVEL_NAMES.get(level)
    return {"zh-CN": names[0], "en": names[1]} if names else None


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def language_label(language: str) -> str:
    return str(LANGUAGE_LABELS.get(language, language))


def chinese_ui() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "zh"


def levels_text(levels: list[str]) -> str:
    """Several levels in one phrase, with the list separator of the UI language."""
    return ("、" if chinese_ui() else ", ").join(level_label(level) for level in levels)
