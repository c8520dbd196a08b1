"""Speech engine for Agent Academy: TTS, recognition, audio input, delivery metrics.

Pure library: no Flask, no database. The app passes a ``SpeechConfig`` in.
"""

from .asr import ModelRegistry, RecognitionStream, Transcript, Word, grammar_json, transcribe
from .audio import Audio, audio_from_pcm16, load_for_recognition
from .errors import (AudioError, ModelInstallError, ModelNotInstalled, SpeechError,
                     SynthesisError)
from .install import OFFICIAL_MODELS, install_model
from .languages import LANGUAGES, normalize_language
from .metrics import DeliveryMetrics, Pause, compute_metrics
from .models import SpeechConfig, find_models, looks_like_vosk_model
from .tts import SynthRequest, SynthResult, prosody, synthesize, synthesize_many

__all__ = [
    "Audio", "AudioError", "DeliveryMetrics", "LANGUAGES", "ModelInstallError", "ModelNotInstalled",
    "ModelRegistry", "OFFICIAL_MODELS", "Pause", "RecognitionStream", "SpeechConfig", "SpeechError",
    "SynthRequest", "SynthResult", "SynthesisError", "Transcript", "Word", "audio_from_pcm16",
    "compute_metrics", "find_models", "grammar_json", "install_model", "load_for_recognition",
    "looks_like_vosk_model", "normalize_language", "prosody", "synthesize", "synthesize_many",
    "transcribe",
]
