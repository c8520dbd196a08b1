"""Reviews: the queue and its filters, grade-now for pending replies, overrides that re-score the call and
are logged, the learner seeing the comments, flags, who may do what, and the agreement report."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.core import events
from app.extensions import db
from app.reviews import services
from app.reviews.models import ItemOverride, Review, ReviewFlag
from app.roleplays import errors as roleplay_errors
from app.roleplays import operations as roleplay_operations
from app.roleplays import queries as roleplay_queries
from app.roleplays import recordings as roleplay_recordings
from app.roleplays.models import Attempt, Turn
from grading.scoring import is_passed, percent
from tests.app.assignments.helpers import Drill, failed_call, good_call
from tests.support.web import csrf_token, login_as


@pytest.fixture
def graded_events():
    received = []

    def listen(sender, **details):
        received.append((sender, details))

    events.roleplay_attempt_graded.connect(listen)
    yield received
    events.roleplay_attempt_graded.disconnect(listen)


def override(client, attempt_id, turn_id, item_id, points, comment="听录音，客户其实已经被安抚了"):
    token = csrf_token(client, "/reviews")
    return client.post(f"/reviews/attempts/{attempt_id}/override", data={
        "csrf_token": token, "turn_id": "" if turn_id is None else str(turn_id), "item_id": item_id,
        "points": str(points), "comment": comment})


def intents(app, attempt_id):
    """(turn id, item id, points) of every matched rubric intent, in call order."""
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        return [(turn.id, item["item_id"], item["points_awarded"]) for turn in attempt.turns
                for item in turn.items if item["kind"] == "intent" and item["matched"]
                and not item["rule"].startswith("call:")]


def expected_points(attempt, overrides: dict) -> tuple[float, float]:
    """(earned, possible) by the QA lead's reading, written out independently of the grader: per reply,
    one point for each judgement that applies and holds (responds / advances: any matched item of theirs
    with points left; rules: no forbidden item still costing points), plus call rules at their points."""
    def points(turn_id, item):
        return overrides.get((turn_id, item["item_id"]), item["points_awarded"])

    earned = possible = 0.0
    for turn in attempt.turns:
        if turn.node_id.startswith("end:"):  # the closing turn: only its goodbye counts
            for rule in turn.items:
                possible += rule["points_possible"]
                earned += points(turn.id, rule)
            continue
        items = [i for i in turn.items if not i["rule"].startswith("call:")]
        for name in ("responds", "advances"):
            mine = [i for i in items if i["kind"] == "intent" and i["judgement"] == name]
            if mine:
                possible += 1
                earned += any(points(turn.id, i) > 0 for i in mine)
        possible += 1
        earned += not any(points(turn.id, i) < 0 for i in items if i["kind"] == "forbidden")
        for rule in [i for i in turn.items if i["rule"].startswith("call:")] + list(turn.delivery or []):
            possible += rule["points_possible"]
            earned += points(turn.id, rule)
    for rule in attempt.call_items or []:
        possible += rule["points_possible"]
        earned += points(None, rule)
    return earned, possible


def test_overrides_rescore_the_call_are_logged_and_the_learner_sees_them(app, client, content, make_user,
                                                                          graded_events):
    learner = make_user("li", "learner", name="学员小李")
    trainer = make_user("qa", "trainer", name="质检王老师")
    attempt_id = good_call(app, Drill(client, learner))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        possible, pass_mark = attempt.possible, attempt.version.pass_mark
        automatic_items = {t.id: [dict(i) for i in t.items] for t in attempt.turns}
        assert attempt.score == 100.0 and attempt.passed
    graded_events.clear()

    trainer_client = app.test_client()
    login_as(trainer_client, trainer)
    page = trainer_client.get(f"/reviews/attempts/{attempt_id}").get_data(as_text=True)
    assert 'name="comment"' in page and "我理解您的心情" in page

    # Take intents away one at a time until the call no longer passes: the score follows each time,
    # by judgements (taking one of two acceptable items away leaves its judgement held).
    taken = []
    for turn_id, item_id, points in intents(app, attempt_id):
        response = override(trainer_client, attempt_id, turn_id, item_id, 0)
        assert response.status_code == 302
        taken.append((turn_id, item_id, points))
        with app.app_context():
            attempt = db.session.get(Attempt, attempt_id)
            earned, expected_possible = expected_points(attempt, {(t, i): 0.0 for t, i, _p in taken})
            assert expected_possible == possible
            assert attempt.score == percent(earned, possible)
            assert attempt.passed is is_passed(attempt.score, pass_mark)
        if not is_passed(percent(earned, possible), pass_mark):
            break
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.passed is False and attempt.earned == pytest.approx(earned)
        # The automatic grade on the turns is untouched.
        assert {t.id: t.items for t in attempt.turns} == automatic_items
        rows = db.session.scalars(select(ItemOverride).order_by(ItemOverride.id)).all()
        assert [(r.turn_id, r.item_id, r.points_before, r.points_after) for r in rows] == [
            (t, i, p, 0.0) for t, i, p in taken]
        assert all(r.reviewer_id == trainer.id and r.created_at and r.comment and r.automatic > 0 for r in rows)
        assert db.session.scalar(select(Review.reviewer_id)) == trainer.id
    # Certification was told each time, with the new result.
    assert graded_events[-1] == (learner.id, {"attempt_id": attempt_id, "scenario_slug": "broadband-outage-refund",
                                              "passed": False, "score": percent(earned, possible)})

    # A second change of the same item logs before = the previous override.
    turn_id, item_id, points = taken[0]
    assert override(trainer_client, attempt_id, turn_id, item_id, points / 2,
                    "<b>部分</b>做到了").status_code == 302
    with app.app_context():
        last = db.session.scalars(select(ItemOverride).order_by(ItemOverride.id.desc())).first()
        assert (last.points_before, last.points_after, last.automatic) == (0.0, points / 2, points)
        attempt = db.session.get(Attempt, attempt_id)
        overrides = {(t, i): 0.0 for t, i, _p in taken}
        overrides[(turn_id, item_id)] = points / 2
        earned = expected_points(attempt, overrides)[0]
        assert attempt.score == percent(earned, possible)

    # The learner sees the comments (escaped) and the new score on the report.
    report = client.get(f"/roleplays/attempts/{attempt_id}/report").get_data(as_text=True)
    assert 'id="rp-review"' in report and "听录音，客户其实已经被安抚了" in report and "质检王老师" in report
    assert "&lt;b&gt;部分&lt;/b&gt;做到了" in report and "<b>部分</b>" not in report
    assert f"{percent(earned, possible):g}%" in report
    log = trainer_client.get(f"/reviews/attempts/{attempt_id}").get_data(as_text=True)
    assert 'id="rv-log"' in log and log.count("听录音，客户其实已经被安抚了") >= len(taken)


def test_override_bounds_and_required_comment(app, client, content, make_user):
    learner = make_user("li", "learner")
    trainer = make_user("qa", "trainer")
    attempt_id = failed_call(app, Drill(client, learner))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        first = attempt.turns[0]
        intent = next(i for i in first.items if i["kind"] == "intent" and not i["rule"].startswith("call:"))
        said = next(i for i in first.items if i["kind"] == "forbidden" and i["matched"])
        worth = -said["points_awarded"]
        score = attempt.score
        doc = roleplay_queries.doc_of(attempt)
        assert services.item_range(doc, first.node_id, said) == (-worth, 0.0)
        assert services.item_range(doc, first.node_id, intent) == (0.0, intent["points_possible"])
        turn_id = first.id
    login_as(client, trainer)
    refused = [
        (intent["item_id"], intent["points_possible"] + 1, "x"),   # above the intent's points
        (intent["item_id"], -1, "x"),                             # intents never go negative
        (said["item_id"], 1, "x"),                                # forbidden items only take away
        (said["item_id"], -worth - 1, "x"),
        (intent["item_id"], 1, "   "),                            # a comment is required
        ("no-such-item", 0, "x"),
        (said["item_id"], said["points_awarded"], "x"),           # no change
    ]
    for item_id, points, comment in refused:
        response = override(client, attempt_id, turn_id, item_id, points, comment)
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "flash-error" in page, (item_id, points, comment)
    with app.app_context():
        assert db.session.scalars(select(ItemOverride)).all() == []
        assert db.session.get(Attempt, attempt_id).score == score

    # Forgiving the forbidden phrase (0 points) gives that reply its "within the rules" point back.
    assert override(client, attempt_id, turn_id, said["item_id"], 0, "这句话在这里并无不妥").status_code == 302
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        if not any(i["kind"] == "forbidden" and i["matched"] and i["item_id"] != said["item_id"]
                   for i in attempt.turns[0].items):
            assert attempt.score > score
        assert attempt.score == percent(*expected_points(attempt, {(turn_id, said["item_id"]): 0.0}))


def test_apply_overrides_matches_a_fresh_computation(app, client, content, make_user):
    attempt_id = good_call(app, Drill(client, make_user("li", "learner")))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        automatic = (attempt.earned, attempt.score, attempt.passed)
        turn = attempt.turns[0]
        forbidden = next(i for i in turn.items if i["kind"] == "forbidden")
        rubric_intents = [i for i in turn.items if i["kind"] == "intent" and not i["rule"].startswith("call:")]
        worth = next(r.points for r in roleplay_queries.doc_of(attempt).nodes[turn.node_id].rubric
                     if r.id == forbidden["item_id"])
        # Every intent of the first reply to 0 and its forbidden item said: the reply's rubric part is 0, not
        # negative; the greeting (a call rule) keeps its points.
        wanted = {(turn.id, i["item_id"]): 0 for i in rubric_intents}
        wanted[(turn.id, forbidden["item_id"])] = -worth
        call_rule = next(i for i in attempt.call_items)
        wanted[(None, call_rule["item_id"])] = 0
        result = roleplay_operations.apply_overrides(attempt_id, wanted)
        # That reply now responds to nobody, advances nothing and broke a rule: its three judgement
        # points and the call rule's points are lost, and a broken rule fails the call.
        earned, possible = expected_points(result, wanted)
        assert earned == pytest.approx(automatic[0] - 3 - call_rule["points_awarded"])
        assert result.earned == pytest.approx(earned) and possible == pytest.approx(attempt.possible)
        assert result.score == percent(earned, possible) and result.passed is False
        # {} restores the automatic result; unknown items and out-of-range points are refused.
        assert roleplay_operations.apply_overrides(attempt_id, {}).score == automatic[1]
        with pytest.raises(roleplay_errors.RoleplayError):
            roleplay_operations.apply_overrides(attempt_id, {(turn.id, "nope"): 0})
        with pytest.raises(roleplay_errors.RoleplayError):
            roleplay_operations.apply_overrides(attempt_id, {(turn.id, rubric_intents[0]["item_id"]): 99})


def test_learners_and_hr_cannot_override(app, client, content, make_user):
    learner = make_user("li", "learner")
    attempt_id = good_call(app, Drill(client, learner))
    turn_id, item_id, _points = intents(app, attempt_id)[0]
    assert override(client, attempt_id, turn_id, item_id, 0).status_code == 403
    assert client.get(f"/reviews/attempts/{attempt_id}").status_code == 403
    assert client.get("/reviews").status_code == 403
    hr = app.test_client()
    login_as(hr, make_user("hr", "hr"))
    assert override(hr, attempt_id, turn_id, item_id, 0).status_code == 403
    assert hr.get("/reviews/agreement").status_code == 403
    with app.app_context():
        assert db.session.scalars(select(ItemOverride)).all() == []
        assert db.session.get(Attempt, attempt_id).score == 100.0


def test_queue_filters_flags_and_review(app, client, content, make_user):
    learner = make_user("li", "learner")
    other = make_user("wang", "learner")
    trainer = make_user("qa", "trainer")
    drill = Drill(client, learner)
    passed = good_call(app, drill)
    failed = failed_call(app, drill)

    # The learner flags their failed call from the report; someone else cannot flag it.
    report = client.get(f"/roleplays/attempts/{failed}/report").get_data(as_text=True)
    assert f'action="/reviews/attempts/{failed}/flag"' in report
    response = client.post(f"/reviews/attempts/{failed}/flag", data={"csrf_token": drill.token,
                                                                     "reason": "我明明道歉了"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/attempts/{failed}/report")
    client.post(f"/reviews/attempts/{failed}/flag", data={"csrf_token": drill.token})  # once is enough
    report = client.get(f"/roleplays/attempts/{failed}/report").get_data(as_text=True)
    assert 'id="rp-flagged"' in report and f'action="/reviews/attempts/{failed}/flag"' not in report
    stranger = app.test_client()
    login_as(stranger, other)
    token = csrf_token(stranger, "/roleplays/")
    assert stranger.post(f"/reviews/attempts/{failed}/flag", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        (flag,) = db.session.scalars(select(ReviewFlag)).all()
        assert flag.flagged_by == learner.id and flag.reason == "我明明道歉了" and flag.resolved_at is None

    login_as(client, trainer)

    def listed(name):
        page = client.get(f"/reviews?filter={name}").get_data(as_text=True)
        return {int(i) for i in re.findall(r'data-attempt-id="(\d+)"', page)}

    assert listed("newest") == {passed, failed}
    assert listed("failed") == {failed}
    assert listed("flagged") == {failed}
    assert listed("unreviewed") == {passed, failed}
    assert listed("pending") == set()
    page = client.get(f"/reviews/attempts/{failed}").get_data(as_text=True)
    assert "我明明道歉了" in page
    assert 'href="/certification/signoffs"' in client.get("/reviews").get_data(as_text=True)

    token = csrf_token(client, "/reviews")
    assert client.post(f"/reviews/attempts/{failed}/reviewed", data={"csrf_token": token}).status_code == 302
    assert listed("flagged") == set() and listed("unreviewed") == {passed}
    with app.app_context():
        flag = db.session.scalars(select(ReviewFlag)).one()
        assert flag.resolved_by == trainer.id and flag.resolved_at is not None

    # A trainer may flag too, and resolve a flag by hand.
    client.post(f"/reviews/attempts/{passed}/flag", data={"csrf_token": token, "reason": "示范录音"})
    assert listed("flagged") == {passed}
    with app.app_context():
        flag_id = db.session.scalar(select(ReviewFlag.id).where(ReviewFlag.resolved_at.is_(None)))
    client.post(f"/reviews/flags/{flag_id}/resolve", data={"csrf_token": token})
    assert listed("flagged") == set()


def test_grade_now_grades_a_pending_attempt(app, client, content, make_user):
    from tests.support.roleplays import ZH_SLUG, good_reply, scenario_doc
    learner = make_user("li", "learner")
    trainer = make_user("qa", "trainer")
    drill = Drill(client, learner)
    attempt_id = drill.start(ZH_SLUG, "typed")
    drill.answer(attempt_id)
    with app.app_context():  # a reply saved but not graded (the grader was down)
        attempt = db.session.get(Attempt, attempt_id)
        turn = roleplay_operations.submit_typed(attempt, good_reply(scenario_doc(app, ZH_SLUG), "opening", greeting=True))
        turn_id = turn.id
        db.session.execute(Turn.__table__.update().where(Turn.id == turn_id).values(status="pending"))
        db.session.commit()

    login_as(client, trainer)
    page = client.get("/reviews?filter=pending").get_data(as_text=True)
    assert f'data-attempt-id="{attempt_id}"' in page and f'action="/reviews/attempts/{attempt_id}/regrade"' in page
    token = csrf_token(client, "/reviews")
    response = client.post(f"/reviews/attempts/{attempt_id}/regrade", data={"csrf_token": token,
                                                                            "back": "pending"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/reviews?filter=pending")
    with app.app_context():
        turn = db.session.get(Turn, turn_id)
        assert turn.status == "graded" and turn.score_fraction == 1.0
        assert db.session.get(Attempt, attempt_id).status == "in_call"  # the call moved on
    assert f'data-attempt-id="{attempt_id}"' not in client.get("/reviews?filter=pending").get_data(as_text=True)


def test_review_page_plays_each_recording(app, client, content, make_user):
    learner = make_user("li", "learner")
    attempt_id = good_call(app, Drill(client, learner))
    with app.app_context():  # as if the replies had been spoken: recordings on disk
        from tests.support.roleplays import pcm_wav
        folder = roleplay_recordings.recordings_dir() / f"u{learner.id}" / f"a{attempt_id}"
        folder.mkdir(parents=True, exist_ok=True)
        turn_ids = []
        for turn in db.session.get(Attempt, attempt_id).turns:
            (folder / f"{turn.seq}.wav").write_bytes(pcm_wav(b"\x00\x10" * 8000))
            turn.recording_path = f"u{learner.id}/a{attempt_id}/{turn.seq}.wav"
            turn_ids.append(turn.id)
        db.session.commit()
    trainer = app.test_client()
    login_as(trainer, make_user("qa", "trainer"))
    page = trainer.get(f"/reviews/attempts/{attempt_id}").get_data(as_text=True)
    for turn_id in turn_ids:
        assert f'src="/roleplays/turns/{turn_id}/recording"' in page
    response = trainer.get(f"/roleplays/turns/{turn_ids[0]}/recording")
    assert response.status_code == 200 and response.mimetype == "audio/wav"


def test_agreement_per_rule_on_a_constructed_set(app, client, content, make_user):
    learner = make_user("li", "learner")
    trainer = make_user("qa", "trainer")
    drill = Drill(client, learner)
    first, second, unreviewed = (good_call(app, drill) for _ in range(3))
    with app.app_context():
        reviewer = db.session.get(type(trainer), trainer.id)
        services.mark_reviewed(first, reviewer)  # agreed with everything
        a2 = db.session.get(Attempt, second)
        ack = [(t.id, i) for t in a2.turns for i in t.items if i["rule"] == "intent:acknowledge_feeling"]
        apologise = [(t.id, i) for t in a2.turns for i in t.items if i["rule"] == "intent:apologise"]
        assert len(ack) >= 2 and apologise
        for turn_id, item in ack:       # every acknowledgement in the second call judged wrong
            services.override_item(second, turn_id, item["item_id"], 0, "没有真正共情", reviewer)
        turn_id, item = apologise[0]    # one apology changed, then set back: that is agreement again
        services.override_item(second, turn_id, item["item_id"], 0, "道歉太敷衍", reviewer)
        services.override_item(second, turn_id, item["item_id"], item["points_awarded"], "再听一遍，可以", reviewer)

        counts: dict[str, int] = {}
        for attempt_id in (first, second):
            attempt = db.session.get(Attempt, attempt_id)
            for turn in attempt.turns:
                for i in list(turn.items) + list(turn.delivery):
                    counts[i["rule"]] = counts.get(i["rule"], 0) + 1
            for i in attempt.call_items:
                counts[i["rule"]] = counts.get(i["rule"], 0) + 1
        rules, calls = services.agreement("zh-CN")
    assert calls == 2  # the unreviewed call is not counted
    assert unreviewed
    by_rule = {r.rule: r for r in rules}
    assert {rule: r.reviewed for rule, r in by_rule.items()} == counts
    worst = rules[0]
    assert worst.rule == "intent:acknowledge_feeling"
    assert (worst.reviewed, worst.overridden, worst.lowered, worst.raised) == (
        counts["intent:acknowledge_feeling"], len(ack), len(ack), 0)
    assert worst.agreement == pytest.approx(1 - len(ack) / counts["intent:acknowledge_feeling"])
    assert by_rule["intent:apologise"].overridden == 0 and by_rule["intent:apologise"].agreement == 1.0
    assert all(r.agreement == 1.0 for r in rules[1:])

    login_as(client, trainer)
    page = client.get("/reviews/agreement").get_data(as_text=True)
    rows = re.findall(r'<tr data-rule="([^"]+)">', page)
    assert rows[0] == "intent:acknowledge_feeling" and len(rows) == len(counts)
    expected = round(worst.agreement * 100)
    assert re.search(rf'data-rule="intent:acknowledge_feeling">.*?agreement-rate">{expected}%', page, re.S)
