"""`flask jobs worker|sweep|status`, `flask backup DEST`, `flask restore SRC`."""
from __future__ import annotations

import json
import logging
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

jobs_cli = AppGroup("jobs", help="Grading on the Redis queue (production mode): worker, sweeper, status.")


def _need_redis() -> None:
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: replies are graded inside the web process and "
                                   "there is no queue")


@jobs_cli.command("worker")
@click.option("--processes", "-n", type=int, default=None,
              show_default="JOBS_PROCESSES or 1", help="RQ worker processes (each grades one reply at a time).")
@click.option("--preload", default=None,
              help='Speech models to load before forking: "installed" (default), "none", or "ko-KR,zh-CN". '
                   "Default: PRELOAD_SPEECH_MODELS when set, else installed.")
@click.option("--worker-class", type=click.Choice(["simple", "fork"]), default="simple", show_default=True,
              help="simple: jobs run in the worker process; fork: RQ forks a work-horse per job.")
@click.option("--sweep-interval", type=float, default=None, help="Seconds between sweeps (JOBS_SWEEP_INTERVAL).")
def worker_command(processes, preload, worker_class, sweep_interval):
    """Run grading workers until SIGTERM: models loaded once, workers forked, lost turns swept."""
    from .worker import Supervisor
    _need_redis()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    if processes is None:
        processes = current_app.config["JOBS_PROCESSES"]
    if preload is None:
        preload = current_app.config["PRELOAD_SPEECH_MODELS"] or "installed"
    supervisor = Supervisor(current_app._get_current_object(), processes=processes, worker_class=worker_class,
                            preload=preload, sweep_interval=sweep_interval)
    sys.exit(supervisor.run())


@jobs_cli.command("sweep")
def sweep_command():
    """Queue again every reply whose grading job was lost (what the worker does every few seconds)."""
    from .sweeper import sweep
    _need_redis()
    click.echo(json.dumps(sweep(use_lock=False).to_dict(), indent=2))


@jobs_cli.command("status")
def status_command():
    """JSON: the queue's job counts and the role-play turns waiting per status."""
    from sqlalchemy import func, select

    from ..extensions import db
    from ..roleplays.models import Turn
    from .queue import queue_counts
    _need_redis()
    waiting = dict(db.session.execute(select(Turn.status, func.count()).where(Turn.status != "graded")
                                      .group_by(Turn.status)).all())
    click.echo(json.dumps({"jobs": queue_counts(), "turns_waiting": waiting}, indent=2))


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=str))
@with_appcontext
def backup_command(dest):
    """Archive the database and the recordings/uploads/audio-cache folders into DEST.

    DEST is a file name ending .tar.gz, or a folder (academy-backup-<UTC time>.tar.gz inside).
    """
    from .backup import BackupError, backup
    try:
        path, manifest = backup(dest)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({"archive": str(path), "bytes": path.stat().st_size, **manifest}, indent=2))


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option("--force", is_flag=True, help="Replace a database and folders that are not empty.")
@with_appcontext
def restore_command(src, force):
    """Restore a `flask backup` archive (refuses a non-empty target unless --force)."""
    from .backup import BackupError, restore
    try:
        manifest = restore(src, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({"restored": src, **manifest}, indent=2))
    click.echo("restored; run `flask db upgrade` if this code is newer than the backup", err=True)
