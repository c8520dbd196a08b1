from __future__ import annotations

import threading

import numpy as np
import pytest

from speech.asr import ModelRegistry, grammar_json, transcribe
from speech.errors import AudioError
from speech.models import SpeechConfig

from tests.support.speech import KOREAN_PHRASE


@pytest.fixture(scope="module")
def phrase_audio(speak_audio):
    # espeak-ng's default rate: at 150 words a minute the small Korean model hears "주셔서" as
    # "기다려" in up to a quarter of runs after a pause (measured), which is about the voice, not the code.
    return speak_audio(KOREAN_PHRASE, "ko")


def assert_word_timings(transcript, audio_seconds: float) -> None:
    assert transcript.words, "expected recognised words"
    for word in transcript.words:
        assert 0 <= word.start < word.end <= audio_seconds + 0.05
        assert 0 < word.conf <= 1
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    ends = [w.end for w in transcript.words]
    assert all(a <= b + 1e-6 for a, b in zip(ends, starts[1:])), "words must not overlap"


def test_free_recognition_gives_words_with_timings(korean_registry, phrase_audio):
    transcript = transcribe(korean_registry, "ko-KR", phrase_audio)
    assert transcript.text == " ".join(w.word for w in transcript.words)
    assert transcript.audio_seconds == pytest.approx(phrase_audio.duration_s, abs=0.001)
    assert transcript.decode_seconds > 0
    assert_word_timings(transcript, phrase_audio.duration_s)


def test_grammar_spots_the_spoken_phrase(korean_registry, speak):
    wav_path = speak(KOREAN_PHRASE, "ko")  # 22 kHz file: transcribe converts it
    transcript = transcribe(korean_registry, "ko", wav_path, grammar=[KOREAN_PHRASE, "[unk]"])
    assert transcript.text == KOREAN_PHRASE
    assert [w.word for w in transcript.words] == KOREAN_PHRASE.split()
    assert_word_timings(transcript, transcript.audio_seconds)


def test_streaming_in_100_ms_chunks(korean_registry, phrase_audio):
    stream = korean_registry.stream("ko-KR", grammar=[KOREAN_PHRASE])
    pcm = phrase_audio.pcm16 + b"\x00\x00" * 8000  # half a second of trailing silence
    partials = []
    for offset in range(0, len(pcm), 3201):  # odd chunk size: samples split across chunks
        partials.append(stream.feed(pcm[offset:offset + 3201]))
    assert all(isinstance(p, str) for p in partials)
    assert any(partials), "partial results must appear while audio streams in"
    transcript = stream.final()
    assert transcript.text == KOREAN_PHRASE
    assert transcript.audio_seconds == pytest.approx(len(pcm) / 32000, abs=0.001)
    assert_word_timings(transcript, transcript.audio_seconds)
    with pytest.raises(RuntimeError):
        stream.feed(b"\x00\x00")
    with pytest.raises(RuntimeError):
        stream.final()


def test_word_times_continue_across_segments(korean_registry, phrase_audio):
    gap = b"\x00\x00" * 16000 * 2
    transcript = transcribe(korean_registry, "ko-KR", phrase_audio.pcm16 + gap + phrase_audio.pcm16,
                            grammar=[KOREAN_PHRASE])
    assert transcript.text == f"{KOREAN_PHRASE} {KOREAN_PHRASE}"
    second_start = transcript.words[3].start
    assert second_start >= phrase_audio.duration_s + 1.5, "times are measured from the stream start"
    assert_word_timings(transcript, transcript.audio_seconds)


def test_stream_enforces_the_length_limit(korean_registry, phrase_audio):
    stream = korean_registry.stream("ko-KR", max_seconds=1.0)
    stream.feed(phrase_audio.pcm16[:16000])
    with pytest.raises(AudioError) as caught:
        stream.feed(phrase_audio.pcm16[16000:48000])
    assert caught.value.code == "too_long"


def test_model_is_loaded_once_for_concurrent_transcriptions(korean_model, phrase_audio):
    registry = ModelRegistry(SpeechConfig())  # fresh: the threads race to the first load
    start = threading.Barrier(4)
    texts: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            texts.append(transcribe(registry, "ko-KR", phrase_audio, grammar=[KOREAN_PHRASE]).text)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert texts == [KOREAN_PHRASE] * 4
    assert registry.load_count("ko-KR") == 1 and registry.load_count() == 1
    assert registry.loaded_languages() == ["ko-KR"]
    transcribe(registry, "ko", phrase_audio, grammar=[KOREAN_PHRASE])
    assert registry.load_count("ko-KR") == 1


def test_grammar_json():
    assert grammar_json(["Hello  There", "goodbye"]) == '["hello there", "goodbye", "[unk]"]'
    assert grammar_json(["您好", "[unk]"]) == '["您好", "[unk]"]'
    with pytest.raises(ValueError):
        grammar_json(["  ", "[unk]"])


def test_raw_pcm_bytes_are_accepted(korean_registry, phrase_audio):
    # Half a second of quiet room noise first, as a microphone gives. Not digital zeros: on exact
    # silence only Kaldi's random dither is left, and it sways the words after it (4 in 40 runs).
    room = np.random.default_rng(7).normal(0, 30, 8000).astype("<i2")
    silence_then_speech = np.concatenate([room, np.frombuffer(phrase_audio.pcm16, "<i2")])
    transcript = transcribe(korean_registry, "ko-KR", silence_then_speech.tobytes(), grammar=[KOREAN_PHRASE])
    assert transcript.text == KOREAN_PHRASE
    assert transcript.words[0].start >= 0.4, "leading half second of silence shifts the times"
