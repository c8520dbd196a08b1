"""Helpers for the drill call-screen browser tests: content with the Korean test scenario,
replies scripted from a scenario's rubric, and a Korean WAV for Chromium's fake microphone."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from sqlalchemy import select

from app.content.services import sync_content
from app.extensions import db
from app.roleplays.models import Scenario
from app.roleplays.scenario import ScenarioDoc

KO_SCENARIO = Path(__file__).resolve().parents[1] / "fixtures" / "roleplays" / "ko-thanks-for-waiting.yaml"
CONTENT_FOLDERS = ("courses", "exams", "roleplays")


def sync_with_korean(app, tmp_path: Path) -> Path:
    """Copy the shipped content, add the Korean test scenario, and sync it into the test database."""
    root = tmp_path / "content"
    for folder in CONTENT_FOLDERS:
        shutil.copytree(Path(app.config["CONTENT_ROOT"]) / folder, root / folder)
    shutil.copy(KO_SCENARIO, root / "roleplays" / KO_SCENARIO.name)
    with app.app_context():
        sync_content(root)
    return root


def scenario_doc(app, slug: str) -> ScenarioDoc:
    with app.app_context():
        row = db.session.scalar(select(Scenario).where(Scenario.slug == slug))
        return ScenarioDoc(row.current_version.spec)


def good_reply(doc: ScenarioDoc, node_id: str, *, first: bool) -> str:
    """A reply made of the node's accepted phrasings: the greeting on the first reply, every intent's
    first phrase, and the closing when a good reply ends the call."""
    parts = [doc.greeting.phrases[0]] if first and doc.greeting else []
    for item in doc.nodes[node_id].rubric:
        if item.kind == "intent":
            parts.append(item.phrases[0] if item.phrases else "".join(group[0] for group in item.elements))
    if doc.nodes[node_id].next.get("deescalate", "").startswith("end:") and doc.closing:
        parts.append(doc.closing.phrases[0])
    return "。".join(parts) + "。"


def korean_mic_wav(folder: Path, text: str) -> Path:
    """espeak-ng Korean speech as 48 kHz mono 16-bit PCM, with 1.5 s of silence before and 3 s after:
    Chromium loops the file as its fake microphone, and the silence lets end-of-speech detection fire."""
    raw = folder / "ko-raw.wav"
    out = folder / "ko-mic.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out),
                    "pad", "1.5", "3"], check=True, capture_output=True)
    return out
