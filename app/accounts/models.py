from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..core.access import Role
from ..core.clock import utcnow


# Bulk-imported temporary passwords are long and random (see accounts.services.generate_password,
# about 87 bits), so a cheap hash still resists offline guessing, and it lets an import of
# thousands of rows finish in seconds; the user replaces it at first login with a full-cost hash.
TEMPORARY_HASH_METHOD = "pbkdf2:sha256:200"


def temporary_password_hash(password: str) -> str:
    """Werkzeug's own pbkdf2 format (check_password_hash reads it), with one random read for the
    salt: werkzeug's gen_salt reads the random source once per character, which cost as much as
    the hash itself."""
    _, digest, iterations = TEMPORARY_HASH_METHOD.split(":")
    salt = secrets.token_urlsafe(12)
    value = hashlib.pbkdf2_hmac(digest, password.encode(), salt.encode(), int(iterations)).hex()
    return f"{TEMPORARY_HASH_METHOD}${salt}${value}"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    cohort: Mapped[str | None] = mapped_column(String(64), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str | None] = mapped_column(String(8))
    # Bumped to invalidate every session of this user (deactivation, password change).
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # Flask-Login: the session stores "id:version", so bumping the version logs out everywhere.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    def set_roles(self, roles) -> None:
        wanted = {Role(r) for r in roles}
        self.role_rows = [r for r in self.role_rows if Role(r.role) in wanted]
        have = {Role(r.role) for r in self.role_rows}
        for role in sorted(wanted - have):
            self.role_rows.append(UserRole(role=role.value))

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        matches = check_password_hash(self.password_hash, password)
        if self.password_hash.startswith(TEMPORARY_HASH_METHOD + "$"):
            # The cheap hash of a bulk-imported temporary password would make this login answer
            # faster than any other and tell which accounts exist and still wait for a first login.
            generate_password_hash(password)
        return matches

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class LoginThrottle(db.Model):
    """Failed logins counted for one bucket: a username from one address, a username from
    anywhere (address ""), or one address for any username (username ""). Usernames are kept
    as typed (lower-cased), existing or not, so a lockout looks the same for unknown names."""
    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("username", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    user: Mapped[User] = relationship(back_populates="role_rows")


class UserImport(db.Model):
    """One cohort import that created accounts: who ran it, when, and how many rows were created or refused."""
    __tablename__ = "user_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    created_count: Mapped[int]
    error_count: Mapped[int]
    cohorts: Mapped[str] = mapped_column(String(255), default="")  # the new accounts' cohorts, comma-separated

    actor: Mapped[User | None] = relationship()
