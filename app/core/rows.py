"""Insert a row unless another request already has: the one race-safe way to make a row keyed by a
unique constraint (a learner's progress on a lesson, a login-throttle bucket).

A savepoint + IntegrityError does not work on SQLite here: with nothing but SELECTs before it, the
driver has no transaction open, so the SAVEPOINT starts one and its RELEASE commits the insert
before the request decides to. INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite alike) never
fails and stays in the request's transaction.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db


def insert_if_missing(model: type, values: Mapping[str, Any], unique: Sequence[str]) -> None:
    """INSERT `values` into `model`'s table unless a row with the same `unique` columns exists."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=list(unique)))
