"""Notices: made from the other domains' events (app.core.events), read and marked read by their owner.

Receivers never commit: they add rows to the session of the request or command that sent the event, so
a notice exists exactly when what it tells about was committed (one transaction boundary). Time-based
notices (due tomorrow, overdue, expiring, expired) come only from :func:`sweep` (``flask notifications
sweep``, from cron), never from a page view; each carries a dedupe key, so sweeping twice changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, url_for
from sqlalchemy import func, select, update
from werkzeug.routing import BuildError

from ..accounts.models import User, UserRole

from ..core.clock import utcnow
from ..core.access import Role
from ..core import events
from ..extensions import db
from . import kinds
from .kinds import Rendered, render
from .models import Notification

PAGE_SIZE = 50
MAX_DETAIL = 1000          # a comment or reason is kept up to this many characters
EXPIRY_WARNING_DAYS = 30   # the sweep's default "expiring in N days"


# --- making notices ----------------------------------------------------------------------------

def notify(user_id: int, kind: str, params: dict[str, Any], *, link: tuple[str, dict] | None = None,
           dedupe_key: str | None = None) -> Notification | None:
    """Add one notice to the session (the caller's transaction commits it). With a dedupe key, a notice
    this person already has under that key is not made again (None is returned)."""
    if dedupe_key is not None:
        exists = db.session.scalar(select(Notification.id).where(Notification.user_id == user_id,
                                                                 Notification.dedupe_key == dedupe_key).limit(1))
        if exists is not None:
            return None
    notice = Notification(user_id=user_id, kind=kind, params=_clip(params), dedupe_key=dedupe_key,
                          link_endpoint=link[0] if link else None, link_values=link[1] if link else None,
                          created_at=utcnow(), email_attempts=0)
    db.session.add(notice)
    return notice


def _clip(params: dict[str, Any]) -> dict[str, Any]:
    clipped = {}
    for key, value in params.items():
        if isinstance(value, str) and len(value) > MAX_DETAIL:
            value = value[:MAX_DETAIL] + "…"
        clipped[key] = value
    return clipped


def _active_with_role(role: Role):
    return (select(User).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role.value, User.active.is_(True)).order_by(User.id))


def trainers_for(learner: User) -> list[User]:
    """The trainers of the learner's cohort; every trainer when nobody trains that cohort (or the learner
    has none), so a flag never goes unseen."""
    trainers = list(db.session.scalars(_active_with_role(Role.TRAINER)).unique())
    if learner.cohort:
        own = [t for t in trainers if t.cohort == learner.cohort]
        if own:
            return own
    return trainers


def hr_people() -> list[User]:
    return list(db.session.scalars(_active_with_role(Role.HR)).unique())


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- receivers ----------------------------------------------------------------------------------

def _safely(receiver):
    """A notice that cannot be made must not undo the sender's work (a review, an HR decision): the
    receiver runs in a savepoint, and a failure is logged and rolled back to it. (The senders have
    changed something before they send, so the savepoint opens inside their transaction.)"""
    @wraps(receiver)
    def run(sender, **details):
        try:
            with db.session.begin_nested():
                receiver(sender, **details)
        except Exception:  # logged; the sender's transaction goes on without this notice
            current_app.logger.exception("notifications: %s failed for %r", receiver.__name__, sender)
    return run


def on_review_completed(learner_id, *, attempt_id: int, reviewer_name: str = "", scenario=None,
                        comment: str | None = None, **_extra) -> None:
    notify(learner_id, kinds.CALL_REVIEWED, {"trainer": reviewer_name, "scenario": scenario, "comment": comment},
           link=("roleplays.report", {"attempt_id": attempt_id}))


def on_call_flagged(learner_id, *, attempt_id: int, flagged_by: int | None = None, reason: str | None = None,
                    scenario=None, **_extra) -> None:
    learner = db.session.get(User, learner_id)
    if learner is None:
        return
    flagger = db.session.get(User, flagged_by) if flagged_by else None
    params = {"learner": learner.name, "by": flagger.name if flagger else "", "scenario": scenario,
              "reason": reason}
    for trainer in trainers_for(learner):
        if trainer.id in (flagged_by, learner_id):
            continue  # who flagged it knows; a trainer's own call goes to the others
        notify(trainer.id, kinds.CALL_FLAGGED, params, link=("reviews.attempt", {"attempt_id": attempt_id}))


def on_assignment_created(_trainer_id, *, assignment_id: int, user_ids=(), titles=None, due_date=None,
                          note: str | None = None, **_extra) -> None:
    for user_id in user_ids:
        notify(user_id, kinds.ASSIGNMENT_GIVEN, {"title": titles, "due": _iso(due_date), "note": note},
               link=("courses.dashboard", {}), dedupe_key=f"assignment:{assignment_id}:given")


def on_assignment_due(user_id, *, assignment_id: int, state: str, titles=None, due_date=None, **_extra) -> None:
    kind = {"due_tomorrow": kinds.ASSIGNMENT_DUE_TOMORROW, "overdue": kinds.ASSIGNMENT_OVERDUE}.get(state)
    if kind is None:
        return
    notify(user_id, kind, {"title": titles, "due": _iso(due_date)}, link=("courses.dashboard", {}),
           dedupe_key=f"assignment:{assignment_id}:{state}")


_HOLDER_KINDS = {"issued": kinds.CERTIFICATE_ISSUED, "held_for_approval": kinds.CERTIFICATE_PENDING,
                 "approved": kinds.CERTIFICATE_APPROVED}


def on_certificate_decided(holder_id, *, action: str, certificate_id: int, level_names=None, **_extra) -> None:
    """Issued, held for approval (and HR told), approved. Expiry is the sweep's (a page that expires a
    certificate lazily must not make notices)."""
    kind = _HOLDER_KINDS.get(action)
    if kind is None:
        return
    key = f"certificate:{certificate_id}:{action}"
    notify(holder_id, kind, {"level": level_names}, link=("certification.mine", {}), dedupe_key=key)
    if action == "held_for_approval":
        holder = db.session.get(User, holder_id)
        for person in hr_people():
            if person.id == holder_id:
                continue  # separation of duties: another HR person decides
            notify(person.id, kinds.APPROVAL_WAITING,
                   {"level": level_names, "learner": holder.name if holder else ""},
                   link=("certification.person", {"user_id": holder_id}), dedupe_key=key)


def on_certificate_expiry(holder_id, *, certificate_id: int, state: str, level_names=None, expires_at=None,
                          **_extra) -> None:
    kind = {"expiring": kinds.CERTIFICATE_EXPIRING, "expired": kinds.CERTIFICATE_EXPIRED}.get(state)
    if kind is None:
        return
    # A renewed end date warns again; the same one never twice.
    key = f"certificate:{certificate_id}:{state}:{_iso(expires_at.date() if isinstance(expires_at, datetime) else expires_at)}"
    notify(holder_id, kind, {"level": level_names, "expires": _iso(expires_at)}, link=("certification.mine", {}),
           dedupe_key=key)


_RECEIVERS = {
    events.review_completed: _safely(on_review_completed),
    events.call_flagged: _safely(on_call_flagged),
    events.assignment_created: _safely(on_assignment_created),
    events.certificate_decided: _safely(on_certificate_decided),
    # The sweep's own events: a failure there fails the command (nothing is committed), which cron reports.
    events.assignment_due: on_assignment_due,
    events.certificate_expiry: on_certificate_expiry,
}


def connect_receivers() -> None:
    for signal, receiver in _RECEIVERS.items():
        signal.connect(receiver)  # module-level wrappers: blinker keeps weak references


# --- the sweep ------------------------------------------------------------------------------------

def sweep(now: datetime | None = None, expiring_days: int = EXPIRY_WARNING_DAYS) -> int:
    """Ask every domain for its time-based states and store the notices not made before; commits.
    Returns how many notices were made."""
    now = now or utcnow()
    before = db.session.scalar(select(func.count(Notification.id)))
    events.sweep_due.send(None, now=now, expiring_days=expiring_days)
    db.session.flush()
    made = db.session.scalar(select(func.count(Notification.id))) - before
    db.session.commit()
    return made


# --- reading -------------------------------------------------------------------------------------------

@dataclass
class Shown:
    notice: Notification
    rendered: Rendered
    url: str | None

    @property
    def unread(self) -> bool:
        return self.notice.read_at is None


def link_of(notice: Notification) -> str | None:
    if not notice.link_endpoint or notice.link_endpoint not in current_app.view_functions:
        return None  # the domain it points into is not installed
    try:
        return url_for(notice.link_endpoint, **(notice.link_values or {}))
    except BuildError:
        return None


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user_id,
                                                                        Notification.read_at.is_(None))) or 0


def page_of(user_id: int, page: int = 1) -> tuple[list[Shown], bool]:
    """One page of this person's notices, newest first, and whether there are more."""
    page = max(1, page)
    rows = list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.created_at.desc(), Notification.id.desc())
                                   .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    return [Shown(n, render(n.kind, n.params), link_of(n)) for n in rows[:PAGE_SIZE]], more


def own_notice(user_id: int, notice_id: int) -> Notification | None:
    """The notice, only when it is this person's: someone else's is simply not found."""
    notice = db.session.get(Notification, notice_id)
    return notice if notice is not None and notice.user_id == user_id else None


# --- marking read --------------------------------------------------------------------------------

def mark_read(notice: Notification) -> None:
    if notice.read_at is None:
        notice.read_at = utcnow()
    db.session.commit()


def mark_all_read(user_id: int) -> int:
    result = db.session.execute(update(Notification).where(Notification.user_id == user_id,
                                                           Notification.read_at.is_(None))
                                .values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount or 0


def recent_window(now: datetime | None = None) -> datetime:
    """Older unsent mails are not sent any more (a notice about yesterday's deadline is stale)."""
    return (now or utcnow()) - timedelta(days=2)
