import wave

from tests.support.web import login_as


def _write_wav(path, seconds=1.0, rate=16000):
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x01\x00" * int(seconds * rate))


def test_audio_is_served_with_range_and_long_caching(app, client, make_user, tmp_path):
    from pathlib import Path
    name = "ab" * 16 + ".wav"
    path = Path(app.config["AUDIO_CACHE_DIR"]) / name
    _write_wav(path)
    login_as(client, make_user("zhang", "learner"))
    full = client.get(f"/media/audio/{name}")
    assert full.status_code == 200 and full.mimetype == "audio/wav"
    assert "immutable" in full.headers["Cache-Control"] and "max-age=31536000" in full.headers["Cache-Control"]
    assert full.headers["Accept-Ranges"] == "bytes"
    part = client.get(f"/media/audio/{name}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and len(part.data) == 100 and part.data == full.data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(full.data)}"


def test_audio_names_outside_the_cache_pattern_are_refused(app, client, make_user):
    login_as(client, make_user("zhang", "learner"))
    assert client.get("/media/audio/..%2Fsecret_key").status_code == 404
    assert client.get("/media/audio/notahash.wav").status_code == 404
    assert client.get("/media/audio/" + "cd" * 16 + ".wav").status_code == 404  # well-formed but absent
