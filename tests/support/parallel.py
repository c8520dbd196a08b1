"""Running the suite on several processes (pytest-xdist, `scripts/test.sh` runs `-n 2 --dist loadgroup`).

Each worker has its own app and database (tests/support/database.py). The browser and production-mode
tests drive real processes against real-time clocks (Chromium's fake microphone, gunicorn and RQ workers
killed and restarted); they run one after another on one worker, so two of them never compete for the
machine, while the other worker runs the rest.
"""
from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
ONE_AT_A_TIME = ("browser", "production")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            package = item.path.relative_to(TESTS).parts[0]
        except ValueError:
            continue
        if package in ONE_AT_A_TIME:
            item.add_marker(pytest.mark.xdist_group("real-time"))
