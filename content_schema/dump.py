"""Writing a validated scenario or exam back as YAML in the file format.

``dump_scenario(spec)`` gives the text of ``roleplays/<slug>.yaml`` and ``dump_exam(spec)``
that of ``exams/<slug>.yaml``: fields in the documented order, defaults left out, so that
validating the text again gives an equal spec (an editor's export/import round-trip).
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel

from .models import ExamSpec, ScenarioSpec

# Keys shown first in a question, whatever the model's field order.
_QUESTION_HEAD = ("id", "type")


def _tidy(value: Any) -> Any:
    """Integral floats as ints (points: 2, not 2.0); strict models accept both for floats."""
    if isinstance(value, dict):
        return {key: _tidy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tidy(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def spec_data(spec: BaseModel) -> dict[str, Any]:
    """The spec as the plain data of its file: aliases, defaults left out, tidy numbers."""
    data = _tidy(spec.model_dump(mode="json", by_alias=True, exclude_defaults=True))
    if isinstance(spec, ExamSpec):
        data["questions"] = [
            {**{key: question[key] for key in _QUESTION_HEAD if key in question},
             **{key: item for key, item in question.items() if key not in _QUESTION_HEAD}}
            for question in data["questions"]
        ]
    return data


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Lists indented under their key, as the shipped files are written.
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    # Lists of plain values (phrases, tags, element groups) on one line; lists of mappings as blocks.
    flat = all(not isinstance(item, dict) for item in value) and all(
        not isinstance(inner, (dict, list)) for item in value if isinstance(item, list) for inner in item)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat and bool(value))


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def dump_data(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
                     width=4096, indent=2)


def dump_scenario(spec: ScenarioSpec) -> str:
    return dump_data(spec_data(spec))


def dump_exam(spec: ExamSpec) -> str:
    return dump_data(spec_data(spec))
