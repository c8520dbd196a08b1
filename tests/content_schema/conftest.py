"""A writable copy of the valid fixture tree for each test (helpers: tests/support/content_schema.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.content_schema import VALID, ContentTree


@pytest.fixture
def tree(tmp_path: Path) -> ContentTree:
    root = tmp_path / "content"
    shutil.copytree(VALID, root)
    return ContentTree(root)
