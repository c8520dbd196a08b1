"""Login throttling, counted and checked atomically in the database.

Every login attempt first *reserves* a failure in each of its buckets with one guarded
UPDATE … RETURNING (the row lock on PostgreSQL, the single writer on SQLite), and only then
is the password hashed; a right password gives the reservation back. So however many guesses
arrive at once, no more than the limit are ever checked against the password.

Three buckets, so that locking out is no weapon against someone else:
- the username from this address (LOGIN_MAX_FAILURES): the usual lockout, but only for the
  address that made the failures; the owner logging in from elsewhere is not locked out;
- this address for any username (LOGIN_ADDRESS_MAX_FAILURES): one address spraying
  passwords over many accounts is refused;
- the username from anywhere (LOGIN_ACCOUNT_MAX_FAILURES): guessing spread over many
  addresses still locks the account; an admin can unlock it.

Buckets are keyed by the username as typed, existing or not, so a lockout reads and takes
the same time for a name that does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import case, delete, or_, select, update

from ..extensions import db
from .models import LoginThrottle
from ..core.clock import utcnow
from ..core.rows import insert_if_missing

ANY = ""  # the bucket counts every username (or every address)
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class Bucket:
    username: str
    address: str
    limit: int


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()[:64]


def buckets_for(username: str, address: str | None) -> list[Bucket]:
    config = current_app.config
    username = normalize_username(username)
    address = (address or UNKNOWN_ADDRESS)[:64]
    wanted = [Bucket(ANY, address, config["LOGIN_ADDRESS_MAX_FAILURES"]),
              Bucket(username, address, config["LOGIN_MAX_FAILURES"]),
              Bucket(username, ANY, config["LOGIN_ACCOUNT_MAX_FAILURES"])]
    return [bucket for bucket in wanted if bucket.limit > 0]  # 0 switches a bucket off


def _insert_missing(bucket: Bucket, now: datetime) -> None:
    insert_if_missing(LoginThrottle, {"username": bucket.username, "address": bucket.address, "failures": 0,
                                      "last_failure_at": now}, ("username", "address"))


def _reserve(bucket: Bucket, now: datetime) -> bool:
    """Count one failure in advance; False when the bucket is locked (nothing counted)."""
    table = LoginThrottle
    lockout = current_app.config["LOGIN_LOCKOUT"]
    _insert_missing(bucket, now)
    # Past failures are forgotten after a lock has run out or a quiet spell as long as the lockout.
    restart = or_(table.locked_until.is_not(None), table.last_failure_at < now - lockout)
    failures = case((restart, 1), else_=table.failures + 1)
    stmt = (update(table)
            .where(table.username == bucket.username, table.address == bucket.address,
                   or_(table.locked_until.is_(None), table.locked_until <= now))
            .values(failures=failures, last_failure_at=now,
                    # Locked as soon as the limit is reserved, not when the hash says so: a crash
                    # in between leaves a lock that runs out, never a count stuck at the limit.
                    locked_until=case((failures >= bucket.limit, now + lockout), else_=None))
            .returning(table.id)
            .execution_options(synchronize_session=False))
    return db.session.execute(stmt).first() is not None


def _release(bucket: Bucket) -> None:
    """Give back one reserved failure (the password was right)."""
    table = LoginThrottle
    remaining = case((table.failures > 0, table.failures - 1), else_=0)
    db.session.execute(update(table)
                       .where(table.username == bucket.username, table.address == bucket.address)
                       .values(failures=remaining,
                               locked_until=case((remaining < bucket.limit, None), else_=table.locked_until))
                       .execution_options(synchronize_session=False))


def reserve_attempt(username: str, address: str | None) -> list[Bucket] | None:
    """Reserve a failure in every bucket of this attempt and commit; None when any is locked."""
    now = utcnow()
    reserved: list[Bucket] = []
    for bucket in buckets_for(username, address):
        if not _reserve(bucket, now):
            for earlier in reserved:  # a refused attempt costs nothing in the other buckets
                _release(earlier)
            db.session.commit()
            return None
        reserved.append(bucket)
    db.session.commit()  # before the slow hash, so other attempts see the count at once
    return reserved


def attempt_succeeded(reserved: list[Bucket]) -> None:
    """The password was right: the username's counts start again, the address gets its one back."""
    for bucket in reserved:
        if bucket.username == ANY:
            _release(bucket)
        else:
            db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == bucket.username,
                                                           LoginThrottle.address == bucket.address)
                               .execution_options(synchronize_session=False))
    _purge_stale()


def _purge_stale() -> None:
    # Rows of names and addresses that stopped failing; keeps the table as small as the attacks.
    now = utcnow()
    db.session.execute(delete(LoginThrottle)
                       .where(LoginThrottle.last_failure_at < now - current_app.config["LOGIN_LOCKOUT"],
                              or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now))
                       .execution_options(synchronize_session=False))


def unlock(username: str) -> int:
    """Forget every failure counted for this username (all addresses); returns how many buckets. Caller commits."""
    result = db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == normalize_username(username))
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0


def active_locks(username: str) -> list[LoginThrottle]:
    """The locks on this username now in force: address "" means from every address."""
    now = utcnow()
    return list(db.session.scalars(select(LoginThrottle)
                                   .where(LoginThrottle.username == normalize_username(username),
                                          LoginThrottle.locked_until > now)
                                   .order_by(LoginThrottle.address)))
