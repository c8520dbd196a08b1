"""YAML loading that remembers where every value came from.

PyYAML's ``safe_load`` throws line numbers away and silently keeps the last of two
duplicate keys. We compose the node tree ourselves (SafeLoader, so no arbitrary
objects), build plain Python data and record, for every data path such as
``("nodes", "opening", "rubric", 2, "points")``, the 1-based line it starts on.

Aliases (``&x`` / ``*x``) are allowed (shipped scenarios share rubric items with them), but
each alias is a full copy in the built data, so nine aliases of nine aliases... turn a few
hundred bytes into billions of values. The text, its nesting and the number of values it
expands to are therefore capped; a document over a cap is refused with a ``YamlLimit``
before the expansion costs more than the cap allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .messages import message as _message

Path = tuple[str | int, ...]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# Caps for every YAML the app reads (shipped files, trainers' imports). The largest shipped
# file has about 58,000 characters, 1,700 values and nesting 7; the caps leave ample room.
MAX_YAML_CHARS = 1_000_000
MAX_YAML_VALUES = 50_000
MAX_YAML_DEPTH = 50


class YamlProblem(Exception):
    """A YAML-level problem (syntax, duplicate key...) at a 1-based line."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = str(message)
        self.message_text = message  # a messages.Message when it has a code


def _problem(line: int | None, code: str, **params: Any) -> YamlProblem:
    return YamlProblem(line, _message(code, line=line, **params))


class YamlLimit(YamlProblem):
    """The document is over one of the caps: ``kind`` is "chars", "values" or "depth"."""

    def __init__(self, line: int | None, kind: str, maximum: int) -> None:
        codes = {"chars": "yaml.too_long", "values": "yaml.too_many_values", "depth": "yaml.too_deep"}
        super().__init__(line, _message(codes[kind], maximum=maximum))
        self.kind = kind
        self.maximum = maximum


class YamlProblems(Exception):
    """Every YAML-level problem of one document; its data is not trustworthy."""

    def __init__(self, problems: list[YamlProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass
class YamlDocument:
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_for(self, path: Path) -> int | None:
        """Line of ``path``, or of its nearest ancestor that exists in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


class _CappedLoader(yaml.SafeLoader):
    """SafeLoader whose composer stops at the value and depth caps.

    PyYAML composes recursively (deep nesting would end in RecursionError) and reads the
    stream lazily, so stopping here also stops scanning the rest of an oversized document.
    """

    def __init__(self, text: str, max_values: int, max_depth: int, line_offset: int) -> None:
        super().__init__(text)
        self._max_values = max_values
        self._max_depth = max_depth
        self._line_offset = line_offset
        self._composed = 0
        self._depth = 0

    def compose_node(self, parent, index):
        self._composed += 1
        self._depth += 1
        try:
            if self._composed > self._max_values or self._depth > self._max_depth:
                line = self.peek_event().start_mark.line + 1 + self._line_offset
                if self._depth > self._max_depth:
                    raise YamlLimit(line, "depth", self._max_depth)
                raise YamlLimit(line, "values", self._max_values)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str, *, line_offset: int = 0, max_chars: int = MAX_YAML_CHARS,
              max_values: int = MAX_YAML_VALUES, max_depth: int = MAX_YAML_DEPTH) -> YamlDocument:
    """Parse one YAML document; ``line_offset`` shifts lines (front matter in Markdown).

    Raises ``YamlProblems`` for syntax errors, duplicate keys, unsupported tags,
    merge keys, recursive aliases and documents over the caps (``YamlLimit``: longer than
    ``max_chars``, nested deeper than ``max_depth``, or expanding to more than ``max_values``
    values once aliases are copied). Duplicate keys are all collected (an author
    fixing one should see the others); the first structural problem stops the build.
    """
    if len(text) > max_chars:
        raise YamlProblems([YamlLimit(None, "chars", max_chars)])
    loader = _CappedLoader(text, max_values, max_depth, line_offset)
    try:
        try:
            root = loader.get_single_node()
        except YamlLimit as limit:
            raise YamlProblems([limit]) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 + line_offset if mark is not None else None
            detail = exc.problem or "invalid YAML"
            if exc.context:
                detail = f"{exc.context}, {detail}"
            column = mark.column + 1 if mark is not None else None
            problem = _problem(line, "yaml.syntax", detail=detail, column=column)
            raise YamlProblems([problem]) from exc
        except yaml.YAMLError as exc:  # e.g. a non-printable character (no line known)
            raise YamlProblems([_problem(None, "yaml.error", detail=str(exc))]) from exc
        document = YamlDocument(data=None)
        if root is None:
            return document
        builder = _Builder(loader, document.lines, line_offset, max_values, max_depth)
        try:
            document.data = builder.build(root, ())
        except YamlProblem as problem:
            builder.problems.append(problem)
        if builder.problems:
            raise YamlProblems(sorted(builder.problems, key=lambda p: p.line or 0))
        return document
    finally:
        loader.dispose()


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, lines: dict[Path, int], offset: int, max_values: int,
                 max_depth: int) -> None:
        self._loader = loader
        self._lines = lines
        self._offset = offset
        # The composer's caps count the text's nodes; aliases are copied here, so count again.
        self._max_values = max_values
        self._values_built = 0
        self._max_depth = max_depth
        self._stack: set[int] = set()  # node ids being built, to catch recursive aliases
        self.problems: list[YamlProblem] = []

    def _line(self, node: Node) -> int:
        return node.start_mark.line + 1 + self._offset

    def build(self, node: Node, path: Path) -> Any:
        self._values_built += 1
        if self._values_built > self._max_values:
            raise YamlLimit(self._line(node), "values", self._max_values)
        if len(path) > self._max_depth:
            raise YamlLimit(self._line(node), "depth", self._max_depth)
        self._lines.setdefault(path, self._line(node))
        if id(node) in self._stack:
            raise _problem(self._line(node), "yaml.recursive_alias")
        self._stack.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ_TAG:
                    raise _problem(self._line(node), "yaml.tag_list", tag=node.tag)
                return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
            return self._scalar(node)
        finally:
            self._stack.discard(id(node))

    def _scalar(self, node: ScalarNode) -> Any:
        try:
            return self._loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise _problem(self._line(node), "yaml.bad_value", detail=exc.problem) from exc

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        if node.tag != _MAP_TAG:
            raise _problem(self._line(node), "yaml.tag_mapping", tag=node.tag)
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = self._line(key_node)
            if key_node.tag == _MERGE_TAG:
                raise _problem(line, "yaml.merge_key")
            if not isinstance(key_node, ScalarNode):
                raise _problem(line, "yaml.complex_key")
            key = self._scalar(key_node)
            if key in first_line:
                self.problems.append(_problem(line, "yaml.duplicate_key", key=key, first_line=first_line[key]))
                continue
            first_line[key] = line
            self._lines[path + (key,)] = line
            result[key] = self.build(value_node, path + (key,))
        return result
