"""The suite's fixtures come from the plugins in tests/support/ (one module per topic); test modules
import plain helpers from tests.support.* and never from a conftest."""
from __future__ import annotations

pytest_plugins = [
    "tests.support.catalogs",  # first: no test runs against uncompiled translation catalogs
    "tests.support.database",
    "tests.support.accounts",
    "tests.support.content",
    "tests.support.speech",
    "tests.support.certification",
    "tests.support.production",
    "tests.support.parallel",
]
