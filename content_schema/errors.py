"""Error types shared by every part of the content validator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .messages import code_of


@dataclass(frozen=True)
class ContentError:
    """One problem in one authored file.

    ``file`` is relative to the content root (always with ``/`` separators) so the
    message reads the same on every machine; ``line`` is 1-based, or None when the
    problem is about the file as a whole (e.g. a missing file). ``path`` is the data path
    the error is about, such as ``("nodes", "opening", "rubric", 2, "points")``, when known
    (an editor uses it to show the error next to its field); it takes no part in equality.

    ``code`` and ``params`` name the message (``content_schema.messages.TEMPLATES``) so that an
    application can say it in its own language; ``where`` is the field path the English text
    starts with (e.g. ``nodes.opening.next``), "" when none. ``message`` is the English text.
    Messages without a code (None) are English only.
    """

    file: str
    line: int | None
    message: str
    path: tuple[str | int, ...] | None = field(default=None, compare=False)
    code: str | None = field(default=None, compare=False)
    params: dict[str, Any] = field(default_factory=dict, compare=False)
    where: str = field(default="", compare=False)

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

    def add(self, file: str, line: int | None, message: str, path: tuple[str | int, ...] | None = None,
            *, where: str = "", text: str | None = None) -> None:
        """Record ``message`` (a ``messages.Message`` or plain English); ``text`` overrides the
        English shown (e.g. with ``where`` in front) while the code stays the message's."""
        code, params = code_of(message)
        self.errors.append(ContentError(file, line, text if text is not None else str(message), path,
                                        code, params, where))

    def sorted(self) -> list[ContentError]:
        # Stable order by file then line; file-level errors (no line) first.
        return sorted(self.errors, key=lambda e: (e.file, e.line or 0))
