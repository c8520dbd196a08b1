"""Preview audio: every customer line is synthesized when the draft is saved (never on a page view),
served by media.audio, and a line that cannot be spoken is an error on that line."""
import wave
from pathlib import Path

import pytest

import speech.tts
from speech.errors import SynthesisError
from tests.support.authoring import SLUG, draft_row, scenario_yaml


def test_preview_audio_exists_after_save_and_is_a_valid_wav(app, author, content):
    assert author.import_scenario(scenario_yaml()).status_code == 302
    draft = draft_row(app, SLUG)
    assert set(draft.audio) == {"opening", "plan", "angry", "supervisor"}
    cache = Path(app.config["AUDIO_CACHE_DIR"])
    for name in draft.audio.values():
        with wave.open(str(cache / name), "rb") as audio:
            assert audio.getnchannels() == 1 and audio.getnframes() > audio.getframerate() // 2
    page = author.get(f"/authoring/scenarios/{SLUG}").get_data(as_text=True)
    for name in draft.audio.values():
        assert f'<audio controls preload="none" class="line-audio" src="/media/audio/{name}">' in page
    served = author.get(f"/media/audio/{draft.audio['opening']}")
    assert served.status_code == 200 and served.mimetype == "audio/wav" and served.data[:4] == b"RIFF"


def test_a_changed_line_gets_new_audio_and_the_edit_form_shows_the_saved_preview(app, author, content):
    author.import_scenario(scenario_yaml())
    first = draft_row(app, SLUG).audio
    author.post(f"/authoring/scenarios/{SLUG}/yaml",
                {"text": scenario_yaml(**{"line: 那你说什么时候能送到？": "line: 那到底什么时候能送到？"})})
    second = draft_row(app, SLUG).audio
    assert second["plan"] != first["plan"] and second["opening"] == first["opening"]
    assert f'src="/media/audio/{second["plan"]}"' in author.get(f"/authoring/scenarios/{SLUG}/edit").get_data(as_text=True)


def test_pages_never_synthesize(app, author, content, monkeypatch):
    author.import_scenario(scenario_yaml())

    def refuse(*args, **kwargs):
        raise AssertionError("text-to-speech on a page view")

    monkeypatch.setattr(speech.tts, "synthesize", refuse)
    for url in (f"/authoring/scenarios/{SLUG}", f"/authoring/scenarios/{SLUG}/edit", f"/authoring/scenarios/{SLUG}/yaml",
                "/authoring/scenarios/new", "/authoring/", "/authoring/scenarios/broadband-outage-refund"):
        assert author.get(url).status_code == 200, url


@pytest.fixture
def mute_complaints(monkeypatch):
    """Text-to-speech that fails on any line mentioning a complaint (投诉)."""
    real = speech.tts.synthesize

    def synthesize(text, *args, **kwargs):
        if "投诉" in text:
            raise SynthesisError("espeak-ng wrote no audio")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(speech.tts, "synthesize", synthesize)


def test_a_line_that_cannot_be_synthesized_is_an_error_on_that_line(app, author, content, mute_complaints):
    fields = author.form_fields("/authoring/scenarios/new")
    fields.update(slug=SLUG, title_zh="包裹迟到", case_facts_zh="李女士的包裹晚到三天。")  # examples are placeholders
    assert fields["n2-id"] == "angry"
    response = author.post("/authoring/scenarios/new", fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="e-n2-line"' in html and "could not be synthesized" in html and "espeak-ng wrote no audio" in html
    assert draft_row(app, SLUG) is None
    # The YAML view names the line of that customer line.
    text = scenario_yaml()
    line = text.splitlines().index("    line: 别跟我说这些，我要投诉！") + 1
    response = author.import_scenario(text)
    assert response.status_code == 422 and f'data-line="{line}"' in response.get_data(as_text=True)
    assert draft_row(app, SLUG) is None
