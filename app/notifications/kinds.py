"""What each kind of notice says, rendered when it is read (in the reader's language, never stored).

A notice's params hold what the sender knew: names as typed, titles in both content languages
({"zh-CN": …, "en": …}), dates as ISO strings. Whatever a person wrote (a trainer's comment, a flag's
reason) is returned as the ``detail`` and escaped wherever it is shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from flask_babel import get_locale, gettext as _

from ..core.clock import local_date

# Kinds: who gets them and what makes them.
CALL_REVIEWED = "call_reviewed"            # the learner: a trainer finished reviewing their call
CALL_FLAGGED = "call_flagged"              # trainers of the learner's cohort: a call was flagged
ASSIGNMENT_GIVEN = "assignment_given"      # each learner an assignment reaches
ASSIGNMENT_DUE_TOMORROW = "assignment_due_tomorrow"   # the sweep: not done, due tomorrow
ASSIGNMENT_OVERDUE = "assignment_overdue"  # the sweep: not done by the due date
CERTIFICATE_ISSUED = "certificate_issued"  # the holder: issued without HR approval
CERTIFICATE_PENDING = "certificate_pending"  # the holder: waiting for HR
CERTIFICATE_APPROVED = "certificate_approved"  # the holder: HR approved it
CERTIFICATE_EXPIRING = "certificate_expiring"  # the sweep: expires within the warning period
CERTIFICATE_EXPIRED = "certificate_expired"    # the sweep: lapsed
APPROVAL_WAITING = "approval_waiting"      # every HR person: a certificate waits for approval


def pick(texts: Any) -> str:
    """A title in the reader's language from {"zh-CN": …, "en": …} (or a plain string)."""
    if not texts:
        return ""
    if isinstance(texts, str):
        return texts
    language = "en" if str(get_locale() or "") == "en" else "zh-CN"
    return texts.get(language) or texts.get("zh-CN") or next(iter(texts.values()), "")


def _day(value: str | None) -> str:
    """A due date (ISO date) as is; an end time (ISO datetime, UTC) as the academy's local date."""
    if not value:
        return ""
    try:
        return local_date(value) if "T" in value else date.fromisoformat(value).isoformat()
    except ValueError:
        return value


@dataclass(frozen=True)
class Rendered:
    text: str
    detail: str | None = None       # a person's own words, shown escaped under the text
    detail_label: str | None = None


def _call_reviewed(p: dict) -> Rendered:
    return Rendered(_("%(trainer)s reviewed your call “%(scenario)s”.", trainer=p.get("trainer", ""),
                      scenario=pick(p.get("scenario"))),
                    p.get("comment"), _("Trainer's comment") if p.get("comment") else None)


def _call_flagged(p: dict) -> Rendered:
    return Rendered(_("The call “%(scenario)s” of %(learner)s was flagged for review by %(by)s.",
                      scenario=pick(p.get("scenario")), learner=p.get("learner", ""), by=p.get("by", "")),
                    p.get("reason"), _("Reason") if p.get("reason") else None)


def _assignment_given(p: dict) -> Rendered:
    return Rendered(_("New assignment: “%(title)s”, due %(due)s.", title=pick(p.get("title")), due=_day(p.get("due"))),
                    p.get("note"), _("Note from the trainer") if p.get("note") else None)


def _assignment_due_tomorrow(p: dict) -> Rendered:
    return Rendered(_("“%(title)s” is due tomorrow (%(due)s) and not done yet.", title=pick(p.get("title")),
                      due=_day(p.get("due"))))


def _assignment_overdue(p: dict) -> Rendered:
    return Rendered(_("“%(title)s” is overdue: it was due %(due)s.", title=pick(p.get("title")),
                      due=_day(p.get("due"))))


def _certificate_issued(p: dict) -> Rendered:
    return Rendered(_("Congratulations: your %(level)s certificate has been issued.", level=pick(p.get("level"))))


def _certificate_pending(p: dict) -> Rendered:
    return Rendered(_("You met the requirements for %(level)s: the certificate is waiting for HR's approval.",
                      level=pick(p.get("level"))))


def _certificate_approved(p: dict) -> Rendered:
    return Rendered(_("HR approved your %(level)s certificate.", level=pick(p.get("level"))))


def _certificate_expiring(p: dict) -> Rendered:
    return Rendered(_("Your %(level)s certificate expires on %(date)s.", level=pick(p.get("level")),
                      date=_day(p.get("expires"))))


def _certificate_expired(p: dict) -> Rendered:
    return Rendered(_("Your %(level)s certificate expired on %(date)s.", level=pick(p.get("level")),
                      date=_day(p.get("expires"))))


def _approval_waiting(p: dict) -> Rendered:
    return Rendered(_("A %(level)s certificate for %(learner)s is waiting for your approval.",
                      level=pick(p.get("level")), learner=p.get("learner", "")))


RENDERERS: dict[str, Callable[[dict], Rendered]] = {
    CALL_REVIEWED: _call_reviewed,
    CALL_FLAGGED: _call_flagged,
    ASSIGNMENT_GIVEN: _assignment_given,
    ASSIGNMENT_DUE_TOMORROW: _assignment_due_tomorrow,
    ASSIGNMENT_OVERDUE: _assignment_overdue,
    CERTIFICATE_ISSUED: _certificate_issued,
    CERTIFICATE_PENDING: _certificate_pending,
    CERTIFICATE_APPROVED: _certificate_approved,
    CERTIFICATE_EXPIRING: _certificate_expiring,
    CERTIFICATE_EXPIRED: _certificate_expired,
    APPROVAL_WAITING: _approval_waiting,
}


def render(kind: str, params: dict | None) -> Rendered:
    renderer = RENDERERS.get(kind)
    if renderer is None:  # a kind from a newer version of the app, read by an older one
        return Rendered(_("A notice of a kind this version cannot show."))
    return renderer(params or {})
