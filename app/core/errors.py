"""One error shape: refusals people can act on, error pages in both languages, JSON for API callers.

Every domain's refusals derive from UserError (a stable machine ``code``, an HTTP ``status`` and a
message in the reader's language). A view that can do better than an error page (re-show a form
with what was typed, redirect back with a flash) catches it; anything it does not catch reaches
the one handler below, which answers JSON to API callers and the error page to everyone else.
"""
from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Reload the page and try again.")),
    401: (_l("Logged out"), _l("Your session has ended. Log in again; nothing you saved was lost.")),
    403: (_l("Not allowed"), _l("Your account does not have access to this page.")),
    404: (_l("Not found"), _l("There is nothing at this address.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too large"), _l("The file or a text field is larger than the limit.")),
    414: (_l("Too large"), _l("The address is too long.")),
    429: (_l("Too many requests"), _l("Slow down and try again in a moment.")),
    500: (_l("Something went wrong"), _l("The error has been logged. Nothing you saved was lost; try again.")),
}


class UserError(Exception):
    """A refused action the person can do something about.

    ``code``: a stable machine name (API clients and tests match on it); ``status``: the HTTP status;
    ``message``: what the person reads, translated when shown (a lazy string or plain text).
    Subclasses set ``code``/``status`` as class attributes; an instance may override either.
    """

    status = 400
    code = "invalid"
    default_message = _l("This could not be done. Check what you entered and try again.")

    def __init__(self, message=None, *, code: str | None = None, status: int | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(str(self.message))
        if code:
            self.code = code
        if status:
            self.status = status

    def __str__(self) -> str:
        return str(self.message)

    def json_fields(self) -> dict:
        """Fields the JSON answer carries besides ``error`` and ``message`` (e.g. where to go next)."""
        return {}


def wants_json() -> bool:
    """API callers (fetch from the drill or exam pages) get JSON errors, not HTML pages."""
    return request.is_json or request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/")


def handle_http_error(error: HTTPException):
    code = error.code or 500
    if code >= 500:
        db.session.rollback()
    title, message = MESSAGES.get(code, (error.name, error.description))
    detail = getattr(error, "description", None) if code == 400 else None
    if wants_json():
        # reason "csrf": the page's token no longer matches the session (it ended or changed);
        # page scripts then ask the learner to log in again instead of retrying blindly.
        reason = "csrf" if isinstance(error, CSRFError) else None
        return jsonify(error=str(title), message=str(message), detail=detail, reason=reason), code
    return render_template("errors/error.html", code=code, title=title, message=message, detail=detail), code


# The one success status a UserError may carry: work that was kept and finishes later (role-plays'
# "pending": the reply is saved and graded afterwards), which is news for the caller, not a failure.
ACCEPTED_FOR_LATER = 202


def user_error_status(error: UserError) -> int:
    if error.status == ACCEPTED_FOR_LATER or 400 <= error.status < 600:
        return error.status
    return 400


def handle_user_error(error: UserError):
    """The one answer to a refusal no view caught: JSON {error: code, message} or the error page.

    The request's unfinished database work is rolled back first, so nothing done before the
    refusal is committed by whatever runs after it."""
    db.session.rollback()
    status = user_error_status(error)
    if wants_json():
        return jsonify({**error.json_fields(), "error": error.code, "message": str(error)}), status
    # A refusal is not a malformed request: "Bad request" would blame the browser.
    title = MESSAGES[status][0] if status in MESSAGES and status != 400 else _l("Not possible")
    return render_template("errors/error.html", code=status, title=title, message=str(error), detail=None), status


def handle_unexpected(error: Exception):
    db.session.rollback()
    from flask import current_app
    current_app.logger.exception("unhandled error")
    return handle_http_error(InternalServerError())


def register_error_handlers(app) -> None:
    app.register_error_handler(UserError, handle_user_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
