"""The audit log as a hash chain, so a doctored row, a removed row or a cut-off tail is detected.

Each entry stores its place in the chain (``seq``), the hash of the entry before it
(``prev_hash``) and its own hash over its content and ``prev_hash`` (``row_hash``). The
chain head (one row in ``certification_audit_chain``) holds the number of entries and the
newest hash: it is updated in the same transaction as each insert, which also serialises
writers (a row lock on PostgreSQL, the write lock on SQLite) so two transactions can never
link to the same predecessor. ``flask cert audit-verify`` recomputes everything.

The hash recipe is frozen: migration 0017 carries a copy of entry_hash to chain the rows that
existed before it; change both or neither (and then re-chain with a migration).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

GENESIS = "0" * 64
CHAIN_ROW_ID = 1


def _moment(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # a driver that hands back text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def entry_hash(prev_hash: str, *, seq: int, created_at, actor_id: int | None, subject_id: int, action: str,
               level: str | None, certificate_id: int | None, reason: str | None, evidence: Any) -> str:
    """sha256 over the previous hash and the entry's content in a canonical JSON form."""
    # The evidence as it reads back from the JSON column (int keys become strings, tuples lists).
    evidence = None if evidence is None else json.loads(json.dumps(evidence, default=str))
    content = {"seq": seq, "created_at": _moment(created_at), "actor_id": actor_id, "subject_id": subject_id,
               "action": action, "level": level, "certificate_id": certificate_id, "reason": reason,
               "evidence": evidence}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{text}".encode("utf-8")).hexdigest()


def _hash_of_row(row, prev_hash: str) -> str:
    return entry_hash(prev_hash, seq=row.seq, created_at=row.created_at, actor_id=row.actor_id,
                      subject_id=row.subject_id, action=row.action, level=row.level,
                      certificate_id=row.certificate_id, reason=row.reason, evidence=row.evidence)


def link(connection: sa.Connection, audit: sa.Table, chain: sa.Table, target) -> None:
    """Give an entry about to be inserted its place in the chain (called from before_insert)."""
    # Taking the head's lock first: UPDATE locks the row (PostgreSQL) or takes the write lock (SQLite)
    # until commit, and the SELECT after it then sees the newest committed head.
    bumped = connection.execute(sa.update(chain).where(chain.c.id == CHAIN_ROW_ID)
                                .values(entries=chain.c.entries + 1)).rowcount
    if bumped:
        seq, prev_hash = connection.execute(sa.select(chain.c.entries, chain.c.last_hash)
                                            .where(chain.c.id == CHAIN_ROW_ID)).one()
    else:  # no head yet (a database emptied by hand): continue from the log itself
        newest = connection.execute(sa.select(audit.c.seq, audit.c.row_hash)
                                    .order_by(audit.c.seq.desc()).limit(1)).first()
        seq, prev_hash = (newest.seq + 1, newest.row_hash) if newest else (1, GENESIS)
        connection.execute(sa.insert(chain).values(id=CHAIN_ROW_ID, entries=seq, last_hash=prev_hash))
    target.seq = seq
    target.prev_hash = prev_hash
    target.row_hash = _hash_of_row(target, prev_hash)
    connection.execute(sa.update(chain).where(chain.c.id == CHAIN_ROW_ID).values(last_hash=target.row_hash))


@dataclass
class Break:
    """The first place the chain does not hold."""
    entry_id: int | None  # the audit row's id (None: the break is at the end of the log)
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry id {self.entry_id} (#{self.seq})" if self.entry_id is not None else "the end of the log"
        return f"audit log broken at {where}: {self.problem}"


@dataclass
class Verdict:
    entries: int
    broken: Break | None


def verify(connection: sa.Connection, audit: sa.Table, chain: sa.Table) -> Verdict:
    """Recompute the chain from the first entry; report the first row that does not fit."""
    expected_seq, prev_hash, count = 1, GENESIS, 0
    rows = connection.execute(sa.select(audit).order_by(audit.c.seq, audit.c.id))
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            problem = (f"expected entry #{expected_seq} but found #{row.seq}: "
                       f"{'entries are missing before it' if row.seq and row.seq > expected_seq else 'out of order'}")
            return Verdict(count, Break(row.id, row.seq, problem))
        if row.prev_hash != prev_hash:
            return Verdict(count, Break(row.id, row.seq, "it does not link to the entry before it "
                                                          "(an entry was removed, replaced or reordered)"))
        if _hash_of_row(row, prev_hash) != row.row_hash:
            return Verdict(count, Break(row.id, row.seq, "its content was changed after it was written"))
        expected_seq, prev_hash = expected_seq + 1, row.row_hash
    head = connection.execute(sa.select(chain.c.entries, chain.c.last_hash)
                              .where(chain.c.id == CHAIN_ROW_ID)).first()
    if head is None:
        if count:
            return Verdict(count, Break(None, None, "the chain head is missing"))
        return Verdict(0, None)
    if head.entries != count or head.last_hash != prev_hash:
        return Verdict(count, Break(None, None, f"the chain head records {head.entries} entries but the log "
                                                f"holds {count}: the newest entries were removed or changed"))
    return Verdict(count, None)
