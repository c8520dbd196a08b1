"""Account operations: creating users, authenticating, importing a cohort."""
from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from .models import User, utcnow
from .permissions import Role

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


class AccountError(ValueError):
    """A user-facing problem with account data; str() is a translated message."""


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def parse_roles(text: str) -> set[Role]:
    """Roles as written in a form or CSV cell: "learner;trainer" (also , | or spaces)."""
    names = [n for n in re.split(r"[;,|\s]+", text.strip().lower()) if n]
    roles = set()
    for name in names:
        if name in {"newhire", "new_hire", "trainee"}:
            name = Role.LEARNER.value
        try:
            roles.add(Role(name))
        except ValueError:
            raise AccountError(_l("unknown role “%(role)s” (expected one of: %(roles)s)",
                                  role=name, roles=", ".join(r.value for r in Role))) from None
    if not roles:
        raise AccountError(_l("at least one role is required"))
    return roles


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))


def generate_password() -> str:
    # Readable temporary password: the user must change it at first login anyway.
    return secrets.token_urlsafe(9)


def create_user(username: str, name: str, roles, *, email: str | None = None, cohort: str | None = None,
                password: str | None = None, must_change_password: bool = True) -> tuple[User, str]:
    """Create a user; returns (user, the initial password). Caller commits."""
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise AccountError(_l("username “%(u)s” may only contain letters, digits, “_”, “.” and “-” (2–64)", u=username))
    if find_user(username):
        raise AccountError(_l("username “%(u)s” is already taken", u=username))
    if email and not EMAIL_RE.match(email.strip()):
        raise AccountError(_l("“%(e)s” is not a valid email address", e=email))
    password = password or generate_password()
    validate_password(password)
    user = User(username=username, name=name.strip() or username, email=(email or "").strip() or None,
                cohort=(cohort or "").strip() or None, must_change_password=must_change_password)
    user.set_password(password)
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    return user, password


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None


def authenticate(username: str, password: str) -> LoginResult:
    """Check credentials with lockout after repeated failures.

    The lockout is per account: after LOGIN_MAX_FAILURES wrong passwords the account
    refuses even the right password until LOGIN_LOCKOUT has passed, which stops
    password guessing without revealing whether the username exists.
    """
    generic = _l("Wrong username or password.")
    user = find_user(username)
    if user is None:
        # Spend the same time hashing as a real check so timing reveals nothing.
        User(password_hash="").set_password(password)
        return LoginResult(None, str(generic))
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        return LoginResult(None, str(_l("Too many failed attempts. Try again in a few minutes.")))
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + current_app.config["LOGIN_LOCKOUT"]
            user.failed_logins = 0
        db.session.commit()
        return LoginResult(None, str(generic))
    if not user.active:
        return LoginResult(None, str(_l("This account has been deactivated.")))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.commit()
    return LoginResult(user)


def change_password(user: User, new_password: str) -> None:
    validate_password(new_password)
    if user.check_password(new_password):
        raise AccountError(_l("The new password must differ from the old one."))
    user.set_password(new_password)
    user.must_change_password = False
    user.session_version += 1  # other sessions of this user end
    db.session.commit()


def set_active(user: User, active: bool) -> None:
    user.active = active
    if not active:
        user.session_version += 1  # existing sessions stop working at once
    db.session.commit()


@dataclass
class ImportReport:
    created: list[tuple[User, str]] = field(default_factory=list)   # (user, temporary password)
    errors: list[tuple[int, str]] = field(default_factory=list)     # (line number, message)


CSV_COLUMNS = ("username", "name", "email", "cohort", "roles")


def import_users_csv(data: bytes) -> ImportReport:
    """Import a cohort. Good rows are kept even when others are bad; bad ones are reported by line."""
    report = ImportReport()
    try:
        text = data.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError:
        report.errors.append((1, str(_l("the file is not UTF-8 text"))))
        return report
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        report.errors.append((1, str(_l("missing column(s): %(cols)s (expected: %(all)s)",
                                         cols=", ".join(missing), all=", ".join(CSV_COLUMNS)))))
        return report
    reader.fieldnames = header
    for row in reader:
        line = reader.line_num
        cells = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(cells.values()):
            continue
        try:
            if not cells["username"]:
                raise AccountError(_l("username is empty"))
            roles = parse_roles(cells["roles"])
            with db.session.begin_nested():  # a bad row rolls back alone
                user, password = create_user(cells["username"], cells["name"], roles, email=cells["email"] or None,
                                             cohort=cells["cohort"] or None)
            report.created.append((user, password))
        except AccountError as exc:
            report.errors.append((line, str(exc)))
    db.session.commit()
    return report
