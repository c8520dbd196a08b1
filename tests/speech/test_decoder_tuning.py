"""speech.asr.tune_model: the decoder settings written into a model's conf at load time."""
from __future__ import annotations

from pathlib import Path

from speech.asr import DECODER_DEFAULTS, ModelRegistry, tune_model
from speech.models import SpeechConfig


def _fake_model(root: Path) -> Path:
    model = root / "ko-KR"
    (model / "am").mkdir(parents=True)
    (model / "am" / "final.mdl").write_bytes(b"weights")
    (model / "conf").mkdir()
    (model / "conf" / "mfcc.conf").write_text("--use-energy=false\n")
    (model / "conf" / "model.conf").write_text("--min-active=200\n--max-active=3000\n--beam=10.0\n"
                                               "--lattice-beam=2.0\n--frame-subsampling-factor=3\n")
    return model


def test_a_tuned_copy_changes_only_the_decoder_flags_and_links_the_rest(tmp_path):
    model = _fake_model(tmp_path)
    cache = tmp_path / "tuned"
    cache.mkdir()
    tuned = tune_model(model, {"beam": "7.0", "max-active": "1500", "lattice-beam": None, "extra": "1"}, cache)
    assert tuned != model and tuned.parent == cache
    assert (tuned / "conf" / "model.conf").read_text().split() == [
        "--min-active=200", "--max-active=1500", "--beam=7.0", "--lattice-beam=2.0",
        "--frame-subsampling-factor=3", "--extra=1"]
    assert (tuned / "am").is_symlink() and (tuned / "am" / "final.mdl").read_bytes() == b"weights"
    assert (tuned / "conf" / "mfcc.conf").read_text() == "--use-energy=false\n"
    # The shipped model is untouched, and the same settings reuse the same copy.
    assert "--beam=10.0" in (model / "conf" / "model.conf").read_text()
    assert tune_model(model, {"beam": "7.0", "max-active": "1500", "extra": "1"}, cache) == tuned


def test_no_change_loads_the_model_as_shipped(tmp_path):
    model = _fake_model(tmp_path)
    assert tune_model(model, {}, tmp_path) == model
    assert tune_model(model, {"beam": "10.0"}, tmp_path) == model


def test_the_registry_tunes_by_default_and_can_load_as_shipped(tmp_path):
    config = SpeechConfig(model_dir=tmp_path)
    assert ModelRegistry(config).decoder == DECODER_DEFAULTS and DECODER_DEFAULTS["beam"] == "7.0"
    model = _fake_model(tmp_path)
    tuned = ModelRegistry(config)._tuned(model)
    assert tuned.parent == tmp_path / ".tuned" and "--beam=7.0" in (tuned / "conf" / "model.conf").read_text()
    assert ModelRegistry(config, decoder={})._tuned(model) == model
