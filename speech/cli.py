"""``speech`` command group; the app registers it with ``app.cli.add_command``.

Built on plain click so the engine stays free of Flask. Every command prints
JSON on stdout; errors exit non-zero with one line on stderr.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import click

from .asr import ModelRegistry, transcribe
from .audio import load_for_recognition
from .errors import AudioError, SpeechError
from .install import install_model
from .metrics import compute_metrics
from .models import SpeechConfig, find_models


def make_speech_cli(get_config: Callable[[], SpeechConfig]) -> click.Group:
    """Build the ``speech`` group; ``get_config`` is called when a command runs."""

    @click.group("speech", help="Speech engine: models, recognition and delivery metrics.")
    def speech() -> None:
        pass

    @speech.command("status")
    @_one_line_errors
    def status() -> None:
        """Show which language models are installed and gradable by voice."""
        models = find_models(get_config())
        _print_json({
            "models": {lang: str(path) if path else None for lang, path in models.items()},
            "voice_grading": [lang for lang, path in models.items() if path is not None],
        })

    @speech.command("install-model")
    @click.argument("lang")
    @click.option("--url", help="Model zip to download instead of the official small model.")
    @click.option("--sha256", help="Expected sha256 of the zip (hex).")
    @click.option("--timeout", default=60.0, show_default=True, help="Network timeout in seconds.")
    @_one_line_errors
    def install_model_command(lang: str, url: str | None, sha256: str | None, timeout: float) -> None:
        """Download, verify and unpack a Vosk model for LANG (zh-CN, en-US, ko-KR)."""
        config = get_config()
        if config.model_dir is None:
            raise click.ClickException("No model folder is configured (SpeechConfig.model_dir, "
                                       "app setting VOSK_MODEL_DIR).")
        path = install_model(lang, config.model_dir, url=url, sha256=sha256, timeout=timeout,
                             progress=_ProgressPrinter())
        _print_json({"lang": lang, "path": str(path)})

    @speech.command("transcribe")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--lang", default="zh-CN", show_default=True)
    @click.option("--grammar", help='Expected phrases separated by "|", e.g. "您好|再见".')
    @_one_line_errors
    def transcribe_command(file: Path, lang: str, grammar: str | None) -> None:
        """Recognise a WAV FILE: text, words with timings, audio and decode seconds."""
        phrases = [p for p in grammar.split("|") if p.strip()] if grammar else None
        result = transcribe(ModelRegistry(get_config()), lang, file, grammar=phrases)
        _print_json(result.to_dict())

    @speech.command("metrics")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @_one_line_errors
    def metrics_command(file: Path) -> None:
        """Delivery metrics of a WAV FILE: pauses, loudness, pitch, speaking rate."""
        config = get_config()
        audio = load_for_recognition(file, max_seconds=config.max_audio_seconds,
                                     max_bytes=config.max_upload_bytes)
        _print_json(compute_metrics(audio).to_dict())

    return speech


def _one_line_errors(command: Callable) -> Callable:
    """Turn engine errors into click's one-line ``Error: ...`` and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except AudioError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from exc
        except (SpeechError, ValueError) as exc:
            raise click.ClickException(" ".join(str(exc).split())) from exc

    return wrapper


def _print_json(data: dict) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


class _ProgressPrinter:
    """Download progress on stderr in 10 % steps (stdout stays pure JSON)."""

    def __init__(self) -> None:
        self._last_step = -1

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            step = done * 10 // total
            if step != self._last_step:
                self._last_step = step
                click.echo(f"downloaded {done / 1e6:.1f} of {total / 1e6:.1f} MB", err=True)
