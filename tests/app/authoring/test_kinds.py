"""Each kind of authored content is one editor class in EDITOR_KINDS, and the registry adds its pages:
every kind has the whole set of endpoints, trainers only; refusals are UserErrors."""
import pytest
from flask import json

from app.authoring.editor import EDITOR_KINDS, BankEditor, FormEditor, ScenarioEditor
from app.authoring.services import EditRefused
from app.core.access import Role, access_of
from app.core.errors import UserError, handle_user_error
from content_schema import ContentError
from tests.support.authoring import bank_yaml, scenario_yaml
from tests.support.web import csrf_token, login_as

# The pages each kind has, beside its own page "authoring.<kind>": (name, address tail, method).
# Ordered so that a trainer can walk them on one draft (publish before retire).
KIND_PAGES = [
    ("new", "/new", "GET"), ("import", "/import", "GET"), ("edit", "/{slug}/edit", "GET"),
    ("yaml", "/{slug}/yaml", "GET"), ("export", "/{slug}/export", "GET"),
    ("publish", "/{slug}/publish", "POST"), ("retire", "/{slug}/retire", "POST"),
]
# A draft of each kind to walk the pages on: (how the trainer imports it, its slug).
DRAFTS = {"scenario": (lambda author: author.import_scenario(scenario_yaml()), "parcel-late"),
          "bank": (lambda author: author.import_bank(bank_yaml()), "bank-basics")}


def _pages(kind: str, slug: str):
    segment = EDITOR_KINDS[kind].url_segment
    yield f"authoring.{kind}", f"/authoring/{segment}/{slug}", "GET"
    for name, tail, method in KIND_PAGES:
        yield f"authoring.{kind}_{name}", f"/authoring/{segment}" + tail.format(slug=slug), method


def test_the_registry_holds_the_two_editor_classes():
    assert EDITOR_KINDS == {"scenario": ScenarioEditor, "bank": BankEditor}
    for kind, editor_class in EDITOR_KINDS.items():
        assert issubclass(editor_class, FormEditor) and editor_class.kind == kind


@pytest.mark.parametrize("kind", sorted(EDITOR_KINDS))
def test_every_kind_has_every_page_declared_for_trainers(app, kind):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for endpoint, url, method in _pages(kind, "<slug>"):
        assert endpoint in rules, endpoint
        assert rules[endpoint].rule == url, endpoint
        assert method in rules[endpoint].methods, endpoint
        assert access_of(app, endpoint) == frozenset({Role.TRAINER}), endpoint


@pytest.mark.parametrize("kind", sorted(EDITOR_KINDS))
def test_every_page_of_every_kind_refuses_learners_and_serves_trainers(app, author, make_user, content, kind):
    make_draft, slug = DRAFTS[kind]
    assert make_draft(author).status_code == 302
    pages = list(_pages(kind, slug))

    learner = app.test_client()
    login_as(learner, make_user(f"learner-{kind}", "learner"))
    token = csrf_token(learner, "/account/password")
    for endpoint, url, method in pages:
        response = learner.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert response.status_code == 403, endpoint

    for endpoint, url, method in pages:
        response = author.post(url) if method == "POST" else author.get(url)
        assert response.status_code == (302 if method == "POST" else 200), endpoint


def test_a_refused_edit_is_a_user_error_that_keeps_its_errors(app):
    error = ContentError("", 3, "The slug is taken.", ("slug",))
    refused = EditRefused([error], "slug: taken\n")
    assert isinstance(refused, UserError)
    assert (refused.code, refused.status) == ("content_invalid", 422)
    assert refused.errors == [error] and refused.text == "slug: taken\n"
    with app.test_request_context("/authoring/scenarios/new", json={}):
        body, status = handle_user_error(refused)
        assert status == 422
        assert json.loads(body.get_data()) == {"error": "content_invalid", "message": "The slug is taken."}
