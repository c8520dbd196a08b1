"""Agent Academy (坐席学院): the Flask application factory."""
from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

from flask import Flask, current_app, flash, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from .config import load_config
from .extensions import babel, csrf, db, login_manager, migrate
from .settings import did_you_mean, unknown_environment, unknown_keys

# Domain packages, each with init_app(app) that registers its blueprint, CLI and navigation.
DOMAINS = ("core", "accounts", "media", "content", "demo", "courses", "exams", "speechops", "roleplays", "certification", "team", "authoring", "assignments", "reviews", "notifications", "jobs")

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                static_folder=str(Path(__file__).resolve().parent.parent / "static"))
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    # The settings model (app/settings.py): environment → validated values → app.config; a bad
    # value stops here with a SettingsError naming it. The dict passed in (tests) goes on top.
    app.config.update(load_config(instance))
    for name in unknown_environment(os.environ):
        app.logger.warning("settings: the environment variable %s is not a setting of the app%s (README, "
                           "Configuration); it is ignored", name, did_you_mean(name))
    if config:
        for key in unknown_keys(config):
            app.logger.warning("settings: %s passed to create_app is not a setting of the app%s",
                               key, did_you_mean(key))
        app.config.update(config)
    for key in ("UPLOAD_DIR", "RECORDINGS_DIR", "AUDIO_CACHE_DIR"):
        Path(app.config[key]).mkdir(parents=True, exist_ok=True)

    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["TRUSTED_PROXIES"]
        # The client's address (login throttling) and scheme (HSTS) as the proxy saw them; the
        # Host header is not taken from the proxy: links that leave the app use PUBLIC_BASE_URL.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    from .core.i18n import select_locale
    babel.init_app(app, locale_selector=select_locale)
    from .core import clock
    clock.init_app(app)
    _init_login(app)

    for name in DOMAINS:
        importlib.import_module(f".{name}", __name__).init_app(app)

    from .core.access import check_declarations, enforce_access
    app.before_request(_expire_idle_session)
    app.before_request(enforce_access)
    app.after_request(_security_headers)
    from .core.errors import register_error_handlers
    register_error_handlers(app)
    check_declarations(app)
    return app


def _init_login(app: Flask) -> None:
    from .accounts.models import User

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id: str):
        # "id:version": a bumped version (deactivation, password change) ends old sessions.
        try:
            user_id, version = (int(part) for part in session_id.split(":"))
        except ValueError:
            return None
        user = db.session.get(User, user_id)
        if user is None or user.session_version != version or not user.active:
            return None
        return user


def _expire_idle_session():
    if not current_user.is_authenticated:
        return
    now = time.time()
    last_seen = session.get("seen")
    from flask import current_app
    if last_seen and now - last_seen > current_app.config["IDLE_TIMEOUT"].total_seconds():
        logout_user()
        session.clear()
        flash(_l("Your session expired after a period of inactivity. Please log in again; your saved work is kept."),
              "info")
        return
    session["seen"] = now


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # No inline scripts anywhere: all JavaScript is in static files.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; "
        "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    if request.is_secure or (current_app.config.get("PUBLIC_BASE_URL") or "").startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # A logged-in page (records, temporary passwords) must not stay in a shared computer's cache
    # or come back with the Back button after logout. Views that chose caching themselves
    # (immutable media, static files) keep their choice.
    if current_user.is_authenticated and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response
