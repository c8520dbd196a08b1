"""Rules that a single pydantic model cannot express: ids unique among siblings,
the role-play graph, exam draws, prerequisites and certification references."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .messages import message
from .models import (
    ENDINGS,
    CertificationSpec,
    CoursesCompleted,
    DrawRule,
    ExamPassed,
    ExamSpec,
    MultipleQuestion,
    OrderingQuestion,
    ScenarioSpec,
    SingleQuestion,
)
from .validation import Reporter
from .yaml_lines import Path


def _listing(names: Iterable[str]) -> str:
    names = sorted(names)
    return ", ".join(names) if names else "none"


def check_unique_ids(items: Sequence[Any], path: Path, what: str, report: Reporter) -> None:
    """``items`` have an ``id``; report each repeat at its own line."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id in seen:
            report.at(path + (index, "id"), message("ids.duplicate", what=what, id=item.id))
        seen.add(item.id)


# --- exams -----------------------------------------------------------------


def check_exam(exam: ExamSpec, report: Reporter) -> None:
    check_unique_ids(exam.questions, ("questions",), "question", report)
    for index, question in enumerate(exam.questions):
        if isinstance(question, (SingleQuestion, MultipleQuestion)):
            check_unique_ids(question.options, ("questions", index, "options"), "option", report)
        elif isinstance(question, OrderingQuestion):
            check_unique_ids(question.items, ("questions", index, "items"), "item", report)
    if exam.draw:
        _check_draw(exam, exam.draw, report)


def _check_draw(exam: ExamSpec, draw: list[DrawRule], report: Reporter) -> None:
    """Every draw rule must be satisfiable whatever the earlier rules happened to pick.

    Earlier rule j can take at most min(count_j, |pool_j ∩ pool_i|) questions out of
    pool i, and together they cannot take more than the part of pool i that any of
    them may draw from; what is left must cover count_i.
    """
    known_tags = {tag for question in exam.questions for tag in question.tags}
    pools: list[set[str]] = []
    for index, rule in enumerate(draw):
        for tag_index, tag in enumerate(rule.tags):
            if tag not in known_tags:
                report.at(
                    ("draw", index, "tags", tag_index),
                    message("draw.unknown_tag", tag=tag, expected=_listing(known_tags)),
                )
        pool = {q.id for q in exam.questions if not rule.tags or set(q.tags) & set(rule.tags)}
        earlier_take = sum(min(draw[j].count, len(pools[j] & pool)) for j in range(index))
        earlier_reach = len(pool & set().union(*pools)) if pools else 0
        available = len(pool) - min(earlier_take, earlier_reach)
        pools.append(pool)
        if rule.count > available:
            source = f"tagged {', '.join(rule.tags)}" if rule.tags else "in the exam"
            report.at(
                ("draw", index, "count"),
                message("draw.too_many", count=rule.count, available=available, pool=len(pool), source=source,
                        taken=len(pool) - available),
            )


# --- role-play graph -------------------------------------------------------


def check_graph(scenario: ScenarioSpec, report: Reporter) -> None:
    nodes = scenario.nodes
    node_list = _listing(nodes)
    for node_id, node in nodes.items():
        for outcome, target in node.next.items():
            path = ("nodes", node_id, "next", outcome)
            if target.startswith("end:"):
                if target not in ENDINGS:
                    report.at(path, message("graph.unknown_ending", target=target, endings=", ".join(ENDINGS)))
            elif target not in nodes:
                report.at(
                    path,
                    message("graph.unknown_node", target=target, nodes=node_list, endings=", ".join(ENDINGS)),
                )
    if len(nodes) < 4:
        report.at(("nodes",), message("graph.too_few_nodes", count=len(nodes)))
    if scenario.start not in nodes:
        report.at(("start",), message("graph.bad_start", start=scenario.start, nodes=node_list))
        return

    reachable = _reachable(scenario.start, lambda node_id: [t for _, t in nodes[node_id].next.items() if t in nodes])
    for node_id in nodes:
        if node_id not in reachable:
            report.at(
                ("nodes", node_id),
                message("graph.unreachable", node=node_id, start=scenario.start),
            )
    endings = {target for node_id in reachable for _, target in nodes[node_id].next.items() if target in ENDINGS}
    for ending in ("end:resolved", "end:transferred"):
        if ending not in endings:
            report.at(("nodes",), message("graph.never_reached", ending=ending))
    if "end:hangup" not in endings and _longest_escalation(scenario, reachable) < scenario.hangup_after_poor:
        report.at(
            ("nodes",),
            message("graph.hangup_never_reached", count=scenario.hangup_after_poor),
        )


def _reachable(start: str, successors: Callable[[str], Iterable[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for target in successors(stack.pop()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _longest_escalation(scenario: ScenarioSpec, reachable: set[str]) -> float:
    """Most consecutive escalating replies possible (inf for an escalate loop).

    Each node has one escalate target, so following it from a node visits a chain
    that either ends at an ending or runs into a loop.
    """
    longest: float = 0
    for first in reachable:
        visited: list[str] = []
        current = first
        while current in scenario.nodes and current not in visited:
            visited.append(current)
            current = scenario.nodes[current].next.escalate
        longest = max(longest, float("inf") if current in visited else len(visited))
    return longest


# --- courses ---------------------------------------------------------------


def check_prerequisites(
    prerequisites: Mapping[str, Sequence[str]],
    reporters: Mapping[str, Reporter],
    known_courses: Iterable[str],
) -> None:
    """Unknown prerequisites and cycles; both maps are keyed by (valid) course slug."""
    known = set(known_courses)
    for slug, required in prerequisites.items():
        for index, other in enumerate(required):
            if other not in known:
                reporters[slug].at(
                    ("prerequisites", index), message("course.unknown_prerequisite", course=other, expected=_listing(known))
                )
    reported: set[frozenset[str]] = set()
    for slug in prerequisites:
        cycle = _cycle_from(slug, prerequisites)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            reporters[slug].at(
                ("prerequisites",),
                message("course.prerequisite_cycle", cycle=" -> ".join(cycle + [cycle[0]])),
            )


def _cycle_from(start: str, graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle through ``start`` (as a list of slugs starting with it), if any."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    visited: set[str] = set()
    while stack:
        slug, trail = stack.pop()
        for other in graph.get(slug, ()):
            if other == start:
                return trail
            if other in graph and other not in visited:
                visited.add(other)
                stack.append((other, trail + [other]))
    return None


def check_course_quiz(quiz: str, exam_kinds: Mapping[str, str | None], report: Reporter) -> None:
    """``exam_kinds`` maps every exam slug to its kind (None: the exam file is invalid)."""
    if quiz not in exam_kinds:
        quizzes = [slug for slug, kind in exam_kinds.items() if kind == "quiz"]
        report.at(("quiz",), message("course.unknown_quiz", exam=quiz, expected=_listing(quizzes)))
    elif exam_kinds[quiz] not in ("quiz", None):
        report.at(("quiz",), message("course.quiz_kind", exam=quiz, kind=exam_kinds[quiz]))


# --- certification ---------------------------------------------------------


def check_certification(
    certification: CertificationSpec,
    course_slugs: Iterable[str],
    exam_kinds: Mapping[str, str | None],
    report: Reporter,
) -> None:
    courses = set(course_slugs)
    cert_exams = [slug for slug, kind in exam_kinds.items() if kind == "certification"]
    for level_index, level in enumerate(certification.levels):
        for index, requirement in enumerate(level.requirements):
            path = ("levels", level_index, "requirements", index)
            if isinstance(requirement, CoursesCompleted):
                for course_index, slug in enumerate(requirement.courses):
                    if slug not in courses:
                        report.at(
                            path + ("courses", course_index),
                            message("certification.unknown_course", course=slug, expected=_listing(courses)),
                        )
            elif isinstance(requirement, ExamPassed):
                if requirement.exam not in exam_kinds:
                    report.at(
                        path + ("exam",),
                        message("certification.unknown_exam", exam=requirement.exam, expected=_listing(cert_exams)),
                    )
                elif exam_kinds[requirement.exam] not in ("certification", None):
                    report.at(
                        path + ("exam",),
                        message("certification.exam_kind", exam=requirement.exam, kind=exam_kinds[requirement.exam]),
                    )
