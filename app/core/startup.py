"""Work a server does once before it serves: `flask serve`, and gunicorn's master before it forks.

Domains register tasks here (core never imports them); each runs in turn, and a failing task is
logged, never a reason not to start.
"""
from __future__ import annotations

from collections.abc import Callable

StartupTask = Callable[[object], object]


def register_startup_task(app, name: str, task: StartupTask) -> None:
    app.extensions.setdefault("startup_tasks", []).append((name, task))


def run_startup_tasks(app) -> dict[str, object]:
    """Run every registered task with the app; {name: its result, or the error's text}."""
    results: dict[str, object] = {}
    for name, task in app.extensions.get("startup_tasks", []):
        try:
            results[name] = task(app)
        except Exception as exc:  # noqa: BLE001 - a start-up chore must not keep the server down
            app.logger.exception("start-up task %s failed", name)
            results[name] = f"{type(exc).__name__}: {exc}"
    return results
