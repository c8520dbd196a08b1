"""The pure rule evaluator at the boundary of every requirement kind."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.certification.rules import (
    Evidence,
    ExamResult,
    ListenTypeResult,
    RoleplayResult,
    SignoffRecord,
    evaluate,
    highest_level,
)
from content_schema.models import LevelSpec

NOW = datetime(2026, 6, 1, 12, 0, 0)
HELD = frozenset({"trainee", "agent", "senior"})


def level(level_name: str, *requirements: dict) -> LevelSpec:
    return LevelSpec.model_validate({"level": level_name, "requirements": list(requirements)})


def only(evaluation):
    """The one requirement of the file (after the implicit previous-level one)."""
    assert evaluation.requirements[0].kind == "previous_level"
    assert len(evaluation.requirements) == 2
    return evaluation.requirements[1]


def ev(**fields) -> Evidence:
    fields.setdefault("held_levels", HELD)
    return Evidence(**fields)


# --- previous level ---------------------------------------------------------------


def test_a_level_needs_the_previous_one():
    spec = level("senior")
    assert evaluate(spec, ev(held_levels=frozenset({"trainee", "agent"})), NOW).met
    result = evaluate(spec, ev(held_levels=frozenset({"trainee"})), NOW)
    assert not result.met
    assert result.requirements[0].missing[0].params == {"level": "agent"}


def test_trainee_is_held_by_everyone_and_agent_needs_only_it():
    assert evaluate(level("agent"), Evidence(), NOW).met
    assert highest_level({"trainee", "senior"}) == "senior"
    assert highest_level(set()) == "trainee"


# --- courses ------------------------------------------------------------------------


def test_courses_all_completed_is_met_one_missing_is_not():
    spec = level("agent", {"kind": "courses_completed", "courses": ["aa", "bb"]})
    done = {"aa": NOW - timedelta(days=3), "bb": NOW - timedelta(days=1)}
    met = only(evaluate(spec, ev(courses=done), NOW))
    assert met.met and met.progress == 1.0 and {r.id for r in met.used} == {"aa", "bb"}
    half = only(evaluate(spec, ev(courses={"aa": NOW}), NOW))
    assert not half.met and half.progress == 0.5
    assert [m.params["course"] for m in half.missing] == ["bb"]


# --- exam ------------------------------------------------------------------------------


@pytest.mark.parametrize("score,met", [(75.0, True), (74.9, False), (74.0, False), (100.0, True)])
def test_exam_min_score_boundary(score, met):
    spec = level("agent", {"kind": "exam_passed", "exam": "cert-agent", "min_score": 75})
    result = only(evaluate(spec, ev(exams={"cert-agent": ExamResult(7, score, score >= 70, NOW)}), NOW))
    assert result.met is met
    assert result.used[0].id == 7  # the attempt it rests on (or the closest one)
    if not met:
        assert result.progress < 1 and result.missing


def test_exam_without_min_score_uses_the_attempts_own_pass():
    spec = level("agent", {"kind": "exam_passed", "exam": "cert-agent"})
    assert only(evaluate(spec, ev(exams={"cert-agent": ExamResult(1, 60, True)}), NOW)).met
    assert not only(evaluate(spec, ev(exams={"cert-agent": ExamResult(1, 90, False)}), NOW)).met


def test_exam_never_attempted():
    spec = level("agent", {"kind": "exam_passed", "exam": "cert-agent", "min_score": 75})
    result = only(evaluate(spec, ev(), NOW))
    assert not result.met and result.progress == 0 and result.missing[0].params["exam"] == "cert-agent"


# --- role-plays ----------------------------------------------------------------------------

RP = {"kind": "roleplay_passes", "count": 3, "min_difficulty": 2, "voice_only": True, "min_average": 70,
      "window_days": 90}


def rp(attempt_id, *, score=80.0, difficulty=2, days_ago=1, mode="voice", passed=True):
    return RoleplayResult(attempt_id, f"s{attempt_id}", difficulty, score, passed,
                          NOW - timedelta(days=days_ago), mode)


def test_roleplay_count_met_and_count_minus_one_not():
    spec = level("agent", RP)
    assert only(evaluate(spec, ev(roleplays=[rp(1), rp(2), rp(3)]), NOW)).met
    short = only(evaluate(spec, ev(roleplays=[rp(1), rp(2)]), NOW))
    assert not short.met and short.progress == pytest.approx(2 / 3) and short.missing[0].params["more"] == 1


def test_roleplay_outside_the_window_is_not_counted():
    spec = level("agent", RP)
    at_edge = [rp(1), rp(2), rp(3, days_ago=90)]
    assert only(evaluate(spec, ev(roleplays=at_edge), NOW)).met
    outside = [rp(1), rp(2), RoleplayResult(3, "s3", 2, 80, True, NOW - timedelta(days=90, seconds=1), "voice")]
    assert not only(evaluate(spec, ev(roleplays=outside), NOW)).met


def test_typed_roleplay_is_not_counted_when_voice_only():
    spec = level("agent", RP)
    mixed = [rp(1), rp(2), rp(3, mode="typed")]
    assert not only(evaluate(spec, ev(roleplays=mixed), NOW)).met
    relaxed = level("agent", dict(RP, voice_only=False))
    assert only(evaluate(relaxed, ev(roleplays=mixed), NOW)).met


def test_roleplay_below_min_difficulty_or_failed_is_not_counted():
    spec = level("agent", RP)
    assert not only(evaluate(spec, ev(roleplays=[rp(1), rp(2), rp(3, difficulty=1)]), NOW)).met
    assert not only(evaluate(spec, ev(roleplays=[rp(1), rp(2), rp(3, passed=False)]), NOW)).met
    assert only(evaluate(spec, ev(roleplays=[rp(1), rp(2), rp(3, difficulty=3)]), NOW)).met


def test_roleplay_average_exactly_min_average_passes_just_below_fails():
    spec = level("agent", RP)
    exact = [rp(1, score=70), rp(2, score=65), rp(3, score=75)]  # average 70.0
    assert only(evaluate(spec, ev(roleplays=exact), NOW)).met
    below = [rp(1, score=70), rp(2, score=65), rp(3, score=74.7)]  # average 69.9
    result = only(evaluate(spec, ev(roleplays=below), NOW))
    assert not result.met and result.missing[0].params == {"count": 3, "average": "69.9", "min": "70"}
    assert 0 < result.progress < 1


def test_roleplay_average_is_rounded_to_one_decimal_like_every_score():
    spec = level("agent", RP)
    # 209.9 / 3 = 69.966…, shown and judged as 70.0 — the way grading.scoring rounds percentages.
    assert only(evaluate(spec, ev(roleplays=[rp(1, score=70), rp(2, score=65), rp(3, score=74.9)]), NOW)).met


def test_roleplay_average_uses_the_best_passes():
    spec = level("agent", RP)
    results = [rp(1, score=60), rp(2, score=70), rp(3, score=70), rp(4, score=70)]
    evaluation = only(evaluate(spec, ev(roleplays=results), NOW))
    assert evaluation.met and {r.id for r in evaluation.used} == {2, 3, 4}


def test_roleplay_without_window_counts_all_time():
    spec = level("agent", dict(RP, window_days=None))
    old = [rp(1, days_ago=1000), rp(2, days_ago=2000), rp(3, days_ago=3000)]
    assert only(evaluate(spec, ev(roleplays=old), NOW)).met


# --- listen and type ------------------------------------------------------------------

LT = {"kind": "listen_type", "min_cpm": 50, "min_accuracy": 0.9}


@pytest.mark.parametrize("cpm,accuracy,met", [
    (50.0, 0.9, True),     # both exactly at the bar
    (49.9, 0.95, False),   # a tenth too slow
    (80.0, 0.89, False),   # one point short of the accuracy
    (50.0, 0.8999, False),
])
def test_listen_type_boundaries(cpm, accuracy, met):
    spec = level("agent", LT)
    result = only(evaluate(spec, ev(listen_type=[ListenTypeResult(11, "lt-1", accuracy, cpm, NOW)]), NOW))
    assert result.met is met
    assert result.used[0].id == 11
    if not met:
        assert len(result.missing) == 2 and 0 < result.progress < 1


def test_listen_type_needs_one_answer_meeting_both_bars():
    spec = level("agent", LT)
    fast_but_sloppy = ListenTypeResult(1, "a", 0.5, 90, NOW)
    careful_but_slow = ListenTypeResult(2, "b", 1.0, 30, NOW)
    assert not only(evaluate(spec, ev(listen_type=[fast_but_sloppy, careful_but_slow]), NOW)).met
    nothing = only(evaluate(spec, ev(), NOW))
    assert not nothing.met and nothing.progress == 0 and nothing.missing[0].params == {"cpm": "50", "accuracy": "90"}


# --- trainer sign-off --------------------------------------------------------------------

SIGN = {"kind": "trainer_signoff"}


def signoff(revoked_at=None, level_name="expert"):
    return SignoffRecord(5, level_name, 9, "王芳", NOW - timedelta(days=2), revoked_at)


def test_signoff_present_absent_revoked():
    spec = level("expert", SIGN)
    present = only(evaluate(spec, ev(signoffs=[signoff()]), NOW))
    assert present.met and present.used[0].id == 5 and present.used[0].detail["trainer"] == "王芳"
    assert not only(evaluate(spec, ev(), NOW)).met
    assert not only(evaluate(spec, ev(signoffs=[signoff(revoked_at=NOW - timedelta(hours=1))]), NOW)).met
    assert not only(evaluate(spec, ev(signoffs=[signoff(level_name="senior")]), NOW)).met


# --- a whole level ----------------------------------------------------------------------


def test_the_shipped_agent_level_with_everything_met():
    spec = level("agent",
                 {"kind": "courses_completed", "courses": ["call-handling"]},
                 {"kind": "exam_passed", "exam": "cert-agent", "min_score": 75},
                 dict(RP, min_difficulty=1), LT)
    evidence = Evidence(courses={"call-handling": NOW}, exams={"cert-agent": ExamResult(3, 75, True, NOW)},
                        roleplays=[rp(1), rp(2), rp(3)], listen_type=[ListenTypeResult(3, "x", 0.9, 50, NOW)])
    evaluation = evaluate(spec, evidence, NOW)
    assert evaluation.met and evaluation.progress == 1.0
    data = evaluation.to_dict()
    assert data["met"] and len(data["requirements"]) == 5
    assert evaluation.evidence_key() == "course:call-handling|exam_attempt:3|listen_type:3|" \
        "roleplay_attempt:1|roleplay_attempt:2|roleplay_attempt:3"
