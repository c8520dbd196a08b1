"""`flask roleplay score` and `flask roleplay regrade`."""
from __future__ import annotations

import json

from app.extensions import db
from app.roleplays import models, operations

from tests.support.roleplays import ZH_SLUG


def _score(app, *args):
    result = app.test_cli_runner().invoke(args=["roleplay", "score", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_score_a_good_reply_from_the_database(app, content):
    data = _score(app, ZH_SLUG, "--text", "您好，很高兴为您服务。我理解您的心情，非常抱歉，请问您的宽带账号是多少？")
    assert data["source"].startswith("database") and data["node"] == "opening"
    assert data["score"] == 100.0 and data["passed"] is True and isinstance(data["score"], float)
    items = {item["item_id"]: item for item in data["items"]}
    assert items["ack"]["points_awarded"] == 2 and items["ack"]["evidence"] == ["我理解您的心情"]
    assert items["no-hollow"]["matched"] is False
    assert data["transition"] == {"outcome": "deescalate", "next": "ticket-status", "anger_before": 60,
                                  "anger_after": 45, "ended": False}
    assert data["greeting"]["matched"] is True and data["tips"] == [] and data["habitual"] == []


def test_score_a_bad_reply_at_a_node_in_english(app, content):
    data = _score(app, ZH_SLUG, "--node", "refund-demand", "--lang", "en",
                  "--text", "这是公司的规定，你等一下。")
    assert data["score"] == 0.0 and data["passed"] is False
    policy = next(item for item in data["items"] if item["item_id"] == "no-policy")
    assert policy["matched"] and policy["points_awarded"] == -2 and policy["evidence"]
    assert data["transition"]["outcome"] == "escalate" and data["transition"]["next"] == "angry-refund"
    assert any("You said" in tip for tip in data["tips"])  # tips in the requested language
    assert data["habitual"] and data["habitual"][0]["professional"]


def test_score_reads_the_content_files_when_not_synced(app):
    data = _score(app, ZH_SLUG, "--node", "supervisor", "--text", "我马上帮您转接值班主管，感谢您的耐心等待")
    assert data["source"] == "content files" and data["transition"]["next"] == "end:transferred"
    assert data["passed"] is True


def test_score_refuses_unknown_scenarios_and_nodes(app, content):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["roleplay", "score", "nope", "--text", "x"]).exit_code != 0
    result = runner.invoke(args=["roleplay", "score", ZH_SLUG, "--node", "nope", "--text", "x"])
    assert result.exit_code != 0 and "unknown node" in result.output


def test_regrade_command_on_an_attempt_with_nothing_waiting(app, content, make_user):
    user = make_user("li", "learner")
    with app.app_context():
        attempt = operations.start_attempt(user.id, ZH_SLUG, "typed")
        operations.answer_call(attempt, 1)
        turn = operations.submit_typed(attempt, "我理解您的心情，非常抱歉，请问您的宽带账号是多少")
        attempt_id = attempt.id
        assert db.session.get(type(turn), turn.id).status == "received"  # saved, not yet graded
    result = app.test_cli_runner().invoke(args=["roleplay", "regrade", str(attempt_id)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "in_call" and data["turns"][0]["status"] == "graded"
    again = app.test_cli_runner().invoke(args=["roleplay", "regrade", str(attempt_id)])
    assert json.loads(again.output) == data
    assert app.test_cli_runner().invoke(args=["roleplay", "regrade", "999999"]).exit_code != 0


def test_regrade_rescore_grades_a_finished_call_again_on_its_own_version(app, client, content, make_user):
    from tests.support.roleplays import Drill
    drill = Drill(client, make_user("li", "learner"))
    attempt_id = drill.start(ZH_SLUG, "typed")
    drill.answer(attempt_id)
    drill.say(attempt_id, "这是公司的政策，你错了。")
    drill.say(attempt_id, "这是公司的政策，你错了。")
    with app.app_context():
        attempt = db.session.get(models.Attempt, attempt_id)
        assert attempt.status == "ended" and attempt.passed is False
        graded = {t.id: (list(t.items), t.earned, t.score_fraction) for t in attempt.turns}
        finished_at, version_id, score = attempt.finished_at, attempt.version_id, attempt.score
        # As if graded by an older grader that knew nothing of these rules.
        for turn in attempt.turns:
            turn.items = [i for i in turn.items if i["kind"] != "forbidden"]
            turn.earned = turn.possible
        db.session.commit()
    refused = app.test_cli_runner().invoke(args=["roleplay", "regrade", "--rescore", "999999"])
    assert refused.exit_code != 0
    result = app.test_cli_runner().invoke(args=["roleplay", "regrade", "--rescore", str(attempt_id)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        attempt = db.session.get(models.Attempt, attempt_id)
        assert {t.id: (list(t.items), t.earned, t.score_fraction) for t in attempt.turns} == graded
        assert (attempt.finished_at, attempt.version_id, attempt.score, attempt.passed) == (
            finished_at, version_id, score, False)
    assert json.loads(result.output)["score"] == score
