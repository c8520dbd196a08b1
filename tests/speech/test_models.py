from __future__ import annotations

from pathlib import Path

import pytest

from speech.asr import ModelRegistry
from speech.errors import ModelNotInstalled
from speech.languages import normalize_language
from speech.models import SpeechConfig, find_models, looks_like_vosk_model


def fake_model(folder: Path, *, graph: str = "graph/HCLG.fst", flat: bool = False) -> Path:
    """Only the file layout of a Vosk model (enough for discovery, not for loading)."""
    files = ["final.mdl", "mfcc.conf", "HCLG.fst"] if flat else ["am/final.mdl", "conf/mfcc.conf", graph]
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")
    return folder


def test_layout_check(tmp_path, korean_model):
    assert looks_like_vosk_model(korean_model)  # HCLr.fst + Gr.fst: runtime-grammar model
    assert looks_like_vosk_model(fake_model(tmp_path / "full"))
    assert looks_like_vosk_model(fake_model(tmp_path / "flat", flat=True))
    assert not looks_like_vosk_model(fake_model(tmp_path / "no-graph", graph="graph/README"))
    half = fake_model(tmp_path / "half")
    (half / "conf" / "mfcc.conf").unlink()
    assert not looks_like_vosk_model(half)
    assert not looks_like_vosk_model(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    assert not looks_like_vosk_model(tmp_path / "file")


def test_find_models_order(tmp_path, korean_model):
    assert find_models(SpeechConfig()) == {"zh-CN": None, "en-US": None, "ko-KR": korean_model}

    models = tmp_path / "models"
    fake_model(models / "zh-CN")
    (models / "en-US").mkdir()  # an empty folder is not a model
    explicit = fake_model(tmp_path / "elsewhere-ko")
    found = find_models(SpeechConfig(model_dir=models, explicit_paths={"ko": explicit}))
    assert found == {"zh-CN": models / "zh-CN", "en-US": None, "ko-KR": explicit}

    fake_model(models / "ko-KR")
    assert find_models(SpeechConfig(model_dir=models))["ko-KR"] == models / "ko-KR"


def test_missing_model_error_names_the_fix(tmp_path):
    registry = ModelRegistry(SpeechConfig(model_dir=tmp_path))
    with pytest.raises(ModelNotInstalled) as caught:
        registry.stream("zh-CN")
    message = str(caught.value)
    assert caught.value.lang == "zh-CN"
    assert "flask speech install-model zh-CN" in message and "VOSK_MODEL_DIR" in message
    assert "explicit_paths['zh-CN']" in message
    assert registry.load_count() == 0


def test_language_codes():
    assert [normalize_language(c) for c in ("zh", "ZH-cn", "zh_CN", "en", "en-us", "ko", "ko-KR")] == \
        ["zh-CN", "zh-CN", "zh-CN", "en-US", "en-US", "ko-KR", "ko-KR"]
    with pytest.raises(ValueError, match="unsupported language"):
        normalize_language("fr-FR")
