"""The authoring tests' trainer, logged in (helpers: tests/support/authoring.py)."""
from __future__ import annotations

import pytest

from tests.support.authoring import Author


@pytest.fixture
def trainer(make_user):
    return make_user("coach", "trainer")


@pytest.fixture
def author(app, client, trainer):
    return Author(client, trainer)
