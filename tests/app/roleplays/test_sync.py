"""Loading roleplays/ into the database: versions, retirement, synthesized lines, graphs."""
from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.content.services import sync_content
from app.extensions import db
from app.roleplays import errors, grader, operations, presenters, queries
from app.roleplays.models import Attempt, Phrasebook, Scenario, ScenarioVersion
from app.roleplays.scenario import ScenarioDoc
from content_schema import ContentValidationError
from grading.call import ENDINGS, CallState

from tests.support.roleplays import ZH_SLUG, good_reply

OUTCOMES = ("deescalate", "stay", "escalate")


def _play_resolved(app, user_id: int) -> int:
    """A whole typed call on the zh-CN scenario, through the services; returns the attempt id."""
    with app.app_context():
        attempt = operations.start_attempt(user_id, ZH_SLUG, "typed")
        operations.answer_call(attempt, 1)
        doc = queries.doc_of(attempt)
        for node in ("opening", "ticket-status", "refund-demand", "confirm-plan"):
            attempt = db.session.get(Attempt, attempt.id)
            turn = operations.submit_typed(attempt, good_reply(doc, node, greeting=node == "opening",
                                                               closing=node == "confirm-plan"))
            grader.grade_turn(turn.id)
        return attempt.id


def test_sync_loads_every_scenario_with_audio_and_the_phrasebook(app, content):
    with app.app_context():
        rows = db.session.scalars(select(Scenario)).all()
        assert len(rows) == 10 and all(not row.retired for row in rows)
        for row in rows:
            version = row.current_version
            assert version.version == 1 and len(version.checksum) == 64
            doc = ScenarioDoc(version.spec)
            assert set(version.audio) == set(doc.nodes)
            for name in version.audio.values():
                assert (Path(app.config["AUDIO_CACHE_DIR"]) / name).stat().st_size > 1000
            # The stored spec is fully resolved: library phrases are in, nothing refers back to the library.
            assert all(item.phrases or item.elements or item.patterns for node in doc.nodes.values() for item in node.rubric)
        broadband = ScenarioDoc(queries.get_scenario(ZH_SLUG).current_version.spec)
        assert "我理解您的心情" in broadband.nodes["opening"].rubric[0].phrases
        assert broadband.greeting.points == 2 and broadband.closing.points == 2
        book = db.session.scalar(select(Phrasebook))
        assert book is not None and queries.current_phrasebook().pairs


def test_edited_scenario_becomes_a_new_version_and_old_attempts_keep_their_grade(app, content_copy, make_user):
    user = make_user("li", "learner")
    with app.app_context():
        sync_content(content_copy)
        first = queries.get_scenario(ZH_SLUG).current_version_id
    old_attempt = _play_resolved(app, user.id)
    with app.app_context():
        old = db.session.get(Attempt, old_attempt)
        old_score, old_items = old.score, [t.items for t in old.turns]
        assert old.version_id == first and old.score == 100.0

        report = sync_content(content_copy)  # unchanged: nothing new
        assert not [line for line in report.lines if line.startswith("role-play")]
        assert db.session.scalar(select(func.count()).select_from(ScenarioVersion)) == 10

    path = content_copy / "roleplays" / f"{ZH_SLUG}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("phrases: [请问您的宽带账号是多少, ", "phrases: [请您提供一下宽带账号, "), encoding="utf-8")
    with app.app_context():
        report = sync_content(content_copy)
        assert f"role-play {ZH_SLUG}: version 2" in report.lines
        scenario = queries.get_scenario(ZH_SLUG)
        assert scenario.current_version.version == 2 and scenario.current_version_id != first
        versions = db.session.scalars(select(ScenarioVersion).where(ScenarioVersion.slug == ZH_SLUG)).all()
        assert [v.version for v in versions] == [1, 2]
        new_doc = ScenarioDoc(scenario.current_version.spec)
        assert new_doc.nodes["opening"].rubric[2].phrases[0] == "请您提供一下宽带账号"

        old = db.session.get(Attempt, old_attempt)
        assert old.version_id == first and old.score == old_score
        assert [t.items for t in old.turns] == old_items
        assert grader.regrade_attempt(old_attempt).score == old_score  # regrading changes nothing
        report = presenters.attempt_report(old_attempt)
        assert report["scenario_version"] == 1
        assert operations.start_attempt(user.id, ZH_SLUG, "typed").version.version == 2


def test_removed_scenario_is_retired_then_restored(app, content_copy, make_user):
    user = make_user("li", "learner")
    with app.app_context():
        sync_content(content_copy)
    attempt_id = _play_resolved(app, user.id)
    moved = content_copy.parent / "kept.yaml"
    (content_copy / "roleplays" / f"{ZH_SLUG}.yaml").rename(moved)
    with app.app_context():
        report = sync_content(content_copy)
        assert f"role-play {ZH_SLUG}: retired" in report.lines
        assert queries.get_scenario(ZH_SLUG) is None
        assert ZH_SLUG not in [row.slug for row in queries.library()]
        assert presenters.attempt_report(attempt_id)["score"] == 100.0  # history survives
        with pytest.raises(errors.RoleplayError):
            operations.start_attempt(user.id, ZH_SLUG, "typed")
    moved.rename(content_copy / "roleplays" / f"{ZH_SLUG}.yaml")
    with app.app_context():
        report = sync_content(content_copy)
        assert f"role-play {ZH_SLUG}: restored" in report.lines
        assert queries.get_scenario(ZH_SLUG).current_version.version == 1


def test_a_line_that_cannot_be_spoken_fails_the_sync_naming_scenario_and_node(app, content_copy):
    path = content_copy / "roleplays" / f"{ZH_SLUG}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    line: 修好是应该的！这三天我在家根本没法上班，这个月的网费你们得全退给我！",
                                 "    line: ……！？"), encoding="utf-8")
    with app.app_context():
        with pytest.raises(ContentValidationError) as caught:
            sync_content(content_copy)
        message = str(caught.value)
        assert ZH_SLUG in message and '"refund-demand"' in message and "synthesized" in message
        assert db.session.scalar(select(func.count()).select_from(Scenario)) == 0  # all or nothing


def _explore(doc: ScenarioDoc) -> tuple[set[str], set[str]]:
    """Every node and ending a call can really reach, following the call engine itself."""
    start = CallState(doc.start, int(doc.starting_anger))
    seen, queue = {start}, deque([start])
    nodes, endings = {doc.start}, set()
    while queue:
        state = queue.popleft()
        for outcome in OUTCOMES:
            after = state.step(doc.nodes[state.node].next, outcome, anger_step=doc.anger_step,
                               hangup_after_poor=int(doc.hangup_after_poor))
            key = CallState(after.node, after.anger, after.consecutive_poor)
            if after.ended:
                endings.add(after.node)
            elif key not in seen:
                nodes.add(after.node)
                seen.add(key)
                queue.append(key)
    return nodes, endings


def test_every_shipped_scenario_reaches_every_node_and_ending(app, content):
    with app.app_context():
        scenarios = queries.library()
        assert len(scenarios) == 10
        for row in scenarios:
            doc = ScenarioDoc(row.current_version.spec)
            nodes, endings = _explore(doc)
            assert nodes == set(doc.nodes), (row.slug, set(doc.nodes) - nodes)
            assert endings == set(ENDINGS), (row.slug, set(ENDINGS) - endings)
            assert len(doc.nodes) >= 4
