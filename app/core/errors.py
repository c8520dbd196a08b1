"""Error pages in both languages; JSON for API callers."""
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


def handle_unexpected(error: Exception):
    db.session.rollback()
    from flask import current_app
    current_app.logger.exception("unhandled error")
    return handle_http_error(InternalServerError())


def register_error_handlers(app) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
