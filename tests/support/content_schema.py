"""A writable copy of the content validator's fixture trees, with helpers to break it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from content_schema import ContentBundle, ContentValidationError, load_content

FIXTURES = Path(__file__).resolve().parents[1] / "content_schema" / "fixtures"
VALID = FIXTURES / "valid"
BROKEN = FIXTURES / "broken"


class ContentTree:
    def __init__(self, root: Path) -> None:
        self.root = root

    def overlay(self, case: str) -> None:
        """Copy the files of fixtures/broken/<case>/ over the tree."""
        shutil.copytree(BROKEN / case, self.root, dirs_exist_ok=True)

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        text = self.read(rel)
        assert text.count(old) == 1, f"{old!r} must occur exactly once in {rel}"
        self.write(rel, text.replace(old, new))

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink()

    def load(self) -> ContentBundle:
        return load_content(self.root)

    def errors(self) -> list[str]:
        with pytest.raises(ContentValidationError) as caught:
            load_content(self.root)
        return [str(error) for error in caught.value.errors]
