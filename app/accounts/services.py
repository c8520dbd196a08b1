"""Account operations: creating users, authenticating, importing a cohort."""
from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from ..core.csvfile import csv_bytes
from ..core.errors import UserError
from ..extensions import db
from .models import User, UserImport, UserRole, temporary_password_hash
from ..core.clock import utcnow
from . import throttle
from ..core.access import Role

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


class AccountError(UserError):
    """A user-facing problem with account data; str() is a translated message."""

    code = "account_invalid"
    status = 400


class NotAllowed(AccountError):
    """The acting user may not do this to that account."""

    code = "not_allowed"
    status = 403


# Who manages whom (the README's role table says the same). Administrators manage every account
# and every role. HR manages learners' accounts only: it may create learners, edit, reset the
# password of and deactivate an account whose only role is learner, and it never grants a role
# other than learner. Otherwise HR could reset an administrator's password, read the new one
# and become that administrator. `actor=None` means the command line, whose user already has
# the server.
HR_MANAGED_ROLES = frozenset({Role.LEARNER})


def _is_admin(actor: User | None) -> bool:
    return actor is None or Role.ADMIN in actor.role_set


def may_manage(actor: User | None, target: User) -> bool:
    if _is_admin(actor):
        return True
    return Role.HR in actor.role_set and bool(target.role_set) and target.role_set <= HR_MANAGED_ROLES


def require_may_manage(actor: User | None, target: User) -> None:
    if not may_manage(actor, target):
        raise NotAllowed(_l("Only an administrator may change the account “%(u)s”: HR manages learners' "
                            "accounts only.", u=target.username))


def grantable_roles(actor: User | None) -> frozenset[Role]:
    if _is_admin(actor):
        return frozenset(Role)
    return HR_MANAGED_ROLES if Role.HR in actor.role_set else frozenset()


def require_may_grant(actor: User | None, roles) -> None:
    refused = {Role(r) for r in roles} - grantable_roles(actor)
    if refused:
        raise NotAllowed(_l("Only an administrator may grant the role(s): %(roles)s.",
                            roles=", ".join(sorted(r.value for r in refused))))


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


# No characters people confuse when they copy a password from paper: 0/O/o, 1/l/I/i.
PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
PASSWORD_GROUPS = 3        # xxxxx-xxxxx-xxxxx: 15 random characters, about 87 bits
PASSWORD_GROUP_LENGTH = 5


def generate_password() -> str:
    """A temporary password (the user must change it at first login), easy to read aloud and type."""
    # One read of the system's random source per password (secrets.choice reads it once per
    # character, which dominated a 10,000-row import); bytes above the largest multiple of the
    # alphabet's size are dropped so that every character stays equally likely.
    size, wanted = len(PASSWORD_ALPHABET), PASSWORD_GROUPS * PASSWORD_GROUP_LENGTH
    usable = 256 - 256 % size
    chars: list[str] = []
    while len(chars) < wanted:
        chars.extend(PASSWORD_ALPHABET[b % size] for b in secrets.token_bytes(2 * wanted) if b < usable)
    chars = chars[:wanted]
    return "-".join("".join(chars[i:i + PASSWORD_GROUP_LENGTH]) for i in range(0, wanted, PASSWORD_GROUP_LENGTH))


def create_user(username: str, name: str, roles, *, email: str | None = None, cohort: str | None = None,
                password: str | None = None, must_change_password: bool = True,
                actor: User | None = None) -> tuple[User, str]:
    """Create a user; returns (user, the initial password). Caller commits.

    actor is the person doing it (None: the command line); HR may only create learners.
    """
    require_may_grant(actor, roles)
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


def authenticate(username: str, password: str, address: str | None = None) -> LoginResult:
    """Check credentials from a source address, throttled (accounts.throttle).

    Every refusal reads the same and costs the same whether the username exists, is
    deactivated or the password was right: "locked" answers before any hashing for every
    name, and every other refusal has hashed the password once.
    """
    refused = _l("Wrong username or password, or the account is deactivated.")
    reserved = throttle.reserve_attempt(username, address)
    if reserved is None:
        return LoginResult(None, str(_l("Too many failed attempts. Try again in a few minutes.")))
    user = find_user(username)
    if user is None:
        # Spend the same time hashing as a real check so timing reveals nothing.
        User(password_hash="").set_password(password)
        return LoginResult(None, str(refused))
    # A deactivated account's right password is refused like a wrong one (and counted), so
    # neither the message nor the lockout tells whether it was right.
    if not user.check_password(password) or not user.active:
        db.session.rollback()
        return LoginResult(None, str(refused))
    throttle.attempt_succeeded(reserved)
    user.last_login_at = utcnow()
    db.session.commit()
    return LoginResult(user)


def logout(user: User) -> None:
    """End every session of this user on the server: a copied cookie stops working too."""
    user.session_version += 1
    db.session.commit()


def unlock(user: User) -> None:
    """Forget the failed logins counted against this account, from every address. Caller commits."""
    throttle.unlock(user.username)


def active_locks(user: User):
    return throttle.active_locks(user.username)


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


def _active_admin_count() -> int:
    return db.session.scalar(select(func.count(User.id)).join(UserRole)
                             .where(UserRole.role == Role.ADMIN.value, User.active.is_(True))) or 0


def update_user(actor: User | None, user: User, *, name: str, email: str | None, cohort: str | None,
                roles, active: bool) -> None:
    """Save the user admin form, after checking the actor may manage this account and grant these roles."""
    require_may_manage(actor, user)
    roles = {Role(r) for r in roles}
    require_may_grant(actor, roles)
    if actor is not None and user.id == actor.id and not active:
        raise AccountError(_l("You cannot deactivate your own account."))
    if email and not EMAIL_RE.match(email.strip()):
        raise AccountError(_l("“%(e)s” is not a valid email address", e=email))
    if Role.ADMIN in user.role_set and user.active and (Role.ADMIN not in roles or not active) \
            and _active_admin_count() <= 1:
        # Nobody could manage roles any more; only the command line could repair it.
        raise AccountError(_l("At least one active administrator must remain."))
    user.name, user.email, user.cohort = name.strip(), (email or "").strip() or None, (cohort or "").strip() or None
    user.set_roles(roles)
    set_active(user, active)  # commits


def reset_password(actor: User | None, user: User) -> str:
    """A new temporary password for user (shown once to the actor); ends the user's sessions."""
    require_may_manage(actor, user)
    password = generate_password()
    user.set_password(password)
    user.must_change_password = True
    user.session_version += 1
    unlock(user)  # the admin handing out a new password also ends a lockout
    db.session.commit()
    return password


@dataclass
class NewAccount:
    """An imported account as the result page and the password sheet show it."""
    username: str
    name: str
    cohort: str | None


@dataclass
class ImportReport:
    created: list[tuple[NewAccount, str]] = field(default_factory=list)   # (account, temporary password)
    errors: list[tuple[int, str]] = field(default_factory=list)           # (line number, message)


CSV_COLUMNS = ("username", "name", "email", "cohort", "roles")
# The columns' lengths in the database: PostgreSQL refuses longer values (the whole insert would fail).
FIELD_LIMITS = {"username": 64, "name": 120, "email": 254, "cohort": 64}
_EXISTING_CHUNK = 500  # usernames per "already taken" query (well under every database's parameter limit)


def _taken_usernames(lowered: list[str]) -> set[str]:
    taken: set[str] = set()
    for i in range(0, len(lowered), _EXISTING_CHUNK):
        chunk = lowered[i:i + _EXISTING_CHUNK]
        taken.update(db.session.scalars(select(func.lower(User.username))
                                        .where(func.lower(User.username).in_(chunk))))
    return taken


def _check_row(cells: dict[str, str], actor: User | None) -> set[Role]:
    """Everything about one row that can be known without the database; returns its roles."""
    for column, value in cells.items():
        if "\x00" in value:
            # PostgreSQL cannot store NUL in text; the cell is most likely a binary paste.
            raise AccountError(_l("the %(col)s cell contains a NUL character", col=column))
    for column, limit in FIELD_LIMITS.items():
        if len(cells[column]) > limit:
            raise AccountError(_l("the %(col)s cell is longer than %(n)d characters", col=column, n=limit))
    if not cells["username"]:
        raise AccountError(_l("username is empty"))
    if not USERNAME_RE.match(cells["username"]):
        raise AccountError(_l("username “%(u)s” may only contain letters, digits, “_”, “.” and “-” (2–64)",
                              u=cells["username"]))
    if cells["email"] and not EMAIL_RE.match(cells["email"]):
        raise AccountError(_l("“%(e)s” is not a valid email address", e=cells["email"]))
    roles = parse_roles(cells["roles"])
    require_may_grant(actor, roles)
    return roles


def import_users_csv(data: bytes, actor: User | None = None) -> ImportReport:
    """Import a cohort: every good row is created, in one transaction; bad rows are reported by line.

    Built for thousands of rows: rows are checked in Python, usernames looked up in chunks,
    accounts and roles written with bulk inserts, and the random temporary passwords hashed
    cheaply (models.TEMPORARY_HASH_METHOD). If the database refuses the insert (someone created
    one of these usernames meanwhile), nothing is imported and the report says so.
    """
    report = ImportReport()
    try:
        text = data.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError:
        report.errors.append((1, str(_l("the file is not UTF-8 text"))))
        return report
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        report.errors.append((1, str(_l("the file is not readable CSV (%(error)s); nothing was imported",
                                         error=exc))))
        return report
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        report.errors.append((1, str(_l("missing column(s): %(cols)s (expected: %(all)s)",
                                         cols=", ".join(missing), all=", ".join(CSV_COLUMNS)))))
        return report
    reader.fieldnames = header
    good: list[tuple[int, dict[str, str], set[Role]]] = []
    first_line: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            cells = {k: (v or "").strip() for k, v in row.items() if k}
            if not any(cells.values()):
                continue
            try:
                roles = _check_row(cells, actor)
                key = cells["username"].lower()
                if key in first_line:
                    raise AccountError(_l("username “%(u)s” already appears on line %(line)d",
                                          u=cells["username"], line=first_line[key]))
            except AccountError as exc:
                report.errors.append((line, str(exc)))
                continue
            first_line[key] = line
            good.append((line, cells, roles))
    except csv.Error as exc:
        # A malformed file (e.g. a cell over the csv module's 128 KiB field limit): all or nothing.
        report.errors.append((reader.line_num, str(_l("the file is not readable CSV (%(error)s); nothing was "
                                                      "imported", error=exc))))
        return report

    taken = _taken_usernames([cells["username"].lower() for _, cells, _ in good])
    rows, passwords = [], []
    for line, cells, roles in good:
        if cells["username"].lower() in taken:
            report.errors.append((line, str(_l("username “%(u)s” is already taken", u=cells["username"]))))
            continue
        password = generate_password()
        rows.append(({"username": cells["username"], "name": cells["name"] or cells["username"],
                      "email": cells["email"] or None, "cohort": cells["cohort"] or None,
                      "password_hash": temporary_password_hash(password), "must_change_password": True,
                      "created_at": utcnow()}, roles))
        passwords.append(password)
    report.errors.sort()
    if not rows:
        return report
    try:
        ids = db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True),
                                 [values for values, _ in rows]).all()
        db.session.execute(insert(UserRole), [{"user_id": user_id, "role": role.value}
                                              for user_id, (_, roles) in zip(ids, rows) for role in sorted(roles)])
        cohorts = sorted({values["cohort"] for values, _ in rows if values["cohort"]})
        db.session.add(UserImport(actor_id=getattr(actor, "id", None), created_count=len(rows),
                                  error_count=len(report.errors), cohorts=", ".join(cohorts)[:255]))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        report.errors.append((1, str(_l("Nothing was imported: some of these usernames were created by someone "
                                        "else meanwhile. Import the file again."))))
        return report
    report.created = [(NewAccount(values["username"], values["name"], values["cohort"]), password)
                      for (values, _), password in zip(rows, passwords)]
    return report


def password_sheet(created) -> bytes:
    """The temporary passwords as a CSV to print or hand out (the only copy: they are not stored)."""
    return csv_bytes(["username", "name", "cohort", "temporary_password"],
                     ([account.username, account.name, account.cohort or "", password]
                      for account, password in created))
