from flask import (Blueprint, current_app, jsonify, redirect, render_template, request, send_from_directory, session,
                   url_for)
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from sqlalchemy import text

from .access import AUTHENTICATED, PUBLIC, allow
from ..extensions import db
from .home import home_groups
from .i18n import LANGUAGES, normalise_language, select_locale
from .nav import nav_for

bp = Blueprint("core", __name__, template_folder="templates")


@bp.route("/")
@allow(AUTHENTICATED)
def home():
    # The panels each of the user's roles registered (app.core.home), grouped by role; read-only.
    return render_template("core/home.html", groups=home_groups(current_user))


def database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any failure to reach the database is "down"
        db.session.rollback()
        current_app.logger.error("database unreachable: %s", exc)
        return False


def system_panel(user) -> str:
    """The administrator's home panel about the app itself (the other domains add theirs)."""
    return render_template("core/_panel_system.html", database_ok=database_ok(),
                           version=current_app.config["APP_VERSION"])


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    db_status = "ok" if database_ok() else "error"
    ok = db_status == "ok"
    body = {"status": "ok" if ok else "error", "db": db_status,
            "version": current_app.config["APP_VERSION"]}
    return jsonify(body), 200 if ok else 503


@bp.route("/favicon.ico")
@allow(PUBLIC)
def favicon():
    # Browsers ask for /favicon.ico on every page; the pages also link it (base.html).
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)


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
    # ui_language: the LANGUAGES key of the page's language (get_locale() reads "zh_Hans_CN" for "zh_CN").
    return {"nav_items": nav_for(current_user), "languages": LANGUAGES, "get_locale": get_locale,
            "ui_language": select_locale()}
