"""Stop a test run at once when the translation catalogs are not compiled (a pytest plugin).

The .mo files are built from the .po files by scripts/i18n.py and are not committed. Without them
(a fresh clone) or with old ones (a catalog edited since), the app shows English msgids where the
tests expect Chinese, and hundreds of tests fail one by one for a reason none of them names.
"""
from __future__ import annotations

from pathlib import Path

import pytest

COMPILE_HINT = "translation catalogs are not compiled: run .venv/bin/python scripts/i18n.py compile"
ROOT = Path(__file__).resolve().parents[2]


def uncompiled_catalogs(translations: Path) -> list[Path]:
    """The .po files under ``translations`` whose .mo is missing or older than the .po."""
    stale = []
    for po in sorted(translations.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime_ns < po.stat().st_mtime_ns:
            stale.append(po)
    return stale


def pytest_sessionstart(session: pytest.Session) -> None:
    stale = uncompiled_catalogs(ROOT / "app" / "translations")
    if stale:
        names = ", ".join(str(po.relative_to(ROOT)) for po in stale)
        pytest.exit(f"{COMPILE_HINT} ({names})", returncode=pytest.ExitCode.USAGE_ERROR)
