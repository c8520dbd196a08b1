"""The administrator's home panel about speech: each language's model and which are graded by voice
(from speech_status, the same function `flask speech status` and the admin speech page use)."""
from __future__ import annotations

from flask import current_app, render_template

from . import services


def speech_panel(user) -> str:
    states = services.speech_status()
    page = "speechops.status" if "speechops.status" in current_app.view_functions else None
    from .views import LANGUAGE_LABELS
    return render_template("speechops/_home_speech.html", states=states, page=page, language_labels=LANGUAGE_LABELS,
                           voice=[state.language for state in states if state.voice_grading])
