"""Saving drafts: the form and the YAML view validate with the content rules, errors land on their field
or line, and a refused edit changes nothing."""
from sqlalchemy import func, select

from app.authoring.models import Draft
from app.extensions import db
from app.roleplays.models import Scenario
from tests.support.authoring import SLUG, draft_row, scenario_yaml

EDIT = f"/authoring/scenarios/{SLUG}/edit"


def _snapshot(app, slug=SLUG):
    row = draft_row(app, slug)
    return (row.spec, row.document, row.audio, row.checksum, row.updated_at, row.status)


def _draft_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Draft))


def test_form_edit_saves_a_changed_field_and_keeps_what_the_form_does_not_show(app, author, content):
    text = scenario_yaml(**{"pass_mark: 70\n": "pass_mark: 70\nanger_step: {deescalate: -20, stay: 0, escalate: 25}\n"})
    assert author.import_scenario(text).status_code == 302
    fields = author.form_fields(EDIT)
    assert fields["persona_name"] == "李女士" and fields["n0-id"] == "opening" and fields["n3-r0-phrases"] == "我马上帮您转接主管"
    fields["persona_name"] = "赵先生"
    fields["persona_gender"] = "male"
    fields["title_en"] = ""  # English is optional
    response = author.post(EDIT, fields)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/authoring/scenarios/{SLUG}")
    spec = draft_row(app, SLUG).spec
    assert spec["persona"]["name"] == "赵先生" and spec["persona"]["gender"] == "male"
    assert spec["title"] == {"zh-CN": "包裹迟到"}
    assert spec["anger_step"] == {"deescalate": -20, "stay": 0, "escalate": 25}
    assert spec["nodes"]["supervisor"]["rubric"][0]["elements"] == [["主管", "经理", "负责人"], ["转接", "转给", "接通"]]


def test_invalid_form_edit_is_refused_with_field_errors_and_nothing_saved(app, author, content):
    author.import_scenario(scenario_yaml())
    before, drafts = _snapshot(app), _draft_count(app)
    good = author.form_fields(EDIT)
    # Shape errors first (as for files: references and the graph are checked once the shape is right).
    fields = {**good, "n0-line": "   ", "n2-r0-points": "lots", "pass_mark": "170", "n1-stay": "nowhere"}
    response = author.post(EDIT, fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("n0-line", "n2-r0-points", "pass_mark"):
        assert f'id="e-{field}"' in html, field
    assert "nodes.opening.line: The text is empty." in html
    # what was typed is still in the form
    assert 'value="nowhere"' in html and 'value="lots"' in html
    assert _snapshot(app) == before and _draft_count(app) == drafts
    # Then references and the graph, on their fields.
    response = author.post(EDIT, {**good, "n1-stay": "nowhere", "n0-r1-use": "no_such_intent"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("n1-stay", "n0-r1-use"):
        assert f'id="e-{field}"' in html, field
    assert "“nowhere” is not a step of this scenario" in html
    assert "Unknown library entry “no_such_intent”" in html
    assert _snapshot(app) == before and _draft_count(app) == drafts


def test_graph_errors_are_refused_for_a_new_scenario_and_nothing_is_created(app, author, content):
    fields = author.form_fields("/authoring/scenarios/new")
    fields.update(slug="too-small", title_zh="太小的情景", case_facts_zh="只有三个节点。")  # examples are placeholders
    for name in [name for name in fields if name.startswith("n3-")]:
        del fields[name]  # drop the supervisor node: three nodes, end:transferred unreachable
    fields["n0-stay"] = "plan"
    fields["n2-stay"] = "plan"
    fields["n1-escalate"] = "angry"
    response = author.post("/authoring/scenarios/new", fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Only 3 steps; a scenario needs at least 4." in html
    assert "The ending end:transferred is never reached" in html
    assert _draft_count(app) == 0
    with app.app_context():
        assert db.session.scalar(select(Scenario).where(Scenario.slug == "too-small")) is None


def test_duplicate_node_ids_are_refused_on_the_id_field(app, author, content):
    author.import_scenario(scenario_yaml())
    before = _snapshot(app)
    fields = author.form_fields(EDIT)
    fields["n1-id"] = "opening"
    response = author.post(EDIT, fields)
    assert response.status_code == 422 and 'id="e-n1-id"' in response.get_data(as_text=True)
    assert _snapshot(app) == before


def test_renaming_a_node_renames_the_transitions_to_it(app, author, content):
    author.import_scenario(scenario_yaml())
    fields = author.form_fields(EDIT)
    assert fields["n1-id"] == "plan"
    fields["n1-id"] = "promise"
    assert author.post(EDIT, fields).status_code == 302
    nodes = draft_row(app, SLUG).spec["nodes"]
    assert "plan" not in nodes and nodes["opening"]["next"]["deescalate"] == "promise"
    assert nodes["angry"]["next"]["deescalate"] == "promise"


def test_add_and_remove_buttons_post_back_without_saving(app, author, content):
    author.import_scenario(scenario_yaml())
    before = _snapshot(app)
    fields = author.form_fields(EDIT)
    response = author.post(EDIT, {**fields, "action": "add-node"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="n4-id"' in html and 'name="n4-r0-id"' in html
    response = author.post(EDIT, {**fields, "action": "add-item-1"})
    assert 'name="n1-r2-id"' in response.get_data(as_text=True)
    response = author.post(EDIT, {**fields, "action": "remove-item-0-2"})
    assert 'name="n0-r2-id"' not in response.get_data(as_text=True)
    response = author.post(EDIT, {**fields, "action": "remove-node-3"})
    assert 'name="n3-id"' not in response.get_data(as_text=True)
    assert _snapshot(app) == before
    # A new node saved through the form (with the transitions that make it reachable).
    fields = {**fields, "n4-id": "callback", "n4-orig": "", "n4-line": "那你们什么时候给我回电话？", "n4-anger": "40",
              "n4-deescalate": "end:resolved", "n4-stay": "end:resolved", "n4-escalate": "supervisor",
              "n4-r0-id": "next", "n4-r0-kind": "intent", "n4-r0-points": "2", "n4-r0-use": "next_step",
              "n1-stay": "callback"}
    assert author.post(EDIT, fields).status_code == 302
    nodes = draft_row(app, SLUG).spec["nodes"]
    assert nodes["callback"]["rubric"] == [{"id": "next", "points": 2, "use": "next_step"}]
    assert nodes["plan"]["next"]["stay"] == "callback"


def test_yaml_view_errors_carry_line_numbers_and_nothing_is_saved(app, author, content):
    author.import_scenario(scenario_yaml())
    before = _snapshot(app)
    text = author.get(f"/authoring/scenarios/{SLUG}/yaml").get_data(as_text=True)
    assert "slug: parcel-late" in text
    yaml_text = scenario_yaml().replace("    anger: 35\n", "    anger: 350\n").replace("use: next_step", "use: next_steps")
    lines = yaml_text.splitlines()
    anger_line = lines.index("    anger: 350") + 1
    use_line = next(number for number, line in enumerate(lines, 1) if "use: next_steps" in line)
    response = author.post(f"/authoring/scenarios/{SLUG}/yaml", {"text": yaml_text})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'data-line="{anger_line}"' in html and "nodes.plan.anger: The value must be at most 100 (got 350)." in html
    # the reference check runs once the shape is right
    response = author.post(f"/authoring/scenarios/{SLUG}/yaml", {"text": yaml_text.replace("anger: 350", "anger: 35")})
    html = response.get_data(as_text=True)
    assert f'data-line="{use_line}"' in html and "Unknown library entry “next_steps”" in html
    # syntax errors too
    response = author.post(f"/authoring/scenarios/{SLUG}/yaml", {"text": "slug: parcel-late\nnodes: [\n"})
    assert response.status_code == 422 and "The YAML cannot be read at line 3" in response.get_data(as_text=True)
    # a changed slug is refused: slugs are permanent
    response = author.post(f"/authoring/scenarios/{SLUG}/yaml", {"text": scenario_yaml("renamed")})
    assert response.status_code == 422 and "does not match the file name" in response.get_data(as_text=True)
    assert _snapshot(app) == before


def test_yaml_view_saves(app, author, content):
    author.import_scenario(scenario_yaml())
    response = author.post(f"/authoring/scenarios/{SLUG}/yaml",
                           {"text": scenario_yaml(**{"difficulty: 1": "difficulty: 3"})})
    assert response.status_code == 302
    assert draft_row(app, SLUG).spec["difficulty"] == 3


def test_a_stale_form_does_not_overwrite_a_newer_save(app, author, content):
    author.import_scenario(scenario_yaml())
    stale = author.form_fields(EDIT)
    author.post(f"/authoring/scenarios/{SLUG}/yaml", {"text": scenario_yaml(**{"difficulty: 1": "difficulty: 2"}),
                                                      "base_checksum": stale["base_checksum"]})
    stale["persona_name"] = "王女士"
    response = author.post(EDIT, stale)
    assert response.status_code == 422 and "Someone else saved this draft" in response.get_data(as_text=True)
    spec = draft_row(app, SLUG).spec
    assert spec["difficulty"] == 2 and spec["persona"]["name"] == "李女士"


def test_slugs_of_shipped_files_and_reserved_words_are_refused(app, author, content):
    response = author.import_scenario(scenario_yaml("broadband-outage-refund"))
    assert response.status_code == 422 and "already used by a shipped file" in response.get_data(as_text=True)
    response = author.import_scenario(scenario_yaml("new"))
    assert response.status_code == 422
    assert _draft_count(app) == 0


def test_import_of_an_existing_draft_slug_updates_it(app, author, content):
    author.import_scenario(scenario_yaml())
    response = author.import_scenario(scenario_yaml(**{"difficulty: 1": "difficulty: 2"}))
    assert response.status_code == 302
    assert draft_row(app, SLUG).spec["difficulty"] == 2 and _draft_count(app) == 1


def test_upload_a_yaml_file(app, author, content):
    import io
    response = author.post("/authoring/scenarios/import",
                           {"text": "", "upload": (io.BytesIO(scenario_yaml().encode("utf-8")), "parcel-late.yaml")},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and draft_row(app, SLUG) is not None
