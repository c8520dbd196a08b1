"""`flask serve`: the one-machine server that scripts/run.sh starts (owned by the speech domain,
whose models it loads first; core stays below every domain).

Unlike `flask run` it loads the installed speech models before it accepts requests, so the
first trainee's first voice reply is not the one that waits ~2.5 s per model for the load
(production does the same in gunicorn's master, see gunicorn.conf.py).
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--preload", default="installed", show_default=True,
              help='Speech models to load first: "installed", "none", or "ko-KR,zh-CN".')
@with_appcontext
def serve_command(host: str, port: int, preload: str):
    """Load the speech models, then serve the app (threaded, no reloader)."""
    from .preload import preload_speech_models
    app = current_app._get_current_object()
    loaded = preload_speech_models(app, preload)
    click.echo("speech models loaded: " + (", ".join(f"{lang} ({secs} s)" for lang, secs in loaded.items())
                                           or "none (voice replies fall back to typing)"))
    from ..core.startup import run_startup_tasks
    run_startup_tasks(app)  # e.g. grade the replies a crash interrupted, before anyone waits on them
    # Not app.run(): Flask ignores it inside a `flask` command.
    run_simple(host, port, app, threaded=True, use_reloader=False)
