"""Text longer than MAX_FORM_MEMORY_SIZE (MAX_FIELD_KB) is refused with a 4xx wherever it comes.

Werkzeug applies that setting to multipart text parts only (not to ordinary urlencoded forms,
JSON bodies or query strings), and a huge value that gets through reaches the database, where
PostgreSQL refuses it (column or index size) with an error that became a 500. Files are
separate: they are limited by MAX_CONTENT_LENGTH.
"""
from flask import Flask, abort, current_app, request


def _refuse_oversized_text():
    limit = current_app.config.get("MAX_FORM_MEMORY_SIZE")
    if not limit:
        return None
    if len(request.query_string) > limit:
        abort(414)
    if request.is_json:
        if request.content_length is not None and request.content_length > limit:
            abort(413)
        # Also a body sent without a length (chunked): reading past the limit raises 413.
        request.max_content_length = limit
    elif request.mimetype == "application/x-www-form-urlencoded":
        if any(len(value.encode()) > limit for value in request.form.values()):
            abort(413)
    return None


def init_app(app: Flask) -> None:
    app.before_request(_refuse_oversized_text)
