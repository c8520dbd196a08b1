"""Try a reply: score a typed answer at one node of the draft with the CLI's grading engine."""
from tests.support.authoring import SLUG, scenario_yaml

TRY = f"/authoring/scenarios/{SLUG}/try"


def test_a_good_reply_deescalates_and_a_poor_one_escalates(app, author, content):
    author.import_scenario(scenario_yaml())
    good = author.json(TRY, {"node": "opening", "text": "我理解您的心情，非常抱歉给您添麻烦了。"})
    assert good.status_code == 200
    result = good.json
    assert result["node"] == "opening" and result["transition"]["outcome"] == "deescalate"
    assert result["transition"]["next"] == "plan" and result["transition"]["anger_after"] < result["transition"]["anger_before"]
    items = {item["item_id"]: item for item in result["items"]}
    assert items["ack"]["matched"] and items["ack"]["evidence"] and items["apologise"]["matched"]
    assert not items["no-blame"]["matched"]
    poor = author.json(TRY, {"node": "opening", "text": "这是你自己的问题。"}).json
    assert poor["transition"]["outcome"] == "escalate" and poor["transition"]["next"] == "angry"
    assert poor["tips"]  # what was missed, in words
    assert poor["earned"] < good.json["earned"]


def test_try_uses_the_draft_not_the_published_version(app, author, content):
    author.import_scenario(scenario_yaml())
    author.post(f"/authoring/scenarios/{SLUG}/publish")
    text = scenario_yaml(**{"        phrases: [我马上帮您转接主管]\n": "        phrases: [请您稍等我去请示]\n"})
    assert author.post(f"/authoring/scenarios/{SLUG}/yaml", {"text": text}).status_code == 302
    result = author.json(TRY, {"node": "supervisor", "text": "请您稍等我去请示"}).json
    assert result["items"][0]["matched"] is True


def test_try_on_a_shipped_scenario(app, author, content):
    result = author.json("/authoring/scenarios/broadband-outage-refund/try",
                         {"node": "supervisor", "text": "我马上帮您转接值班主管，感谢您的耐心。"}).json
    assert result["transition"]["next"] == "end:transferred"


def test_bad_requests(app, author, content):
    author.import_scenario(scenario_yaml())
    assert author.json(TRY, {"node": "opening", "text": "  "}).status_code == 400
    assert author.json(TRY, {"node": "no-such-node", "text": "您好"}).status_code == 400
    assert author.json(TRY, {"node": "opening"}).status_code == 400
    assert author.json("/authoring/scenarios/no-such-thing/try", {"node": "opening", "text": "您好"}).status_code == 404


def test_without_javascript_the_page_shows_the_result(app, author, content):
    author.import_scenario(scenario_yaml())
    response = author.post(TRY, {"node": "opening", "text": "我理解您的心情"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="try-summary"' in html and "<code>ack</code>" in html
