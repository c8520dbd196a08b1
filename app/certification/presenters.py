"""Turning evaluations and snapshots into what the pages show (translated text, links, chart bars), and
what trainees are told about typed calls."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import gettext as translate_stored  # msgids stored in data (marked in rules.py)
from flask_babel import lazy_gettext as _l

from ..core.clock import local_date
from ..core.i18n import content_language
from .evidence_sources import voice_languages
from .labels import chinese_ui, language_label, level_label, levels_text
from .links import build_path, evidence_href, work_href
from .requirements import current_version, spec_of, substitute_levels, voice_only_levels


@dataclass
class EvidenceLine:
    text: str
    href: str | None = None
    at: str | None = None


@dataclass
class RequirementRow:
    kind: str
    title: str
    detail: str
    met: bool
    percent: int  # 0..100 for <progress>
    used: list[EvidenceLine] = field(default_factory=list)
    missing: list[EvidenceLine] = field(default_factory=list)
    work_href: str | None = None


def _title(labels: dict, group: str, slug: str) -> str:
    texts = (labels or {}).get(group, {}).get(slug)
    if not texts:
        return slug
    return texts.get(content_language()) or texts.get("zh-CN") or slug


def _number(value) -> str:
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def _params(params: dict, labels: dict) -> dict:
    shown = dict(params)
    if "course" in shown:
        shown["course"] = _title(labels, "courses", shown["course"])
    if "exam" in shown:
        shown["exam"] = _title(labels, "exams", shown["exam"])
    if "level" in shown:
        shown["level"] = level_label(shown["level"])
    if "languages" in shown:  # "zh-CN, en-US" -> 普通话、英语
        codes = [code.strip() for code in str(shown["languages"]).split(",") if code.strip()]
        shown["languages"] = ("、" if chinese_ui() else ", ").join(
            language_label(code) for code in codes)
    return shown


def _describe(kind: str, spec: dict, labels: dict) -> tuple[str, str]:
    if kind == "previous_level":
        return _("Previous level"), _("Holds the level “%(level)s”", level=level_label(spec["level"]))
    if kind == "courses_completed":
        names = "、".join(_title(labels, "courses", slug) for slug in spec["courses"])
        return _("Courses completed"), names
    if kind == "exam_passed":
        exam = _title(labels, "exams", spec["exam"])
        if spec.get("min_score") is None:
            return _("Certification exam"), _("“%(exam)s” passed", exam=exam)
        return _("Certification exam"), _("“%(exam)s” passed with at least %(min)s%%", exam=exam,
                                           min=_number(spec["min_score"]))
    if kind == "roleplay_passes":
        parts = [_("%(count)s passes at difficulty %(difficulty)s or higher", count=spec["count"],
                   difficulty=spec["min_difficulty"])]
        if spec.get("voice_only") and spec.get("voice_substitute") == "typed_signoff":
            parts.append(_("voice calls; where this server cannot grade the language by voice, typed calls "
                           "signed off by a trainer"))
        elif spec.get("voice_only"):
            parts.append(_("voice calls only"))
        if spec.get("min_average") is not None:
            parts.append(_("average score at least %(min)s", min=_number(spec["min_average"])))
        if spec.get("window_days"):
            parts.append(_("within the last %(days)s days", days=spec["window_days"]))
        return _("Role-play passes"), " · ".join(parts)
    if kind == "listen_type":
        return _("Listen and type"), _("%(cpm)s characters per minute with %(accuracy)s%% accuracy",
                                       cpm=_number(spec["min_cpm"]), accuracy=_number(spec["min_accuracy"] * 100))
    if kind == "trainer_signoff":
        return _("Trainer sign-off"), _("A trainer confirms you are ready for this level")
    return kind, ""


def _evidence_line(ref: dict, labels: dict) -> EvidenceLine:
    kind, detail = ref.get("kind"), ref.get("detail") or {}
    at = local_date(ref.get("at"), missing="") or None
    href = evidence_href(ref, for_viewer=True)
    if kind == "course":
        text = _title(labels, "courses", ref["id"])
    elif kind == "exam_attempt":
        # No attempt id: a global row number, not the person's own count (the line links to the attempt).
        text = _("%(exam)s: %(score)s%%", exam=_title(labels, "exams", detail.get("exam", "")),
                 score=_number(detail.get("score", 0)))
    elif kind == "roleplay_attempt":
        text = _("%(scenario)s (difficulty %(difficulty)s): %(score)s",
                 scenario=_title(labels, "scenarios", detail.get("scenario", "")),
                 difficulty=detail.get("difficulty"), score=_number(detail.get("score", 0)))
        if detail.get("substitute") == "typed_signoff":
            text += " · " + _("typed, signed off by %(trainer)s", trainer=detail.get("trainer", ""))
    elif kind == "listen_type":
        text = _("Listen and type: %(cpm)s characters per minute at %(accuracy)s%% accuracy",
                 cpm=_number(detail.get("cpm", 0)), accuracy=_number(float(detail.get("accuracy", 0)) * 100))
    elif kind == "signoff":
        text = _("Signed off by %(trainer)s", trainer=detail.get("trainer", ""))
    elif kind == "certificate":
        text = _("Holds “%(level)s”", level=level_label(ref["id"]))
    else:
        text = str(ref.get("id"))
    return EvidenceLine(text, href, at)


def requirement_rows(evaluation: dict, labels: dict) -> list[RequirementRow]:
    """Rows for an evaluation given as a dict (LevelEvaluation.to_dict() or a certificate's snapshot)."""
    requirements = evaluation.get("requirements", [])
    level_exam = next((r["spec"]["exam"] for r in requirements if r["kind"] == "exam_passed"), None)
    rows = []
    for requirement in requirements:
        title, detail = _describe(requirement["kind"], requirement["spec"], labels)
        missing = []
        for message in requirement.get("missing", []):
            params = message.get("params") or {}
            text = translate_stored(message["msgid"], **_params(params, labels))
            href = build_path("courses.course", for_viewer=True, slug=params["course"]) \
                if requirement["kind"] == "courses_completed" and "course" in params else None
            missing.append(EvidenceLine(text, href))
        link_context = dict(requirement, exam=level_exam)
        rows.append(RequirementRow(
            kind=requirement["kind"], title=title, detail=detail, met=requirement["met"],
            percent=int(round(100 * float(requirement.get("progress", 0)))),
            used=[_evidence_line(ref, labels) for ref in requirement.get("used", [])],
            missing=missing,
            work_href=None if requirement["met"] or requirement["kind"] == "courses_completed"
            else work_href(link_context)))
    return rows


def requirements_text(summary) -> str:
    """"3 of 5" toward the next level (never "3/5", which a spreadsheet reads as a date); "" at the top."""
    return str(_l("%(met)s of %(total)s", met=summary.met, total=summary.total)) if summary.total else ""


# --- charts (inline SVG: sizes computed here, the template only draws) -----------------------


@dataclass
class Bar:
    label: str
    value: float
    text: str
    y: int
    width: int
    css: str = "bar"


@dataclass
class Chart:
    bars: list[Bar]
    height: int
    width: int = 520
    label_width: int = 170


BAR_HEIGHT = 22
BAR_GAP = 10
BAR_AREA = 280


def count_chart(counts: list[tuple[str, int]]) -> Chart:
    top = max((count for _level, count in counts), default=0) or 1
    bars = [Bar(level_label(level), count, str(count), index * (BAR_HEIGHT + BAR_GAP),
                int(round(BAR_AREA * count / top)), f"bar level-{level}")
            for index, (level, count) in enumerate(counts)]
    return Chart(bars, len(bars) * (BAR_HEIGHT + BAR_GAP))


def rate_chart(rates) -> Chart:
    bars = []
    y = 0
    for rate in rates:
        cohort = rate.cohort or _("(no cohort)")
        for label, value, css in ((_("%(cohort)s · exams", cohort=cohort), rate.exam_rate, "bar exam"),
                                  (_("%(cohort)s · role-plays", cohort=cohort), rate.roleplay_rate, "bar roleplay")):
            text = "—" if value is None else f"{round(100 * value)}%"
            bars.append(Bar(label, value or 0, text, y, int(round(BAR_AREA * (value or 0))), css))
            y += BAR_HEIGHT + BAR_GAP
        y += BAR_GAP
    return Chart(bars, max(y, BAR_HEIGHT))


# --- what trainees are told about typed calls ---------------------------------------------------


def typed_call_notices(language: str) -> list[Any]:
    """Told to trainees up front (brief, scenario library, 我的认证): whether a typed call in this language
    counts for certification, and what it needs to count."""
    version = current_version()
    if version is None:
        return []
    spec = spec_of(version)
    voice_only = voice_only_levels(spec)
    if not voice_only:
        return []
    substitutes = substitute_levels(spec)
    voice = voice_languages()
    if voice is not None and language not in voice and substitutes:
        notices = [_l("This server cannot grade %(language)s calls by voice yet: a passed typed call counts "
                      "towards %(levels)s certification only after a trainer signs it off.",
                      language=language_label(language), levels=levels_text(substitutes))]
        others = [level for level in voice_only if level not in substitutes]
        if others:
            notices.append(_l("Typed calls do not count towards %(levels)s certification.",
                              levels=levels_text(others)))
        return notices
    if voice is not None and language not in voice:
        return [_l("This server cannot grade %(language)s calls by voice: typed calls do not count towards "
                   "%(levels)s certification.", language=language_label(language), levels=levels_text(voice_only))]
    return [_l("Only calls answered by voice count towards %(levels)s certification; a typed call is practice.",
               levels=levels_text(voice_only))]
