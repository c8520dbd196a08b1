"""Serving synthesized audio: content-addressed files, so they can be cached forever."""
import re
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file

from ..core.access import AUTHENTICATED, allow

bp = Blueprint("media", __name__)

# Cache files are named by a hex hash of what produced them; anything else is refused.
AUDIO_NAME = re.compile(r"^[0-9a-f]{16,64}\.wav$")


@bp.route("/media/audio/<name>")
@allow(AUTHENTICATED)
def audio(name: str):
    if not AUDIO_NAME.match(name):
        abort(404)
    path = Path(current_app.config["AUDIO_CACHE_DIR"]) / name
    if not path.is_file():
        abort(404)
    # conditional=True gives ETag, Last-Modified and HTTP Range (browsers seek audio with it).
    response = send_file(path, mimetype="audio/wav", conditional=True, max_age=365 * 24 * 3600)
    response.cache_control.immutable = True
    response.cache_control.private = True
    return response
