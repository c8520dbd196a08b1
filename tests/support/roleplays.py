"""Role-plays as the tests drive them: the drill API client, scripted replies built from the synced
rubric, the shipped and Korean scenarios' slugs and good Korean replies, WAV wrapping.
(The Korean content and speech fixtures, ko_content and korean_speech, are in tests/support/content.py
and tests/support/speech.py.)"""
from __future__ import annotations

import io
import re
import wave

from sqlalchemy import select

from app.extensions import db
from app.roleplays.models import Scenario
from app.roleplays.scenario import ScenarioDoc
from tests.support.web import csrf_token, login_as

ZH_SLUG = "broadband-outage-refund"
KO_SLUG = "ko-thanks-for-waiting"
# Korean replies that satisfy each node of that scenario on its good path (opening -> order -> thanks).
HELLO = "안녕하세요 기다려 주셔서 감사합니다"
SORRY = "죄송합니다 확인하겠습니다"
THANKS = "감사합니다 기다려 주셔서 감사합니다"
KO_GOOD_CALL = (HELLO, SORRY, THANKS)


def scenario_doc(app, slug: str) -> ScenarioDoc:
    with app.app_context():
        row = db.session.scalar(select(Scenario).where(Scenario.slug == slug))
        return ScenarioDoc(row.current_version.spec)


def good_reply(doc: ScenarioDoc, node_id: str, *, greeting: bool = False, closing: bool = False,
               only: tuple[str, ...] | None = None) -> str:
    """A reply made of the node's accepted phrasings (each intent's first phrase)."""
    parts = [doc.greeting.phrases[0]] if greeting and doc.greeting else []
    for item in doc.nodes[node_id].rubric:
        if item.kind != "intent" or (only is not None and item.id not in only):
            continue
        parts.append(item.phrases[0] if item.phrases else "".join(group[0] for group in item.elements))
    if closing and doc.closing:
        parts.append(doc.closing.phrases[0])
    return "。".join(parts) + "。"


def bad_reply(doc: ScenarioDoc, node_id: str) -> str:
    """A reply saying the node's forbidden phrases and nothing it asks for."""
    forbidden = [item.phrases[0] for item in doc.nodes[node_id].rubric if item.kind == "forbidden"]
    return "。".join(forbidden + ["这是公司的规定"]) + "。"


class Drill:
    """The call screen's requests, as static/js/drill/stream.js sends them."""

    def __init__(self, client, user):
        self.client = client
        login_as(client, user)
        self.token = csrf_token(client, "/roleplays/")

    @property
    def headers(self):
        return {"X-CSRFToken": self.token}

    def start(self, slug: str, mode: str = "typed") -> int:
        response = self.client.post(f"/roleplays/{slug}/start", data={"csrf_token": self.token, "mode": mode})
        assert response.status_code == 302, response.get_data(as_text=True)
        match = re.search(r"/roleplays/attempts/(\d+)/call", response.headers["Location"])
        assert match, response.headers["Location"]
        return int(match.group(1))

    def state(self, attempt_id: int):
        return self.client.get(f"/api/roleplays/attempts/{attempt_id}/state")

    def answer(self, attempt_id: int, rings: int = 2):
        return self.client.post(f"/api/roleplays/attempts/{attempt_id}/answer", json={"rings": rings},
                                headers=self.headers)

    def say(self, attempt_id: int, text: str):
        return self.client.post(f"/api/roleplays/attempts/{attempt_id}/turns", json={"text": text},
                                headers=self.headers)

    def upload(self, attempt_id: int, wav: bytes, speech_ended_ms: int | None = None):
        data = {"audio": (io.BytesIO(wav), "reply.wav", "audio/wav")}
        if speech_ended_ms is not None:
            data["speech_ended_ms"] = str(speech_ended_ms)
        return self.client.post(f"/api/roleplays/attempts/{attempt_id}/turns", data=data, headers=self.headers,
                                content_type="multipart/form-data")

    def abandon(self, attempt_id: int):
        return self.client.post(f"/api/roleplays/attempts/{attempt_id}/abandon", headers=self.headers)


def pcm_wav(samples: bytes, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue()
