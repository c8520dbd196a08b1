"""Error types shared by every part of the content validator."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ContentError:
    """One problem in one authored file.

    ``file`` is relative to the content root (always with ``/`` separators) so the
    message reads the same on every machine; ``line`` is 1-based, or None when the
    problem is about the file as a whole (e.g. a missing file). ``path`` is the data path
    the error is about, such as ``("nodes", "opening", "rubric", 2, "points")``, when known
    (an editor uses it to show the error next to its field); it takes no part in equality.
    """

    file: str
    line: int | None
    message: str
    path: tuple[str | int, ...] | None = field(default=None, compare=False)

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


class ContentValidationError(Exception):
    """Raised by ``load_content`` with every error found, not just the first."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        lines = "\n".join(str(error) for error in errors)
        super().__init__(f"{len(errors)} content error(s):\n{lines}")


class ErrorCollector:
    """Accumulates errors so that one run reports everything that is wrong."""

    def __init__(self) -> None:
        self.errors: list[ContentError] = []

    def add(self, file: str, line: int | None, message: str, path: tuple[str | int, ...] | None = None) -> None:
        self.errors.append(ContentError(file, line, message, path))

    def sorted(self) -> list[ContentError]:
        # Stable order by file then line; file-level errors (no line) first.
        return sorted(self.errors, key=lambda e: (e.file, e.line or 0))
