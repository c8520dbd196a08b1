"""``speech`` command group; the app registers it with ``app.cli.add_command``.

Built on plain click so the engine stays free of Flask. Every command prints
JSON on stdout; errors exit non-zero with one line on stderr.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from .asr import ModelRegistry, transcribe
from .audio import load_for_recognition
from .errors import AudioError, ModelDownloadError, ModelInstallError, SpeechError
from .install import OFFICIAL_MODELS, install_model, official_source
from .languages import normalize_language
from .metrics import compute_metrics
from .models import SpeechConfig, find_models
from .status import ModelState, model_states, status_report


# Longer than anyone says in one recording of MAX_AUDIO_SECONDS.
MAX_TEXT_CHARS = 10_000


def make_speech_cli(get_config: Callable[[], SpeechConfig], *,
                    get_status: Callable[[], list[ModelState]] | None = None,
                    fetch_disabled: Callable[[], str | None] = lambda: None) -> click.Group:
    """Build the ``speech`` group; ``get_config`` is called when a command runs.

    ``get_status`` (default: the models ``find_models`` finds, none loaded) is what ``status``
    prints and what ``fetch`` skips; ``fetch_disabled`` returns why downloads are off, or None.
    """

    def states() -> list[ModelState]:
        if get_status is not None:
            return get_status()
        config = get_config()
        return model_states(find_models(config), model_dir=config.model_dir, explicit_paths=config.explicit_paths)

    @click.group("speech", help="Speech engine: models, recognition and delivery metrics.")
    def speech() -> None:
        pass

    @speech.command("status")
    @_one_line_errors
    def status() -> None:
        """Show each language's model (name, version, path, loaded), which languages are gradable
        by voice and which typed-only, and how to install a model."""
        _print_json(status_report(states()))

    @speech.command("fetch")
    @click.argument("langs", nargs=-1)
    @click.option("--timeout", default=30.0, show_default=True, help="Network timeout in seconds.")
    @_one_line_errors
    def fetch(langs: tuple[str, ...], timeout: float) -> None:
        """Download and verify the official small model of each LANG (default: zh-CN and en-US)
        unless one is installed. A download that fails (refused, no DNS, timeout) is reported in
        one line and the command still succeeds: that language stays typed-only. Exits 1 only
        when a download arrived but failed verification (nothing is installed then)."""
        wanted = [normalize_language(lang) for lang in langs] or list(OFFICIAL_MODELS)
        reason = fetch_disabled()
        if reason:
            click.echo(f"speech: not downloading speech models ({reason}); the installed ones are used, "
                       "other languages are typed-only (`flask speech install-model LANG` installs one anyway).",
                       err=True)
            return
        config = get_config()
        if config.model_dir is None:
            raise click.ClickException("No model folder is configured (SpeechConfig.model_dir, "
                                       "app setting VOSK_MODEL_DIR).")
        by_lang = {state.language: state for state in states()}
        missing = []
        for lang in wanted:
            state = by_lang[lang]
            if state.path is not None:
                click.echo(f"speech: {lang} model already installed: {state.name} at {state.path}", err=True)
            elif official_source(lang) is None:
                click.echo(f"speech: there is no official {lang} model to download; {lang} stays typed-only "
                           f"(install with: {state.install_command}).", err=True)
            else:
                missing.append(lang)
        refused = False
        for index, lang in enumerate(missing):
            source = official_source(lang, base_url=config.download_base_url,
                                     sha256=config.download_sha256.get(lang))
            progress = ProgressPrinter(f"speech: {lang} ")
            try:
                path = install_model(lang, config.model_dir, url=source.url, sha256=source.sha256,
                                     timeout=timeout, progress=progress)
            except ModelDownloadError as exc:
                # The network is not there (refused, no DNS, timeout): the other downloads would
                # fail the same way, so they are not tried and ONE line says it all.
                progress.close()
                _typed_only_line(missing[index:], by_lang, " ".join(str(exc).split()), downloaded=False)
                break
            except ModelInstallError as exc:
                progress.close()
                refused = True
                _typed_only_line([lang], by_lang, " ".join(str(exc).split()), downloaded=True)
                continue
            progress.close()
            click.echo(f"speech: {lang} model installed at {path} (sha256 "
                       f"{'verified' if source.sha256 else 'not pinned'})", err=True)
        if refused:
            click.get_current_context().exit(1)

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
        progress = ProgressPrinter(f"speech: {normalize_language(lang)} ")
        try:
            path = install_model(lang, config.model_dir, url=url, sha256=sha256, timeout=timeout, progress=progress)
        finally:
            progress.close()
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
    @click.option("--text", help="What was said: stands in for the transcript, so the speaking rate is "
                                 "measured in characters (Chinese, Korean) or words (English) per minute "
                                 "over the voiced time found in the audio.")
    @click.option("--lang", help="Language of --text (zh-CN, en-US, ko-KR); by default the text decides "
                                 "(Han or Hangul characters: chars/min, else words/min).")
    @_one_line_errors
    def metrics_command(file: Path, text: str | None, lang: str | None) -> None:
        """Delivery metrics of a WAV FILE: pauses, loudness, pitch, speaking rate."""
        config = get_config()
        if text is not None and len(text) > MAX_TEXT_CHARS:
            raise click.BadParameter(f"at most {MAX_TEXT_CHARS} characters", param_hint="--text")
        language = normalize_language(lang) if lang else None
        audio = load_for_recognition(file, max_seconds=config.max_audio_seconds,
                                     max_bytes=config.max_upload_bytes)
        _print_json(compute_metrics(audio, text=text, language=language).to_dict())

    return speech


def _typed_only_line(langs: list[str], by_lang: dict[str, ModelState], reason: str, *, downloaded: bool) -> None:
    """The one line a failed fetch prints: what failed, the consequence, and how to install later."""
    names = ", ".join(langs)
    what = "was not installed" if downloaded else "could not be downloaded"
    command = "FLASK_APP=wsgi .venv/bin/flask speech fetch" + ("" if len(langs) > 1 else f" {langs[0]}")
    folders = " or ".join(f"{by_lang[lang].manual_path}/" for lang in langs)
    click.echo(f"speech: the {names} speech model{'s' if len(langs) > 1 else ''} {what} ({reason}); "
               f"calls in {names} are typed-only until a model is installed: run `{command}` "
               f"{'when the network allows' if not downloaded else 'again'}, or unpack a Vosk model by hand "
               f"into {folders} (README: Speech models).", err=True)


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


class ProgressPrinter:
    """Download progress on stderr (stdout stays pure JSON).

    On a terminal a bar redrawn in place; otherwise (a log, a pipe) one line per 10 %, so a
    captured log stays short. ``close()`` ends a bar's line.
    """

    WIDTH = 30

    def __init__(self, label: str = "", stream=None) -> None:
        self._label = label
        self._stream = stream
        self._last_step = -1
        self._drawn = False

    def _out(self):
        return self._stream if self._stream is not None else sys.stderr

    def __call__(self, done: int, total: int | None) -> None:
        out = self._out()
        tty = out.isatty()
        if not total:
            step = done // (10 * 1024 * 1024)  # unknown size: a line per 10 MB
            if step != self._last_step:
                self._last_step = step
                self._write(out, tty, f"{self._label}downloaded {done / 1e6:.1f} MB")
            return
        step = done * (100 if tty else 10) // total
        if step == self._last_step:
            return
        self._last_step = step
        if tty:
            filled = done * self.WIDTH // total
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self._write(out, tty, f"{self._label}[{bar}] {step:3d}% {done / 1e6:.1f}/{total / 1e6:.1f} MB")
        else:
            self._write(out, tty, f"{self._label}downloaded {done / 1e6:.1f} of {total / 1e6:.1f} MB ({step * 10}%)")

    def _write(self, out, tty: bool, text: str) -> None:
        if tty:
            out.write("\r" + text)
            self._drawn = True
        else:
            out.write(text + "\n")
        out.flush()

    def close(self) -> None:
        if self._drawn:
            out = self._out()
            out.write("\n")
            out.flush()
            self._drawn = False
