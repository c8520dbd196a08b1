"""Rubric items: checking ``use:`` references and expanding them from the library.

An item with ``use: <entry>`` takes the library entry's phrases/elements for the
scenario's (or question's) language and its explanation. Fields written on the item
itself refine it: its ``phrases`` are ADDED to the library's (extra accepted
phrasings for this situation), its ``elements`` and ``explanation`` REPLACE the
library's. ``kind`` must match the library section (intents vs forbidden).
"""

from __future__ import annotations

from collections.abc import Sequence

from grading.patterns import PatternError, compile_pattern
from grading.items import judgement_of
from grading.rubric import RubricItem

from .messages import message
from .models import LibraryEntry, LibrarySpec, RubricItemSpec
from .validation import Reporter
from .yaml_lines import Path

_SECTION = {"intent": "intents", "forbidden": "forbidden"}


def _entries(library: LibrarySpec, kind: str) -> dict[str, LibraryEntry]:
    return library.intents if kind == "intent" else library.forbidden


def check_rubric(
    items: Sequence[RubricItemSpec],
    path: Path,
    language: str,
    library: LibrarySpec | None,
    report: Reporter,
) -> None:
    """Unique item ids and valid ``use:`` references; ``path`` is the rubric list's path."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id in seen:
            report.at(
                path + (index, "id"), message("rubric.duplicate_id", id=item.id)
            )
        seen.add(item.id)
        if item.use is not None and library is not None:
            _check_use(item, path + (index, "use"), language, library, report)


def _check_use(item: RubricItemSpec, path: Path, language: str, library: LibrarySpec, report: Reporter) -> None:
    own = _entries(library, item.kind)
    other_kind = "forbidden" if item.kind == "intent" else "intent"
    if item.use not in own:
        if item.use in _entries(library, other_kind):
            report.at(
                path,
                message("rubric.use_wrong_kind", use=item.use, other_kind=other_kind, kind=item.kind,
                        section=_SECTION[item.kind], expected=", ".join(sorted(own))),
            )
        else:
            report.at(
                path,
                message("rubric.unknown_use", use=item.use, section=_SECTION[item.kind],
                        expected=", ".join(sorted(own))),
            )
        return
    entry = own[item.use]
    if entry.for_language(language) is None:
        report.at(
            path,
            message("rubric.use_no_language", use=item.use, language=language, section=_SECTION[item.kind],
                    has=", ".join(entry.languages())),
        )


def resolve_item(item: RubricItemSpec, language: str, library: LibrarySpec) -> RubricItem:
    """Expand one validated item (``check_rubric`` passed) into the engine's RubricItem."""
    phrases = list(item.phrases)
    elements = [tuple(group) for group in item.elements]
    patterns = list(item.patterns)
    slots = {name: tuple(values) for name, values in item.slots.items()}
    explanation = dict(item.explanation or {})
    judgement = item.judgement
    label: dict[str, str] = {}
    if item.use is not None:
        entry = _entries(library, item.kind)[item.use]
        matched = entry.for_language(language)
        assert matched is not None  # guaranteed by check_rubric
        phrases = list(dict.fromkeys([*matched.phrases, *item.phrases]))
        elements = elements or [tuple(group) for group in matched.elements]
        patterns = list(dict.fromkeys([*matched.patterns, *item.patterns]))
        slots = {**{name: tuple(values) for name, values in matched.slots.items()}, **slots}
        explanation = explanation or dict(entry.explanation)
        judgement = judgement or entry.judgement
        label = dict(entry.label or {})
    return RubricItem(
        id=item.id,
        kind=item.kind,
        points=item.points,
        phrases=tuple(phrases),
        elements=tuple(elements),
        explanation=explanation,
        source=item.use,
        patterns=tuple(patterns),
        slots=slots,
        judgement=judgement if item.kind == "intent" else "rules",
        label=label,
    )


def check_patterns(items: Sequence[RubricItemSpec], path: Path, language: str, library: LibrarySpec | None,
                   report: Reporter) -> None:
    """Every construction compiles for the item's language, its slots filled."""
    for index, item in enumerate(items):
        if item.use is not None and library is not None and item.use in _entries(library, item.kind):
            matched = _entries(library, item.kind)[item.use].for_language(language)
            base_slots = dict(matched.slots) if matched else {}
        else:
            base_slots = {}
        slots = {**base_slots, **item.slots}
        for p_index, pattern in enumerate(item.patterns):
            try:
                compile_pattern(pattern, language, slots)
            except PatternError as exc:
                report.at(path + (index, "patterns", p_index), message("pattern.invalid", detail=str(exc)))


def library_rules(library: LibrarySpec, language: str) -> tuple[RubricItem, ...]:
    """The whole forbidden catalogue in `language`: checked on every reply of every scenario."""
    rules = []
    for name, entry in library.forbidden.items():
        if entry.for_language(language) is None:
            continue
        rules.append(resolve_item(RubricItemSpec(id=name, kind="forbidden", points=1, use=name), language, library))
    return tuple(rules)


def resolve_rubric(items: Sequence[RubricItemSpec], language: str, library: LibrarySpec) -> tuple[RubricItem, ...]:
    return tuple(resolve_item(item, language, library) for item in items)


def library_intent(name: str, points: float, language: str, library: LibrarySpec) -> RubricItem | None:
    """A call-level rule (greeting, closing) as a rubric item; None when worth 0 points."""
    if points <= 0:
        return None
    return resolve_item(RubricItemSpec(id=name, points=points, use=name), language, library)


# A caller at or below this anger is at most irritated: the moment does not call for soothing, so a courteous
# answer (the library's "courtesy" entry) also responds to them (seed 002: empathy where the
# moment calls for it; thanks at a calm close).
CALM_ANGER = 50


def with_calm_courtesy(rubric: tuple[RubricItem, ...], anger: int, language: str,
                       library: LibrarySpec) -> tuple[RubricItem, ...]:
    """A resolved node rubric, plus the library's courtesy item when the caller is calm and the node
    asks the reply to respond at all."""
    entry = library.intents.get("courtesy")
    if anger > CALM_ANGER or entry is None or entry.for_language(language) is None:
        return rubric
    if not any(item.kind == "intent" and judgement_of(item) == "responds" for item in rubric):
        return rubric
    return rubric + (resolve_item(RubricItemSpec(id="courtesy", points=1, use="courtesy"), language, library),)
