"""Driving Debian's Chromium through Playwright: launching it, logging in, reading media."""
from __future__ import annotations

import wave
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Flags the sandboxed CI machine needs: no network chatter, no GPU, no sandbox as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def launch(playwright, extra_args: list[str] | None = None):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=CHROMIUM_ARGS + (extra_args or []))


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit].primary")
    page.wait_for_load_state("networkidle")


def open_lesson(page, url: str) -> None:
    """Open a lesson page and wait until its script has reported the visit (a POST to .../time).
    Serving the page records nothing, so a test that leaves at once would race that report."""
    with page.expect_response(lambda r: r.url.endswith("/time") and r.request.method == "POST") as reported:
        page.goto(url)
    assert reported.value.status == 200, reported.value.status


def media_duration(audio) -> float:
    """Load an <audio> element's metadata in the page and return its duration in seconds (fails on a media error)."""
    return audio.evaluate("""el => new Promise((resolve, reject) => {
        el.addEventListener('loadedmetadata', () => resolve(el.duration), {once: true});
        el.addEventListener('error', () => reject(new Error('audio error')), {once: true});
        el.preload = 'metadata'; el.load();
    })""")


def wav_seconds(path: Path) -> float:
    """The length of a saved WAV recording."""
    with wave.open(str(path)) as reader:
        return reader.getnframes() / reader.getframerate()


# Installed in the call screen before its scripts (context.add_init_script): every live caption of
# the trainee's words the page shows, in window.__captionsShown (each is on screen only until the
# next chunk's answer or the grade: too brief to poll for).
RECORD_CAPTIONS = """document.addEventListener("DOMContentLoaded", () => {
  const partial = document.querySelector("#drill-partial");
  if (!partial) return;
  window.__captionsShown = [];
  new MutationObserver(() => {
    if (!partial.hidden) window.__captionsShown.push(partial.querySelector("#drill-partial-text").textContent);
  }).observe(partial, {attributes: true, childList: true, subtree: true, characterData: true});
});"""
