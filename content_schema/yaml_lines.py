"""YAML loading that remembers where every value came from.

PyYAML's ``safe_load`` throws line numbers away and silently keeps the last of two
duplicate keys. We compose the node tree ourselves (SafeLoader, so no arbitrary
objects), build plain Python data and record, for every data path such as
``("nodes", "opening", "rubric", 2, "points")``, the 1-based line it starts on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlProblem(Exception):
    """A YAML-level problem (syntax, duplicate key...) at a 1-based line."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


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


def load_yaml(text: str, *, line_offset: int = 0) -> YamlDocument:
    """Parse one YAML document; ``line_offset`` shifts lines (front matter in Markdown).

    Raises ``YamlProblems`` for syntax errors, duplicate keys, unsupported tags,
    merge keys and recursive aliases. Duplicate keys are all collected (an author
    fixing one should see the others); the first structural problem stops the build.
    """
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 + line_offset if mark is not None else None
            detail = exc.problem or "invalid YAML"
            if exc.context:
                detail = f"{exc.context}, {detail}"
            problem = YamlProblem(line, f"YAML syntax error: {detail} (expected valid YAML)")
            raise YamlProblems([problem]) from exc
        except yaml.YAMLError as exc:  # e.g. a non-printable character (no line known)
            raise YamlProblems([YamlProblem(None, f"YAML error: {exc} (expected valid YAML)")]) from exc
        document = YamlDocument(data=None)
        if root is None:
            return document
        builder = _Builder(loader, document.lines, line_offset)
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
    def __init__(self, loader: yaml.SafeLoader, lines: dict[Path, int], offset: int) -> None:
        self._loader = loader
        self._lines = lines
        self._offset = offset
        self._stack: set[int] = set()  # node ids being built, to catch recursive aliases
        self.problems: list[YamlProblem] = []

    def _line(self, node: Node) -> int:
        return node.start_mark.line + 1 + self._offset

    def build(self, node: Node, path: Path) -> Any:
        self._lines.setdefault(path, self._line(node))
        if id(node) in self._stack:
            raise YamlProblem(self._line(node), "recursive YAML alias (expected a finite tree)")
        self._stack.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ_TAG:
                    raise YamlProblem(self._line(node), f"unsupported YAML tag {node.tag} (expected a plain list)")
                return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
            return self._scalar(node)
        finally:
            self._stack.discard(id(node))

    def _scalar(self, node: ScalarNode) -> Any:
        try:
            return self._loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise YamlProblem(self._line(node), f"{exc.problem} (expected a plain YAML value)") from exc

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        if node.tag != _MAP_TAG:
            raise YamlProblem(self._line(node), f"unsupported YAML tag {node.tag} (expected a plain mapping)")
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = self._line(key_node)
            if key_node.tag == _MERGE_TAG:
                raise YamlProblem(line, "YAML merge keys (<<) are not supported (expected the keys written out)")
            if not isinstance(key_node, ScalarNode):
                raise YamlProblem(line, "mapping key is a list or mapping (expected a plain text key)")
            key = self._scalar(key_node)
            if key in first_line:
                message = f'duplicate key "{key}" (first defined on line {first_line[key]}; expected each key once)'
                self.problems.append(YamlProblem(line, message))
                continue
            first_line[key] = line
            self._lines[path + (key,)] = line
            result[key] = self.build(value_node, path + (key,))
        return result
