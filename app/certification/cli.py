import json

import click
from flask.cli import AppGroup

from ..accounts.models import User
from ..core.access import Role
from ..accounts.services import find_user
from ..extensions import db
from ..core.clock import local_date
from . import operations, queries

cert_cli = AppGroup("cert", help="Certification: re-evaluate, expire, reminders, a person's status.")


def _user(username: str) -> User:
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    return user


@cert_cli.command("reevaluate")
@click.argument("username", required=False)
def reevaluate_command(username: str | None):
    """Re-evaluate USERNAME's evidence (everyone's without USERNAME); issues what is now met."""
    users = [_user(username)] if username else queries.learners()
    changed = 0
    for user in users:
        for certificate in operations.reevaluate(user.id):
            changed += 1
            click.echo(f"{user.username}: {certificate.level} {certificate.status}")
    db.session.commit()
    click.echo(f"{len(users)} evaluated, {changed} certificate(s) issued or held for approval")


@cert_cli.command("expire")
def expire_command():
    """Store "expired" (with an audit entry) on certificates past their end date; run it daily (cron).

    Every page already shows them as expired; this makes it part of the record. Running it again
    changes nothing."""
    expired = operations.expire_due()
    db.session.commit()
    for certificate in expired:
        click.echo(f"{certificate.holder.username}: {certificate.level} expired "
                   f"({local_date(certificate.expires_at)})")
    click.echo(f"{len(expired)} certificate(s) expired")


@cert_cli.command("expiring")
@click.option("--days", default=queries.EXPIRING_SOON_DAYS, show_default=True, type=click.IntRange(min=0))
def expiring_command(days: int):
    """Print, as JSON, the certificates that expire within DAYS days."""
    items = [{"certificate_id": c.id, "username": c.holder.username, "name": c.holder.name,
              "cohort": c.holder.cohort, "level": c.level, "expires_at": c.expires_at.isoformat(),
              "requirement_version": c.requirement_version}
             for c in queries.expiring_certificates(days)]
    click.echo(json.dumps(items, ensure_ascii=False, indent=2))


@cert_cli.command("status")
@click.argument("username")
def status_command(username: str):
    """Print USERNAME's level, the next level and each requirement, as JSON."""
    user = _user(username)
    if Role.LEARNER not in user.role_set:
        raise click.ClickException(f"{username} is not a learner")
    report = queries.status_report(user)
    click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))


@cert_cli.command("audit-verify")
def audit_verify_command():
    """Check the audit log's hash chain; exit status 1 and the first broken entry when it does not hold."""
    verdict = queries.verify_audit_log()
    if verdict.broken is not None:
        raise click.ClickException(str(verdict.broken))
    click.echo(f"audit log intact: {verdict.entries} entries, hash chain verified")
