"""Helpers for the drill call-screen browser tests: content with the Korean test scenario,
replies scripted from a scenario's rubric, and a Korean WAV for Chromium's fake microphone."""
from __future__ import annotations

import subprocess
from pathlib import Path

from playwright.sync_api import expect

from app.roleplays.scenario import ScenarioDoc
from tests.support.roleplays import good_reply as rubric_reply, scenario_doc  # noqa: F401
from tests.support.content import sync_with_korean  # noqa: F401

def good_reply(doc: ScenarioDoc, node_id: str, *, first: bool) -> str:
    """A scoring reply for a live call: the greeting on the first reply, the closing when a good
    reply ends the call."""
    ends_call = doc.nodes[node_id].next.get("deescalate", "").startswith("end:")
    return rubric_reply(doc, node_id, greeting=first, closing=ends_call)


IN_CALL = "#drill[data-phase=customer], #drill[data-phase=reply]"


def play_typed_call(page, reply_for, *, limit: int = 8) -> int:
    """Answer the ringing call screen and type `reply_for(node_id, first)` to every customer line until the
    call ends; the number of replies given."""
    page.locator("#drill-answer").click()
    page.wait_for_selector(IN_CALL)
    replies = 0
    while not page.locator("#drill-ended").is_visible():
        assert replies < limit, "the call should have ended"
        node_id = page.get_attribute("#drill-customer", "data-node-id")
        page.fill("#drill-text", reply_for(node_id, replies == 0))
        page.press("#drill-text", "Enter")
        replies += 1
        expect(page.locator("#drill-log li.drill-log-agent")).to_have_count(replies)
        page.wait_for_selector(f"{IN_CALL}, #drill[data-phase=ended]")
    return replies


def korean_mic_wav(folder: Path, text: str) -> Path:
    """espeak-ng Korean speech as 48 kHz mono 16-bit PCM, with 0.5 s of silence before and 1.5 s after:
    Chromium loops the file as its fake microphone, and the 2 s between two sentences let end-of-speech
    detection fire (1 s) and arm again (0.3 s)."""
    raw = folder / "ko-raw.wav"
    out = folder / "ko-mic.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out),
                    "pad", "0.5", "1.5"], check=True, capture_output=True)
    return out
