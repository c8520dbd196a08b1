from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from sqlalchemy import text

from ..accounts.permissions import AUTHENTICATED, PUBLIC, allow
from ..extensions import db
from .i18n import LANGUAGES, normalise_language
from .nav import nav_for

bp = Blueprint("core", __name__, template_folder="templates")


@bp.route("/")
@allow(AUTHENTICATED)
def home():
    # Each role lands on its own first area; someone with several roles gets a chooser.
    items = nav_for(current_user)
    if len(items) == 1:
        return redirect(url_for(items[0].endpoint))
    return render_template("core/home.html", items=items)


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        db_status = "ok"
    except Exception as exc:  # any failure to reach the database is "down"
        db.session.rollback()
        current_app.logger.error("healthz: database unreachable: %s", exc)
        db_status = "error"
    ok = db_status == "ok"
    body = {"status": "ok" if ok else "error", "db": db_status,
            "version": current_app.config.get("APP_VERSION", "0.1.0")}
    return jsonify(body), 200 if ok else 503


@bp.route("/language", methods=["POST"])
@allow(PUBLIC)
def set_language():
    language = normalise_language(request.form.get("language", ""))
    if language is None:
        return jsonify(error=_("Unknown language.")), 400
    session["lang"] = language
    if current_user.is_authenticated:
        current_user.language = language
        db.session.commit()
    target = request.form.get("next") or request.referrer or url_for("core.home")
    # Stay on this site: only a relative path is followed.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("core.home")
    return redirect(target)


@bp.app_context_processor
def inject_layout():
    return {"nav_items": nav_for(current_user), "languages": LANGUAGES, "get_locale": get_locale}
