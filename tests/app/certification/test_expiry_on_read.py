"""A certificate past its end date is expired for every reader, derived on read: pages, downloads and
`flask cert status` show it so without writing anything; `flask cert expire` (cron) stores it with
its audit entry; the roster's status filter agrees with what the pages show."""
from __future__ import annotations

import csv
import io
import json
import re
from contextlib import contextmanager

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.certification import exports, operations, queries, views
from app.certification.models import ACTIVE, EXPIRED, AuditEntry, Certificate
from app.core.clock import utcnow
from app.extensions import db
from tests.support.web import login_as

from tests.support.certification import days

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@contextmanager
def watched_writes(app):
    """Every INSERT/UPDATE/DELETE sent and every session commit made inside the block."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        if WRITES.match(statement):
            seen.append(" ".join(statement.split())[:120])

    def on_commit(session):
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(Session, "after_commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(Session, "after_commit", on_commit)


def _lapsed_agent(app, evidence, learner) -> tuple[int, str]:
    """An agent certificate issued 400 days ago: its 12 months are over, and nothing has stored that."""
    when = utcnow() - days(400)
    evidence.agent(learner.id, when - days(1))
    with app.app_context():
        [certificate] = operations.reevaluate(learner.id, when)
        db.session.commit()
        assert certificate.status == ACTIVE and certificate.expires_at < utcnow()
        return certificate.id, certificate.code


def _stored(app, certificate_id) -> tuple[str, int]:
    """The stored status and how many "expired" audit entries the certificate has."""
    with app.app_context():
        status = db.session.get(Certificate, certificate_id).status
        entries = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.certificate_id == certificate_id, AuditEntry.action == "expired"))
        return status, entries


def test_the_model_derives_expired_from_the_end_date():
    now = utcnow()
    lapsed = Certificate(status=ACTIVE, expires_at=now - days(1))
    running = Certificate(status=ACTIVE, expires_at=now + days(1))
    revoked = Certificate(status="revoked", expires_at=now - days(1))
    assert lapsed.status_at(now) == EXPIRED and not lapsed.is_valid(now)
    assert running.status_at(now) == ACTIVE and running.is_valid(now)
    assert revoked.status_at(now) == "revoked"  # a decision is not overruled by the calendar


def test_pages_and_downloads_show_expired_without_writing(app, client, make_user, evidence, shipped_rules,
                                                          monkeypatch):
    learner = make_user("li", "learner", name="李明")
    hr = make_user("hr1", "hr")
    certificate_id, code = _lapsed_agent(app, evidence, learner)
    printed = {}
    real_pdf = views.certificate_pdf

    def capture_pdf(**fields):
        printed.update(fields)
        return real_pdf(**fields)
    monkeypatch.setattr(views, "certificate_pdf", capture_pdf)

    login_as(client, learner)
    with watched_writes(app) as writes:
        mine = client.get("/certification")
        pdf = client.get(f"/certification/certificates/{certificate_id}.pdf")
    assert mine.status_code == 200 and pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert writes == []
    table = mine.get_data(as_text=True).split("<tbody>", 1)[1]
    assert '<span class="badge bad">已过期</span>' in table and "badge ok" not in table
    assert printed["status_note"] == "状态 Status: 已过期 expired"

    with watched_writes(app) as writes:
        verify = app.test_client().get(f"/verify/{code}")
    assert verify.status_code == 200 and writes == []
    validity = re.search(r'<dd id="validity">(.*?)</dd>', verify.get_data(as_text=True), re.S).group(1)
    assert "过期" in validity and "badge ok" not in validity

    client.get("/logout")
    login_as(client, hr)
    with watched_writes(app) as writes:
        roster = client.get("/certification/records")
        person = client.get(f"/certification/records/{learner.id}")
        export = client.get("/certification/records.csv")
        machine = client.get("/certification/records.csv?format=machine")
    assert [r.status_code for r in (roster, person, export, machine)] == [200] * 4
    assert writes == []
    row = re.search(r'<tr data-username="li">.*?</tr>', roster.get_data(as_text=True), re.S).group(0)
    assert "已过期" in row
    article = re.search(rf'<article class="certificate" id="certificate-{certificate_id}">.*?</article>',
                        person.get_data(as_text=True), re.S).group(0)
    assert "已过期" in article and "/suspend" not in article and "/revoke" in article
    [line] = list(csv.DictReader(io.StringIO(export.data.decode("utf-8-sig"))))
    assert "已过期" in line.values()
    [record] = list(csv.DictReader(io.StringIO(machine.data.decode("utf-8-sig"))))
    assert record["certificate_status"] == EXPIRED and record["level"] == "trainee"

    assert _stored(app, certificate_id) == (ACTIVE, 0)  # nothing of it was written by reading


def test_cert_status_reads_and_cert_expire_stores_once_with_audit(app, make_user, evidence, shipped_rules):
    learner = make_user("li", "learner", name="李明")
    certificate_id, _code = _lapsed_agent(app, evidence, learner)
    runner = app.test_cli_runner()

    with watched_writes(app) as writes:
        status = json.loads(runner.invoke(args=["cert", "status", "li"]).output)
    assert writes == []
    assert status["current_level"] == "trainee" and status["certificates"][0]["status"] == EXPIRED
    assert _stored(app, certificate_id) == (ACTIVE, 0)

    result = runner.invoke(args=["cert", "expire"])
    assert result.exit_code == 0 and "1 certificate(s) expired" in result.output
    assert _stored(app, certificate_id) == (EXPIRED, 1)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.certificate_id == certificate_id,
                                                           AuditEntry.action == "expired"))
        assert entry.actor_id is None and entry.subject_id == learner.id  # the system, not a person
        assert queries.verify_audit_log().broken is None

    again = runner.invoke(args=["cert", "expire"])  # idempotent: a second run finds nothing to do
    assert again.exit_code == 0 and "0 certificate(s) expired" in again.output
    assert _stored(app, certificate_id) == (EXPIRED, 1)


def test_status_filters_agree_with_the_derived_status(app, client, make_user, evidence, shipped_rules):
    lapsed = make_user("li", "learner", name="李明")
    current = make_user("wang", "learner", name="王伟")
    make_user("zhao", "learner", name="赵敏")  # no certificate at all
    _lapsed_agent(app, evidence, lapsed)
    evidence.agent(current.id, utcnow() - days(1))
    with app.app_context():
        operations.reevaluate(current.id)
        db.session.commit()
        now = utcnow()
        assert [row.user.username for row in queries.roster(status=EXPIRED)] == ["li"]
        assert [row.user.username for row in queries.roster(status=ACTIVE)] == ["wang"]
        # Every row the filter keeps shows a certificate in that status, as the pages derive it.
        for status in (EXPIRED, ACTIVE):
            for row in queries.roster(status=status):
                assert any(c.status_at(now) == status for c in row.certificates)
        rows = queries.roster()
        statuses = {r["username"]: r["certificate_status"] for r in csv.DictReader(io.StringIO(
            exports.roster_csv(rows, machine=True).decode("utf-8-sig")))}
        assert statuses == {"li": EXPIRED, "wang": ACTIVE, "zhao": ""}
        assert [line.levels["agent"] for line in _home_lines()] == [1]  # only wang holds 座席

    login_as(client, make_user("hr1", "hr"))
    expired_page = client.get("/certification/records?status=expired").get_data(as_text=True)
    assert 'data-username="li"' in expired_page and 'data-username="wang"' not in expired_page
    active_page = client.get("/certification/records?status=active").get_data(as_text=True)
    assert 'data-username="wang"' in active_page and 'data-username="li"' not in active_page


def _home_lines():
    from app.certification.home import cohort_lines
    return cohort_lines()


def test_write_paths_still_store_expiry(app, make_user, evidence, shipped_rules):
    """Re-evaluating (after any new evidence) stores what reading only derives, with its audit entry."""
    learner = make_user("li", "learner", name="李明")
    certificate_id, _code = _lapsed_agent(app, evidence, learner)
    with app.app_context():
        operations.reevaluate(learner.id)
        db.session.commit()
    assert _stored(app, certificate_id) == (EXPIRED, 1)
