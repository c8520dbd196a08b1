"""Email: the same notices, sent after the transaction that made them committed (optional).

With MAIL_SERVER set, every notice is also mailed to its owner (when they have an email address), in
their language. New notices are collected when they are flushed and handed to SMTP when the app context
ends, after the request or command committed; a rolled-back transaction mails nothing. ``emailed_at``
is the outbox flag: a failure is logged (the request never notices) and counted, and
``flask notifications sweep`` tries again, up to MAX_ATTEMPTS, while the notice is recent.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr

from flask import current_app, g, has_app_context
from flask_babel import force_locale, gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..accounts.models import User

from ..core.clock import utcnow
from ..extensions import db
from .kinds import render
from .models import Notification
from .services import recent_window

MAX_ATTEMPTS = 3
_FLUSHED = "notifications_flushed"   # session.info: ids flushed in the open transaction


def enabled() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush_context) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, Notification)]
    if ids:
        session.info.setdefault(_FLUSHED, []).extend(ids)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    ids = session.info.pop(_FLUSHED, None)
    if ids and has_app_context():
        g.setdefault("notifications_to_mail", []).extend(ids)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_FLUSHED, None)


def deliver_committed(_exc=None) -> None:
    """teardown_appcontext: mail the notices this context committed. Never raises."""
    ids = g.pop("notifications_to_mail", None)
    if not ids or not enabled():
        return
    try:
        deliver(ids)
    except Exception:  # the request is answered already; the sweep retries what is left
        current_app.logger.exception("notifications: mailing notices %s failed", ids)
        db.session.rollback()


def deliver(ids: list[int] | None = None) -> tuple[int, int]:
    """Mail pending notices (those ids, or every recent pending one); commits. Returns (sent, failed)."""
    if not enabled():
        return 0, 0
    query = (select(Notification, User).join(User, User.id == Notification.user_id)
             .where(Notification.emailed_at.is_(None), Notification.email_attempts < MAX_ATTEMPTS,
                    Notification.created_at >= recent_window(), User.email.is_not(None), User.email != "",
                    User.active.is_(True))
             .order_by(Notification.id))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    pending = list(db.session.execute(query))
    sent = failed = 0
    if not pending:
        return 0, 0
    try:
        connection = _connect()
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.error("notifications: cannot reach the mail server: %s", exc)
        for notice, _user in pending:
            notice.email_attempts += 1
        db.session.commit()
        return 0, len(pending)
    try:
        for notice, user in pending:
            try:
                connection.send_message(message_for(notice, user))
            except (OSError, smtplib.SMTPException) as exc:
                current_app.logger.error("notifications: mailing notice %s to %s failed: %s", notice.id,
                                         user.username, exc)
                notice.email_attempts += 1
                failed += 1
            else:
                notice.emailed_at = utcnow()
                sent += 1
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            pass
    db.session.commit()
    return sent, failed


def _connect() -> smtplib.SMTP:
    config = current_app.config
    connection = smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]),
                              timeout=config["MAIL_TIMEOUT"])
    if config.get("MAIL_USE_TLS"):
        connection.starttls()
    if config.get("MAIL_USERNAME"):
        connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    return connection


def _language(user: User) -> str:
    return user.language or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")


def _absolute(notice: Notification) -> str | None:
    """The notice's page for a mail: PUBLIC_BASE_URL (never a request's Host header) plus the path."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return None
    adapter = current_app.url_map.bind("localhost", script_name="/")
    from werkzeug.routing import BuildError
    try:
        if notice.link_endpoint and notice.link_endpoint in current_app.view_functions:
            path = adapter.build(notice.link_endpoint, notice.link_values or {})
        else:
            path = adapter.build("notifications.index", {})
    except BuildError:
        return None
    return base.rstrip("/") + path


def message_for(notice: Notification, user: User) -> EmailMessage:
    """The mail of one notice, in its reader's language."""
    with force_locale(_language(user)):
        rendered = render(notice.kind, notice.params)
        academy = _("Agent Academy")
        lines = [_("Hello %(name)s,", name=user.name), "", rendered.text]
        if rendered.detail:
            lines += ["", f"{rendered.detail_label}:", rendered.detail]
        url = _absolute(notice)
        if url:
            lines += ["", _("Open: %(url)s", url=url)]
        lines += ["", "—", _("You receive this because you have an account at %(academy)s. All your notices are "
                             "on its Notifications page.", academy=academy)]
        subject = f"{academy}: {rendered.text}"
    message = EmailMessage()
    message["Subject"] = subject[:200]
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = formataddr((user.name, user.email))
    message.set_content("\n".join(lines))
    return message
