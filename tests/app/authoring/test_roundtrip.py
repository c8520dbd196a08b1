"""Export to YAML in the content format and import back: parse(export(x)) == x's spec."""
from pathlib import Path

from app.content.services import load_bundle
from content_schema import load_library, validate_exam_text, validate_scenario_text
from tests.support.authoring import SLUG, bank_yaml, draft_row, scenario_yaml


def test_every_shipped_scenario_round_trips(app, author, content):
    with app.app_context():
        bundle = load_bundle()
    library = load_library(Path(app.config["CONTENT_ROOT"]))
    assert len(bundle.scenarios) >= 10
    for slug, scenario in bundle.scenarios.items():
        response = author.get(f"/authoring/scenarios/{slug}/export")
        assert response.status_code == 200 and response.mimetype == "application/yaml"
        assert response.headers["Content-Disposition"] == f'attachment; filename="{slug}.yaml"'
        again = validate_scenario_text(response.get_data(as_text=True), library=library, filename=f"roleplays/{slug}.yaml")
        assert again.spec == scenario.spec, slug
        assert again.nodes == scenario.nodes, slug


def test_every_shipped_exam_round_trips(app, author, content):
    with app.app_context():
        bundle = load_bundle()
    library = load_library(Path(app.config["CONTENT_ROOT"]))
    for slug, exam in bundle.exams.items():
        response = author.get(f"/authoring/banks/{slug}/export")
        assert response.status_code == 200, slug
        again = validate_exam_text(response.get_data(as_text=True), library=library, filename=f"exams/{slug}.yaml")
        assert again.spec == exam.spec, slug


def test_a_web_scenario_round_trips_and_reimports_unchanged(app, author, content):
    author.import_scenario(scenario_yaml(**{"pass_mark: 70\n": "pass_mark: 72.5\nhangup_after_poor: 3\n"}))
    before = draft_row(app, SLUG)
    exported = author.get(f"/authoring/scenarios/{SLUG}/export").get_data(as_text=True)
    library = load_library(Path(app.config["CONTENT_ROOT"]))
    parsed = validate_scenario_text(exported, library=library, filename=f"roleplays/{SLUG}.yaml")
    stored = validate_scenario_text(scenario_yaml(**{"pass_mark: 70\n": "pass_mark: 72.5\nhangup_after_poor: 3\n"}),
                                    library=library, filename=f"roleplays/{SLUG}.yaml")
    assert parsed.spec == stored.spec
    assert author.import_scenario(exported).status_code == 302
    after = draft_row(app, SLUG)
    assert (after.spec, after.checksum) == (before.spec, before.checksum)
    # The YAML view shows exactly the exported text.
    page = author.get(f"/authoring/scenarios/{SLUG}/yaml").get_data(as_text=True)
    assert "pass_mark: 72.5" in page and "hangup_after_poor: 3" in page


def test_a_shipped_scenario_exported_and_reimported_under_a_new_slug(app, author, content):
    exported = author.get("/authoring/scenarios/locked-account/export").get_data(as_text=True)
    copy = exported.replace("slug: locked-account", "slug: locked-account-copy", 1)
    assert author.import_scenario(copy).status_code == 302
    assert draft_row(app, "locked-account-copy").status == "draft"


def test_a_web_bank_round_trips(app, author, content):
    assert author.import_bank(bank_yaml()).status_code == 302
    exported = author.get("/authoring/banks/bank-basics/export").get_data(as_text=True)
    library = load_library(Path(app.config["CONTENT_ROOT"]))
    assert validate_exam_text(exported, library=library, filename="exams/bank-basics.yaml").spec == \
        validate_exam_text(bank_yaml(), library=library, filename="exams/bank-basics.yaml").spec


def test_unknown_exports_are_not_found(app, author, content):
    assert author.get("/authoring/scenarios/no-such-thing/export").status_code == 404
    assert author.get("/authoring/banks/no-such-thing/export").status_code == 404
