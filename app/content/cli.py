import sys

import click
from flask.cli import AppGroup

from content_schema import ContentValidationError

from . import services

content_cli = AppGroup("content", help="Validate and load courses/, exams/ and roleplays/.")


@content_cli.command("sync")
@click.option("--check", is_flag=True, help="Only validate; change nothing.")
@click.option("--root", type=click.Path(file_okay=False, exists=True), default=None,
              help="Content root (default: CONTENT_ROOT, the repository).")
def sync_command(check: bool, root: str | None):
    """Validate all content and load it into the database (all or nothing)."""
    try:
        if check:
            bundle = services.load_bundle(root)
            click.echo(f"{bundle.summary()}: OK")
            return
        report = services.sync_content(root)
    except ContentValidationError as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo(f"{len(exc.errors)} error(s); nothing was loaded.", err=True)
        sys.exit(1)
    for line in report.lines:
        click.echo(line)
    click.echo(f"{report.summary}: synced")
