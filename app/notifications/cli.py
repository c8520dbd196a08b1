import click
from flask.cli import AppGroup

from . import mail, services

notifications_cli = AppGroup("notifications", help="Notices: the time-based sweep and the email outbox.")


@notifications_cli.command("sweep")
@click.option("--days", default=services.EXPIRY_WARNING_DAYS, show_default=True, type=click.IntRange(1, 365),
              help="Warn about certificates expiring within this many days.")
def sweep_command(days: int) -> None:
    """Make the time-based notices (assignments due tomorrow or overdue, certificates expiring or expired)
    and mail what is waiting. Idempotent: run it from cron as often as you like (hourly or daily)."""
    made = services.sweep(expiring_days=days)
    sent, failed = mail.deliver()
    click.echo(f"notices made: {made}; mails sent: {sent}, failed: {failed}")
