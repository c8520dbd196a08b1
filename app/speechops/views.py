"""The admin Speech page: per language, whether calls can be graded by voice and why (read-only)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import lazy_gettext as _l

from ..core.access import Role, allow
from . import services

bp = Blueprint("speechops", __name__, template_folder="templates")

LANGUAGE_LABELS = {"zh-CN": _l("Mandarin"), "en-US": _l("English"), "ko-KR": _l("Korean")}


@bp.route("/admin/speech")
@allow(Role.ADMIN)
def status():
    return render_template("speechops/status.html", states=services.speech_status(),
                           fetch_enabled=bool(current_app.config.get("ACADEMY_FETCH_MODELS")),
                           language_labels=LANGUAGE_LABELS)
