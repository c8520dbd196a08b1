"""Certification for the tests (a pytest plugin): the rules file as a stored version, and learner evidence.

Evidence normally comes from the courses, exams and role-play services; most certification tests
replace those four sources with an in-memory store (fixture ``evidence``) so that they can set
exact scores and dates (the integration tests use the real services).
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from app.certification import rules
from app.content.services import SyncReport
from content_schema import Certification
from content_schema.models import CertificationSpec

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = yaml.safe_load((ROOT / "exams" / "certification.yaml").read_text(encoding="utf-8"))

AGENT_COURSES = ["call-centre-basics", "call-handling", "emotion-management", "service-language"]


def spec_dict(**changes) -> dict:
    data = yaml.safe_load(yaml.safe_dump(SHIPPED))  # deep copy
    data.update(changes)
    return data


def install_spec(data: dict | None = None) -> SyncReport:
    """Store a certification file through the real syncer (call inside an app context)."""
    from app.certification import requirements
    from app.extensions import db
    data = data or spec_dict()
    spec = CertificationSpec.model_validate(data)
    checksum = hashlib.sha256(yaml.safe_dump(data).encode()).hexdigest()
    bundle = SimpleNamespace(certification=Certification(spec, "exams/certification.yaml", checksum),
                             courses={}, exams={}, scenarios={})
    report = SyncReport()
    requirements.sync_certification(bundle, report)
    db.session.commit()
    return report


class EvidenceStore:
    def __init__(self):
        self.data: dict[int, dict] = {}

    def of(self, user_id: int) -> dict:
        return self.data.setdefault(user_id, {"courses": {}, "exams": {}, "roleplays": [], "listen": []})

    # --- building blocks ---
    def courses(self, user_id, slugs, at):
        for slug in slugs:
            self.of(user_id)["courses"][slug] = at

    def exam(self, user_id, slug, score, at, attempt_id=None):
        attempt_id = attempt_id or 1000 + len(self.of(user_id)["exams"])
        self.of(user_id)["exams"][slug] = rules.ExamResult(attempt_id, score, True, at)

    def roleplays(self, user_id, count, difficulty, score, at, mode="voice", language="zh-CN"):
        items = self.of(user_id)["roleplays"]
        ids = []
        for _ in range(count):
            attempt_id = 2000 + len(items)
            items.append(rules.RoleplayResult(attempt_id, "double-billing", difficulty, score, True, at, mode,
                                              language))
            ids.append(attempt_id)
        return ids

    def listen(self, user_id, cpm, accuracy, at):
        items = self.of(user_id)["listen"]
        items.append(rules.ListenTypeResult(3000 + len(items), "lt-1", accuracy, cpm, at))

    # --- whole levels (shipped rules) ---
    def agent(self, user_id, at, *, exam_score=80):
        self.courses(user_id, AGENT_COURSES, at)
        self.exam(user_id, "cert-agent", exam_score, at)
        self.roleplays(user_id, 3, 1, 80, at)
        self.listen(user_id, 55, 0.95, at)

    def senior(self, user_id, at):
        self.courses(user_id, ["service-quality"], at)
        self.exam(user_id, "cert-senior", 85, at)
        self.roleplays(user_id, 5, 2, 85, at)
        self.listen(user_id, 65, 0.95, at)

    def expert(self, user_id, at):
        """Everything of the expert level but the trainer's sign-off."""
        self.courses(user_id, ["professional-growth"], at)
        self.exam(user_id, "cert-expert", 90, at)
        self.roleplays(user_id, 5, 3, 90, at)
        self.listen(user_id, 75, 0.97, at)


@pytest.fixture
def evidence(monkeypatch) -> EvidenceStore:
    from app.certification import evidence_sources
    store = EvidenceStore()
    monkeypatch.setattr(evidence_sources, "course_evidence", lambda uid: dict(store.of(uid)["courses"]))
    monkeypatch.setattr(evidence_sources, "exam_evidence",
                        lambda uid, slugs: {s: r for s, r in store.of(uid)["exams"].items() if s in set(slugs)})
    monkeypatch.setattr(evidence_sources, "listen_type_evidence", lambda uid: list(store.of(uid)["listen"]))
    monkeypatch.setattr(evidence_sources, "roleplay_evidence",
                        lambda uid, *, min_difficulty, since, typed=False: [
                            r for r in store.of(uid)["roleplays"]
                            if r.difficulty >= min_difficulty and r.finished_at >= since
                            and (typed or r.mode == "voice")])
    return store


@pytest.fixture
def shipped_rules(app):
    with app.app_context():
        install_spec()


def months_later(moment: datetime, months: int) -> datetime:
    from app.certification import operations
    return operations.add_months(moment, months)


def days(n: float) -> timedelta:
    return timedelta(days=n)
