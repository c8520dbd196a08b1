"""Exceptions raised by the speech engine.

Every error carries a message a person can act on; callers that show it to
learners translate by ``code`` where one exists (``AudioError``).
"""

from __future__ import annotations


class SpeechError(Exception):
    """Base class so callers (CLI, web routes) can catch every engine error."""


class AudioError(SpeechError):
    """Uploaded or streamed audio that cannot be used for recognition.

    ``code`` is stable and meant for translation lookups; ``message`` is English.
    """

    CODES = ("not_audio", "unsupported", "truncated", "empty", "silence", "too_long", "too_large")

    def __init__(self, code: str, message: str) -> None:
        if code not in self.CODES:
            raise ValueError(f"unknown audio error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message


class SynthesisError(SpeechError):
    """Text-to-speech produced no usable audio."""


class ModelNotInstalled(SpeechError):
    """No Vosk model is configured or installed for a language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        super().__init__(
            f"No speech recognition model for {lang}. Install one with "
            f"`flask speech install-model {lang}` (it unpacks into the folder set by VOSK_MODEL_DIR, "
            f"SpeechConfig.model_dir, as {lang}/), or point SpeechConfig.explicit_paths['{lang}'] "
            f"at an unpacked Vosk model folder."
        )


class ModelInstallError(SpeechError):
    """Downloading, verifying or unpacking a model failed."""


class ModelDownloadError(ModelInstallError):
    """The model could not be fetched: refused, not found, DNS failure, timeout, cut off.

    Nothing was installed; on an offline machine this is expected (typed replies only)."""
