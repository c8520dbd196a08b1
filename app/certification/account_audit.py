"""Renames, role changes and password resets go into the certification audit log.

They are recorded from SQLAlchemy's before_flush event rather than by calls in the accounts
package: accounts (a lower package) must not import certification, and this way every path
that changes a user — the admin pages, `flask users`, an import, the user's own password
change — is audited, including paths written later.
"""
from __future__ import annotations

from flask import g, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from ..accounts.models import User, UserRole

from ..core.clock import utcnow
from .models import AuditEntry


def _actor_id() -> int | None:
    """The logged-in user making the change, or None (the system: command line, jobs)."""
    if not has_app_context():
        return None
    user = g.get("_login_user")  # Flask-Login's user of this request, if it was loaded
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    state = inspect(user, raiseerr=False)
    # The identity needs no query (the object may be expired; loading it inside a flush is not allowed).
    return state.identity[0] if state is not None and state.identity else None


def _changed(user: User, attribute: str) -> bool:
    return inspect(user).attrs[attribute].history.has_changes()


def _entry(action: str, user: User, actor_id: int | None, *, reason: str | None = None,
           evidence: dict | None = None) -> AuditEntry:
    return AuditEntry(action=action, subject_id=user.id, actor_id=actor_id, certificate_id=None, level=None,
                      reason=reason, evidence=evidence, created_at=utcnow())


@event.listens_for(Session, "before_flush")
def _audit_account_changes(session: Session, flush_context, instances) -> None:
    changed = [obj for obj in session.dirty if isinstance(obj, User) and inspect(obj).persistent
               and session.is_modified(obj)]
    if not changed:
        return
    actor_id = _actor_id()
    entries = []
    with session.no_autoflush:
        for user in changed:
            if _changed(user, "name"):
                # What the database holds is the name before this flush.
                before = session.execute(select(User.name).where(User.id == user.id)).scalar_one()
                if before != user.name:
                    entries.append(_entry("renamed", user, actor_id, reason=f"{before} → {user.name}",
                                          evidence={"from": before, "to": user.name}))
            if _changed(user, "role_rows"):
                before = sorted(session.execute(select(UserRole.role).where(UserRole.user_id == user.id)).scalars())
                after = sorted(r.value for r in user.role_set)
                if before != after:
                    entries.append(_entry("roles_changed", user, actor_id,
                                          reason=f"{', '.join(before) or '—'} → {', '.join(after) or '—'}",
                                          evidence={"from": before, "to": after}))
            if _changed(user, "password_hash"):
                # By the user themselves: a change; by anyone else (an admin, HR, the command line): a reset.
                action = "password_changed" if actor_id == user.id else "password_reset"
                entries.append(_entry(action, user, actor_id))
    session.add_all(entries)
