"""Validation messages in the UI language (by their content_schema code), and the starters' example text:
placeholders in the form, refused at publish."""
import re
import string
from pathlib import Path

from babel.messages.pofile import read_po

from app.content.messages import MESSAGES, describe
from content_schema import ContentError
from content_schema.messages import TEMPLATES
from tests.support.authoring import SLUG, draft_row, scenario_yaml

CATALOG = Path(__file__).resolve().parents[3] / "app/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
BAD_SLUG = scenario_yaml().replace(f"slug: {SLUG}", 'slug: "Wrong Address!"')
BAD_YAML = "slug: parcel-late\nnodes: [\n"


def _set_language(author, language):
    with author.client.session_transaction() as session:
        session["lang"] = language


def _errors(html: str) -> str:
    block = html[html.index('id="error-summary"'):]
    return block[: block.index("</div>")]


def test_every_code_content_schema_can_emit_is_translated():
    with open(CATALOG, "rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    assert set(MESSAGES) == set(TEMPLATES)
    formatter = string.Formatter()
    for code, english in TEMPLATES.items():
        msgid = MESSAGES[code]._args[0]
        entry = catalog.get(msgid)
        assert entry is not None and entry.string and not entry.fuzzy, code
        given = {name for _, name, _, _ in formatter.parse(english) if name} | {"line", "column"}
        asked = set(re.findall(r"%\((\w+)\)s", msgid))
        assert asked <= given, (code, asked - given)
        assert set(re.findall(r"%\((\w+)\)s", entry.string)) == asked, code


def test_a_bad_slug_is_said_in_chinese_in_the_chinese_editor(app, author, content):
    _set_language(author, "zh-CN")
    response = author.import_scenario(BAD_SLUG)
    assert response.status_code == 422
    errors = _errors(response.get_data(as_text=True))
    assert "“Wrong Address!”不是有效的标识" in errors
    assert "is not a valid slug" not in errors and "expected" not in errors
    assert draft_row(app, SLUG) is None


def test_a_bad_slug_is_said_in_english_in_the_english_editor(app, author, content):
    response = author.import_scenario(BAD_SLUG)
    errors = _errors(response.get_data(as_text=True))
    assert "slug: “Wrong Address!” is not a valid slug: use 2 to 63 lowercase letters" in errors


def test_a_yaml_syntax_error_names_line_and_column_in_each_language(app, author, content):
    _set_language(author, "zh-CN")
    errors = _errors(author.import_scenario(BAD_YAML).get_data(as_text=True))
    assert "YAML 无法解析：第 3 行第 1 列附近格式有误" in errors and "YAML syntax error" not in errors
    _set_language(author, "en")
    errors = _errors(author.import_scenario(BAD_YAML).get_data(as_text=True))
    assert "The YAML cannot be read at line 3, column 1" in errors


def test_a_form_error_is_in_chinese_on_its_field(app, author, content):
    author.import_scenario(scenario_yaml())
    fields = author.form_fields(f"/authoring/scenarios/{SLUG}/edit")
    _set_language(author, "zh-CN")
    response = author.post(f"/authoring/scenarios/{SLUG}/edit", {**fields, "pass_mark": "170"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="e-pass_mark">pass_mark：数值不能大于 100（实际为 170）。</p>', html)


def test_an_error_without_a_known_code_reads_as_its_english_text(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert describe(ContentError("x.yaml", 1, "something odd", ("a",), "no.such.code", {}, "a")) == \
            "something odd"
        assert describe(ContentError("x.yaml", 1, "plain English", None)) == "plain English"


def test_the_new_scenario_form_shows_example_text_as_placeholders(app, author, content):
    html = author.get("/authoring/scenarios/new").get_data(as_text=True)
    facts = re.search(r'<textarea id="f-case_facts_zh"[^>]*>([^<]*)</textarea>', html)
    assert facts and facts.group(1) == ""
    assert 'placeholder="写下客户是谁、发生了什么、座席可以做什么。"' in html
    title = re.search(r'<input type="text" id="f-title_en"[^>]*>', html).group(0)
    assert 'value=""' in title and 'placeholder="New scenario"' in title


def test_publishing_refuses_example_text_and_names_the_field(app, author, content):
    from app.authoring.starters import STARTER_SCENARIO
    untouched = STARTER_SCENARIO.replace("slug: new-scenario", f"slug: {SLUG}")
    assert author.import_scenario(untouched).status_code == 302  # a draft may hold it
    response = author.post(f"/authoring/scenarios/{SLUG}/publish", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "“Case facts (English, optional)” still holds the example text" in html
    assert "“Case facts (Chinese)” still holds the example text" in html
    assert draft_row(app, SLUG).status == "draft" and draft_row(app, SLUG).published_version is None
    # once written, it publishes
    assert author.post(f"/authoring/scenarios/{SLUG}/yaml", {"text": scenario_yaml(),
                                                              "base_checksum": draft_row(app, SLUG).checksum}
                       ).status_code == 302
    author.post(f"/authoring/scenarios/{SLUG}/publish")
    assert draft_row(app, SLUG).status == "published"
