"""The one error shape: a UserError no view catches is answered by app/core/errors.py, as JSON
{error: code, message} to scripts and API callers and as the error page to browsers, after the
request's database work is rolled back; and every refusal class in app/ has a code and a status."""
from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from flask import Blueprint
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

import app as app_package
from app.accounts.models import User
from app.core.access import PUBLIC, allow
from app.core.errors import ACCEPTED_FOR_LATER, UserError
from app.extensions import db

# A message the Chinese catalog already has, so the test reads a real translation.
MESSAGE_EN = "The due date is in the past."
MESSAGE_ZH = "截止日期已过。"


class DueDateRefused(UserError):
    code = "due_date_refused"
    status = 409
    default_message = _l(MESSAGE_EN)


class WithNextStep(UserError):
    code = "with_next_step"
    status = 422

    def json_fields(self) -> dict:
        # "error" must stay the code whatever a subclass adds.
        return {"next_url": "/somewhere", "error": "overridden"}


def _add_user(username: str) -> None:
    db.session.add(User(username=username, name=username, password_hash="-"))
    db.session.flush()


def _test_blueprint() -> Blueprint:
    bp = Blueprint("errors_under_test", __name__)

    @bp.route("/error-test/refuse")
    @bp.route("/api/error-test/refuse")
    @allow(PUBLIC)
    def refuse():
        _add_user("refused-row")
        raise DueDateRefused()

    @bp.route("/error-test/keep")
    @allow(PUBLIC)
    def keep():
        _add_user("kept-row")
        return "kept"

    @bp.route("/error-test/forbidden")
    @allow(PUBLIC)
    def forbidden():
        raise UserError(_l(MESSAGE_EN), code="forbidden_here", status=403)

    @bp.route("/error-test/next-step")
    @allow(PUBLIC)
    def next_step():
        raise WithNextStep("Not yet.")

    @bp.route("/error-test/not-an-error-status")
    @allow(PUBLIC)
    def not_an_error_status():
        raise UserError("Odd.", code="odd", status=200)

    @bp.after_request
    def commit_afterwards(response):
        # Stands for anything that commits after the view (a header's count, a session touch):
        # a refused request's rows must be gone by then.
        db.session.commit()
        return response

    return bp


@pytest.fixture(scope="module")
def refusing_app(app):
    from app import create_app
    fresh = create_app({key: app.config[key] for key in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "DATA_DIR", "UPLOAD_DIR", "RECORDINGS_DIR",
        "AUDIO_CACHE_DIR", "VOSK_MODEL_DIR", "SERVER_NAME")})
    fresh.register_blueprint(_test_blueprint())
    return fresh


def _usernames(application) -> set[str]:
    with application.app_context():
        names = set(db.session.scalars(select(User.username)))
        db.session.remove()
    return names


@pytest.mark.parametrize("headers, kwargs", [
    ({"Accept": "application/json"}, {}),
    ({}, {"json": {}}),  # a JSON body, like the exam page's autosave
], ids=["accept-json", "json-body"])
def test_a_refusal_answers_json_with_its_code_status_and_message(app, refusing_app, headers, kwargs):
    response = refusing_app.test_client().get("/error-test/refuse", headers=headers, **kwargs)
    assert response.status_code == 409
    assert response.json == {"error": "due_date_refused", "message": MESSAGE_ZH}


def test_an_api_path_gets_json_in_the_readers_language(app, refusing_app):
    response = refusing_app.test_client().get("/api/error-test/refuse", headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert response.json == {"error": "due_date_refused", "message": MESSAGE_EN}


def test_a_browser_gets_the_error_page_with_the_message_in_chinese(app, refusing_app):
    response = refusing_app.test_client().get("/error-test/refuse", headers={"Accept": "text/html"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and response.mimetype == "text/html"
    assert 'lang="zh-CN"' in page and MESSAGE_ZH in page and MESSAGE_EN not in page
    assert "error-page" in page


def test_the_error_page_speaks_english_to_an_english_reader(app, refusing_app):
    response = refusing_app.test_client().get("/error-test/refuse",
                                              headers={"Accept": "text/html", "Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and MESSAGE_EN in page and MESSAGE_ZH not in page
    # A refusal is not a malformed request: the page does not say "Bad request".
    assert "Not possible" in page and "Bad request" not in page


def test_an_instance_may_set_its_own_code_and_status(app, refusing_app):
    client = refusing_app.test_client()
    answer = client.get("/error-test/forbidden", headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.json["error"] == "forbidden_here"
    page = client.get("/error-test/forbidden", headers={"Accept-Language": "en"})
    assert page.status_code == 403 and "Not allowed" in page.get_data(as_text=True)


def test_a_subclass_adds_json_fields_but_not_over_code_and_message(app, refusing_app):
    answer = refusing_app.test_client().get("/error-test/next-step", headers={"Accept": "application/json"})
    assert answer.status_code == 422
    assert answer.json == {"error": "with_next_step", "message": "Not yet.", "next_url": "/somewhere"}


def test_a_status_that_is_no_refusal_is_answered_400(app, refusing_app):
    answer = refusing_app.test_client().get("/error-test/not-an-error-status", headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.json["error"] == "odd"


def test_the_database_work_before_a_refusal_is_rolled_back(app, refusing_app):
    client = refusing_app.test_client()
    # The same view code without a refusal: what it adds is committed by the after-request hook ...
    assert client.get("/error-test/keep").status_code == 200
    assert "kept-row" in _usernames(refusing_app)
    # ... so the refused request's row is missing only because the handler rolled it back.
    for headers in ({"Accept": "application/json"}, {"Accept": "text/html"}):
        assert client.get("/error-test/refuse", headers=headers).status_code == 409
        assert "refused-row" not in _usernames(refusing_app)


# --- every refusal class of the app -------------------------------------------------------------

CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def _app_refusal_classes() -> list[type]:
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(module.name)
    # Only the app's own classes: tests (this file too) define subclasses of their own.
    return sorted({cls for cls in _all_subclasses(UserError) if cls.__module__.split(".")[0] == "app"},
                  key=lambda cls: (cls.__module__, cls.__qualname__))


def test_every_refusal_class_has_a_lowercase_code_and_a_client_error_status():
    classes = _app_refusal_classes()
    # The domains converted so far; others join the walk as they derive from UserError.
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in classes}
    assert {"app.accounts.services.NotAllowed", "app.exams.services.AttemptClosed",
            "app.assignments.services.AssignmentError", "app.reviews.services.ReviewError"} <= names
    problems = []
    for cls in classes:
        name = f"{cls.__module__}.{cls.__qualname__}"
        if not isinstance(cls.code, str) or not CODE.match(cls.code):
            problems.append(f"{name}: code {cls.code!r} is not a lowercase identifier")
        # 202 only for "pending": a reply kept and graded later (role-plays' GradingFailed) is
        # accepted work the caller polls for, not a refusal; every other refusal is a 4xx.
        accepted_for_later = cls.status == ACCEPTED_FOR_LATER and cls.code == "pending"
        if not isinstance(cls.status, int) or not (400 <= cls.status <= 499 or accepted_for_later):
            problems.append(f"{name}: status {cls.status!r} is not in 400..499")
    assert problems == []
