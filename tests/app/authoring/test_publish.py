"""Publishing: draft → published → retired. Each publish of a change is a new immutable version; attempts
keep the version they were taken on; web scenarios are not the content sync's to retire."""
import shutil

import pytest
from sqlalchemy import select

from app.content.services import sync_content
from app.extensions import db
from app.roleplays import grader as roleplay_grader
from app.roleplays import presenters as roleplay_presenters
from app.roleplays import queries as roleplay_queries
from app.roleplays import sync as roleplay_sync
from app.roleplays.models import Attempt, Scenario, ScenarioVersion
from content_schema import ContentValidationError
from tests.support.authoring import SLUG, draft_row, scenario_yaml
from tests.support.roleplays import Drill, good_reply, scenario_doc

PLAN_V2 = {"      - id: next-step\n        points: 3\n        use: next_step\n":
           "      - id: next-step\n        points: 3\n        phrases: [我们今天下午就给您补发]\n"}


def _versions(app, slug=SLUG):
    with app.app_context():
        return [(v.version, v.author_id) for v in db.session.scalars(
            select(ScenarioVersion).where(ScenarioVersion.slug == slug).order_by(ScenarioVersion.version))]


def _play(app, drill, slug):
    """A learner's call: a good reply at the start, then a good reply with the closing; returns the attempt id."""
    doc = scenario_doc(app, slug)
    attempt_id = drill.start(slug)
    drill.answer(attempt_id)
    first = drill.say(attempt_id, good_reply(doc, "opening", greeting=True)).json
    assert first["outcome"] == "deescalate", first
    second = drill.say(attempt_id, good_reply(doc, "plan", closing=True)).json
    assert second["state"]["ended"], second
    return attempt_id


def test_publishing_versions_keeps_past_grades(app, client, author, make_user, content):
    author.import_scenario(scenario_yaml())
    response = author.post(f"/authoring/scenarios/{SLUG}/publish")
    assert response.status_code == 302
    draft = draft_row(app, SLUG)
    assert draft.status == "published" and draft.published_version == 1 and not draft.unpublished_changes
    assert _versions(app) == [(1, author.user.id)]

    learner = make_user("trainee1", "learner")
    drill = Drill(app.test_client(), learner)
    v1_replies = scenario_doc(app, SLUG)
    old_id = _play(app, drill, SLUG)
    with app.app_context():
        old = db.session.get(Attempt, old_id)
        old_score, old_version, old_items = old.score, old.version_id, [t.items for t in old.turns]
    assert old_score == 100.0

    # v2: the plan node now wants a concrete promise the v1-style reply does not make.
    assert author.post(f"/authoring/scenarios/{SLUG}/yaml", {"text": scenario_yaml(**PLAN_V2)}).status_code == 302
    assert draft_row(app, SLUG).unpublished_changes
    author.post(f"/authoring/scenarios/{SLUG}/publish")
    assert _versions(app) == [(1, author.user.id), (2, author.user.id)]
    assert draft_row(app, SLUG).published_version == 2

    with app.app_context():
        old = db.session.get(Attempt, old_id)
        assert (old.score, old.version_id, [t.items for t in old.turns]) == (old_score, old_version, old_items)
        roleplay_grader.regrade_attempt(old_id)  # nothing waiting: nothing changes
        assert db.session.get(Attempt, old_id).score == old_score
        report = roleplay_presenters.attempt_report(old_id)
        assert report["scenario_version"] == 1

    # A new attempt uses v2 and the same words now score lower.
    new_id = drill.start(SLUG)
    drill.answer(new_id)
    drill.say(new_id, good_reply(v1_replies, "opening", greeting=True))
    drill.say(new_id, good_reply(v1_replies, "plan", closing=True))
    with app.app_context():
        new = db.session.get(Attempt, new_id)
        old = db.session.get(Attempt, old_id)
        assert new.version.version == 2 and new.version_id != old_version
        assert new.turns[1].earned < old.turns[1].earned  # the plan node grades differently now
        # The v1 words still respond to the caller but no longer move v2's case on: not a calming reply.
        assert new.turns[1].outcome != "deescalate" and old.turns[1].outcome == "deescalate"
        assert old.score == old_score and old.turns[1].outcome == "deescalate"


def test_publishing_without_changes_makes_no_new_version(app, author, content):
    author.import_scenario(scenario_yaml())
    author.post(f"/authoring/scenarios/{SLUG}/publish")
    author.post(f"/authoring/scenarios/{SLUG}/publish")
    assert _versions(app) == [(1, author.user.id)]


def test_draft_changes_do_not_reach_learners_until_published(app, author, make_user, content):
    author.import_scenario(scenario_yaml())
    learner = make_user("trainee1", "learner")
    drill = Drill(app.test_client(), learner)
    assert drill.client.get(f"/roleplays/{SLUG}").status_code == 404  # a draft is not in the library
    author.post(f"/authoring/scenarios/{SLUG}/publish")
    assert drill.client.get(f"/roleplays/{SLUG}").status_code == 200
    author.post(f"/authoring/scenarios/{SLUG}/yaml", {"text": scenario_yaml(**{"difficulty: 1": "difficulty: 3"})})
    with app.app_context():
        assert roleplay_queries.get_scenario(SLUG).current_version.difficulty == 1


def test_retire_and_publish_again(app, author, make_user, content):
    author.import_scenario(scenario_yaml())
    author.post(f"/authoring/scenarios/{SLUG}/publish")
    assert author.post(f"/authoring/scenarios/{SLUG}/retire").status_code == 302
    assert draft_row(app, SLUG).status == "retired"
    with app.app_context():
        assert roleplay_queries.get_scenario(SLUG) is None
        assert SLUG not in [row.slug for row in roleplay_queries.library()]
        assert roleplay_queries.web_scenarios() == [] and [r.slug for r in roleplay_queries.web_scenarios(include_retired=True)] == [SLUG]
    author.post(f"/authoring/scenarios/{SLUG}/publish")
    assert draft_row(app, SLUG).status == "published"
    with app.app_context():
        assert roleplay_queries.get_scenario(SLUG).current_version.version == 1


def test_web_scenarios_survive_content_sync(app, author, content):
    author.import_scenario(scenario_yaml())
    author.post(f"/authoring/scenarios/{SLUG}/publish")
    with app.app_context():
        sync_content()
        row = db.session.scalar(select(Scenario).where(Scenario.slug == SLUG))
        assert row.source == "web" and not row.retired and row.current_version.version == 1
        assert [r.slug for r in roleplay_queries.web_scenarios()] == [SLUG]
        assert SLUG in [r.slug for r in roleplay_queries.library()]
        from app.authoring import services
        assert [r.slug for r in services.web_scenarios()] == [SLUG]


def test_a_file_may_not_take_a_web_scenarios_slug(app, author, content, tmp_path):
    author.import_scenario(scenario_yaml())
    author.post(f"/authoring/scenarios/{SLUG}/publish")
    root = tmp_path / "content"
    for folder in ("courses", "exams", "roleplays"):
        shutil.copytree(f"{app.config['CONTENT_ROOT']}/{folder}", root / folder)
    (root / "roleplays" / f"{SLUG}.yaml").write_text(scenario_yaml(), encoding="utf-8")
    with app.app_context():
        with pytest.raises(ContentValidationError) as caught:
            sync_content(root)
        assert any(f'slug "{SLUG}" is already used by a scenario authored in the browser' in str(e)
                   for e in caught.value.errors)
        row = db.session.scalar(select(Scenario).where(Scenario.slug == SLUG))
        assert row.source == "web" and row.current_version.version == 1


def test_publish_version_refuses_a_file_scenarios_slug(app, content):
    with app.app_context():
        with pytest.raises(ContentValidationError) as caught:
            roleplay_sync.publish_version("broadband-outage-refund",
                                      scenario_yaml("broadband-outage-refund"), source="web")
        assert caught.value.errors[0].path == ("slug",)
        assert "belongs to a file scenario" in caught.value.errors[0].message
