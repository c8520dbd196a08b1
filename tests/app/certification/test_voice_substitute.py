"""A ladder that works where voice cannot be graded: the pure rule (voice_substitute: typed_signoff)."""
from __future__ import annotations

from datetime import datetime, timedelta

from app.certification.rules import Evidence, RoleplayResult, SignoffRecord, evaluate
from content_schema.models import LevelSpec

NOW = datetime(2026, 6, 1, 12, 0, 0)
HELD = frozenset({"trainee"})
RULE = {"kind": "roleplay_passes", "count": 2, "min_difficulty": 1, "voice_only": True, "min_average": 70,
        "window_days": 90, "voice_substitute": "typed_signoff"}


def agent(**changes) -> LevelSpec:
    return LevelSpec.model_validate({"level": "agent", "requirements": [dict(RULE, **changes)]})


def call(attempt_id, mode="typed", language="zh-CN", score=80.0, days_ago=1):
    return RoleplayResult(attempt_id, "double-billing", 1, score, True, NOW - timedelta(days=days_ago), mode,
                          language)


def signoff(attempt_id, signoff_id=None, revoked=False):
    return SignoffRecord(signoff_id or 500 + attempt_id, "agent", 7, "王芳", NOW - timedelta(hours=1),
                         NOW - timedelta(minutes=5) if revoked else None, attempt_id)


def roleplay(evaluation):
    return evaluation.requirements[1]


def test_signed_off_typed_passes_count_where_the_language_cannot_be_graded_by_voice():
    evidence = Evidence(roleplays=(call(1), call(2)), signoffs=(signoff(1), signoff(2)), held_levels=HELD,
                        voice_languages=frozenset({"ko-KR"}), typed_only_languages=("zh-CN",))
    result = roleplay(evaluate(agent(), evidence, NOW))
    assert result.met
    details = [ref.detail for ref in result.used]
    assert all(d["substitute"] == "typed_signoff" and d["trainer"] == "王芳" and d["mode"] == "typed"
               for d in details)
    assert {d["signoff_id"] for d in details} == {501, 502}


def test_typed_passes_without_a_sign_off_do_not_count_and_say_so():
    evidence = Evidence(roleplays=(call(1), call(2)), signoffs=(signoff(1),), held_levels=HELD,
                        voice_languages=frozenset(), typed_only_languages=("zh-CN",))
    result = roleplay(evaluate(agent(), evidence, NOW))
    assert not result.met and len(result.used) == 1
    msgids = [m.msgid for m in result.missing]
    assert any("waiting for a trainer's sign-off" in m for m in msgids)
    assert any("cannot grade %(languages)s calls by voice" in m for m in msgids)
    assert next(m for m in result.missing if "waiting" in m.msgid).params == {"count": 1}


def test_a_withdrawn_sign_off_no_longer_counts():
    evidence = Evidence(roleplays=(call(1), call(2)), signoffs=(signoff(1), signoff(2, revoked=True)),
                        held_levels=HELD, voice_languages=frozenset())
    assert not roleplay(evaluate(agent(), evidence, NOW)).met


def test_where_the_language_is_graded_by_voice_a_signed_off_typed_call_does_not_replace_a_voice_pass():
    evidence = Evidence(roleplays=(call(1), call(2)), signoffs=(signoff(1), signoff(2)), held_levels=HELD,
                        voice_languages=frozenset({"zh-CN"}))
    assert not roleplay(evaluate(agent(), evidence, NOW)).met
    # ... and a voice pass still counts with no sign-off at all, next to a substituted one elsewhere.
    mixed = Evidence(roleplays=(call(1, mode="voice"), call(2, language="en-US")), signoffs=(signoff(2),),
                     held_levels=HELD, voice_languages=frozenset({"zh-CN"}))
    assert roleplay(evaluate(agent(), mixed, NOW)).met


def test_without_the_substitute_rule_or_without_knowing_the_languages_nothing_is_substituted():
    evidence = Evidence(roleplays=(call(1), call(2)), signoffs=(signoff(1), signoff(2)), held_levels=HELD,
                        voice_languages=frozenset())
    assert not roleplay(evaluate(agent(voice_substitute=None), evidence, NOW)).met
    unknown = Evidence(roleplays=(call(1), call(2)), signoffs=(signoff(1), signoff(2)), held_levels=HELD)
    assert not roleplay(evaluate(agent(), unknown, NOW)).met


def test_a_call_sign_off_is_not_the_level_sign_off_of_the_expert_requirement():
    expert = LevelSpec.model_validate({"level": "expert", "requirements": [{"kind": "trainer_signoff"}]})
    record = SignoffRecord(9, "expert", 7, "王芳", NOW - timedelta(hours=1), None, attempt_id=3)
    evidence = Evidence(signoffs=(record,), held_levels=frozenset({"trainee", "agent", "senior"}))
    assert not evaluate(expert, evidence, NOW).met
