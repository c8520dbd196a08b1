import click
from flask.cli import AppGroup

from . import services

exams_cli = AppGroup("exams", help="Exam attempts.")


@exams_cli.command("close-expired")
def close_expired_command():
    """Close and grade every attempt whose time limit has passed (run it from cron)."""
    closed = services.close_expired()
    click.echo(f"closed {closed} expired attempt(s)")
