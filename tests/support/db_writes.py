"""What a block of code writes to the database: statements that change data, flushes with changes and
commits, as SQLAlchemy reports them (engine and session events), seen from the calling thread only.

    with db_writes(app) as writes:
        client.get("/")
    assert not writes, writes.describe()

Only the current thread is watched: the app's background threads (the stream reaper) and other
tests' servers are not the request under test.
"""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session

# A statement that changes data or schema (SELECT, PRAGMA, SAVEPOINT/RELEASE are reads or bookkeeping).
WRITE_VERBS = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|UPSERT|CREATE|DROP|ALTER|TRUNCATE)\b",
                         re.IGNORECASE)


@dataclass
class Writes:
    statements: list[str] = field(default_factory=list)  # the write statements, in order
    flushes: list[str] = field(default_factory=list)     # what each flush with changes held
    commits: list[str] = field(default_factory=list)    # "session" / "connection", one per commit

    def __bool__(self) -> bool:
        return bool(self.statements or self.flushes or self.commits)

    def describe(self) -> str:
        lines = [" ".join(s.split())[:160] for s in self.statements]
        lines += [f"flush: {f}" for f in self.flushes]
        if self.commits:
            lines.append(f"commits: {', '.join(self.commits)}")
        return "; ".join(lines)


def _flushed(session: Session) -> str:
    """The objects a flush wrote ("" when it wrote nothing: an attribute set to the value it had)."""
    dirty = [o for o in session.dirty if session.is_modified(o)]
    parts = []
    for what, objects in (("new", session.new), ("dirty", dirty), ("deleted", session.deleted)):
        if objects:
            parts.append(f"{what} " + ", ".join(sorted({type(o).__name__ for o in objects})))
    return "; ".join(parts)


@contextmanager
def db_writes(app):
    """Record, in a Writes, every write the current thread makes to the app's database in the block."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    thread = threading.get_ident()
    writes = Writes()

    def mine() -> bool:
        return threading.get_ident() == thread

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        if mine() and WRITE_VERBS.match(statement):
            writes.statements.append(statement)

    def on_connection_commit(conn):
        if mine():
            writes.commits.append("connection")

    def on_session_commit(session):
        # Also a commit that had nothing to send: a GET has no business committing at all.
        if mine():
            writes.commits.append("session")

    def on_flush(session, flush_context):
        # after_flush still lists what the flush wrote (new, dirty, deleted).
        if mine():
            flushed = _flushed(session)
            if flushed:
                writes.flushes.append(flushed)

    listeners = [(engine, "before_cursor_execute", on_statement), (engine, "commit", on_connection_commit),
                 (Session, "after_commit", on_session_commit), (Session, "after_flush", on_flush)]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        yield writes
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
