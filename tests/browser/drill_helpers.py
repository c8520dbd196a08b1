"""Helpers for the drill call-screen browser tests: content with the Korean test scenario,
replies scripted from a scenario's rubric, and a Korean WAV for Chromium's fake microphone."""
from __future__ import annotations

import subprocess
from pathlib import Path

from app.roleplays.scenario import ScenarioDoc
from tests.app.roleplays.conftest import good_reply as rubric_reply, scenario_doc  # noqa: F401
from tests.conftest import sync_with_korean  # noqa: F401

def good_reply(doc: ScenarioDoc, node_id: str, *, first: bool) -> str:
    """A scoring reply for a live call: the greeting on the first reply, the closing when a good
    reply ends the call."""
    ends_call = doc.nodes[node_id].next.get("deescalate", "").startswith("end:")
    return rubric_reply(doc, node_id, greeting=first, closing=ends_call)


def korean_mic_wav(folder: Path, text: str) -> Path:
    """espeak-ng Korean speech as 48 kHz mono 16-bit PCM, with 1.5 s of silence before and 3 s after:
    Chromium loops the file as its fake microphone, and the silence lets end-of-speech detection fire."""
    raw = folder / "ko-raw.wav"
    out = folder / "ko-mic.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out),
                    "pad", "1.5", "3"], check=True, capture_output=True)
    return out
