import click
from flask import current_app
from flask.cli import AppGroup

from . import services

demo_cli = AppGroup("demo", help="Demo accounts and sample progress (demo mode only).")


@demo_cli.command("load")
def load_command():
    """Create the demo accounts (idempotent: a second run changes nothing)."""
    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException("demo data is only loaded with DEMO_MODE=1 (it creates known passwords)")
    for line in services.load_demo():
        click.echo(line)
