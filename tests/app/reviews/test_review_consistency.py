"""After a trainer's override everything derived from the item follows it (verdict, judgement, the reply's
percentage and tips, the call's score and verdict), the call shows it was reviewed (by whom, when), and
the trainer's one overall comment reaches the trainee's report."""
from __future__ import annotations

from app.extensions import db
from app.reviews import services
from app.roleplays import presenters as roleplay_presenters
from app.roleplays.models import Attempt
from tests.support.roleplays import ZH_SLUG, Drill, good_reply, scenario_doc
from tests.support.web import csrf_token, login_as


def _call_with_a_missed_refund(app, client, learner) -> int:
    doc = scenario_doc(app, ZH_SLUG)
    drill = Drill(client, learner)
    attempt_id = drill.start(ZH_SLUG, "typed")
    drill.answer(attempt_id)
    for text in (good_reply(doc, "opening", greeting=True), good_reply(doc, "ticket-status"),
                 good_reply(doc, "refund-demand", only=("ack",)), good_reply(doc, "supervisor"),
                 doc.closing.phrases[0]):
        assert drill.say(attempt_id, text).status_code == 200
    return attempt_id


def _refund_turn(report: dict) -> dict:
    return next(t for t in report["turns"] if t["node_id"] == "refund-demand")


def test_an_override_changes_everything_derived_from_the_item(app, client, content, make_user):
    learner = make_user("li", "learner", name="学员小李")
    trainer = make_user("qa", "trainer", name="质检王老师")
    attempt_id = _call_with_a_missed_refund(app, client, learner)
    with app.app_context():
        before = roleplay_presenters.attempt_report(attempt_id, "en")
        turn = _refund_turn(before)
        route = next(i for i in turn["items"] if i["item_id"] == "refund-route")
        assert not route["matched"] and turn["percent"] == 67 and not turn["passed"]
        assert any("refund" in tip.lower() for tip in turn["tips"])
        score_before = before["score"]

    login_as(client, trainer)
    token = csrf_token(client, "/reviews")
    page = client.get(f"/reviews/attempts/{attempt_id}").get_data(as_text=True)
    assert 'id="mark-reviewed"' in page and 'id="rv-reviewed"' not in page
    response = client.post(f"/reviews/attempts/{attempt_id}/override", data={
        "csrf_token": token, "turn_id": str(turn["id"]), "item_id": "refund-route", "points": "3",
        "comment": "他其实说了会登记减免，录音里听得很清楚"})
    assert response.status_code == 302

    with app.app_context():
        after = roleplay_presenters.attempt_report(attempt_id, "en")
        turn_after = _refund_turn(after)
        route = next(i for i in turn_after["items"] if i["item_id"] == "refund-route")
        assert route["matched"] and route["points_awarded"] == 3
        advances = next(j for j in turn_after["judgements"] if j["name"] == "advances")
        assert advances["held"]
        assert turn_after["percent"] == 100 and turn_after["passed"] and turn_after["overridden"]
        assert not any("refund" in tip.lower() for tip in turn_after["tips"])
        assert after["score"] > score_before
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.score == after["score"]
        # The automatic grade itself is kept as it was.
        stored = next(i for t in attempt.turns for i in t.items if i["item_id"] == "refund-route"
                      and t.node_id == "refund-demand")
        assert stored["points_awarded"] == 0

    # After the override the call counts as reviewed: who and when, and no second "mark as reviewed".
    page = client.get(f"/reviews/attempts/{attempt_id}").get_data(as_text=True)
    assert 'id="rv-reviewed"' in page and "质检王老师" in page
    assert 'id="mark-reviewed"' not in page and 'id="save-review-comment"' in page
    assert f'<span class="badge rp-percent">100%</span>' in page

    # One overall comment for the trainee.
    response = client.post(f"/reviews/attempts/{attempt_id}/reviewed", data={
        "csrf_token": token, "comment": "整体不错，退费途径要主动说全。"})
    assert response.status_code == 302
    with app.app_context():
        summary = services.review_summary(attempt_id)
        assert summary.comment == "整体不错，退费途径要主动说全。" and summary.reviewers == ["质检王老师"]
    too_long = client.post(f"/reviews/attempts/{attempt_id}/reviewed", data={
        "csrf_token": token, "comment": "长" * 2001})
    assert too_long.status_code == 302
    with app.app_context():
        assert services.review_summary(attempt_id).comment == "整体不错，退费途径要主动说全。"

    login_as(client, learner)
    report = client.get(f"/roleplays/attempts/{attempt_id}/report").get_data(as_text=True)
    assert 'id="rp-overall-comment"' in report and "整体不错，退费途径要主动说全。" in report
    assert 'id="rp-reviewed"' in report and "质检王老师" in report
    refund_section = report[report.index(f'id="turn-{turn["id"]}"'):]
    refund_section = refund_section[:refund_section.index("</section>")]
    assert '<span class="badge rp-percent">100%</span>' in refund_section
    assert "rp-miss" not in refund_section.split("rp-judgements")[1].split("</ul>")[0]
