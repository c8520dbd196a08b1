"""Email: with SMTP configured, notices are mailed after the transaction commits, in the reader's language,
to a real SMTP server this test starts (aiosmtpd). A failing server never breaks the request: the notice
stays in the outbox and the sweep sends it later."""
from __future__ import annotations

import email
import email.policy
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from app.accounts.models import User

from app.core.clock import utcnow
from app.certification import operations
from app.extensions import db
from app.notifications import kinds, mail, services
from tests.support.certification import install_spec, spec_dict
from tests.support.web import csrf_token, login_as

from tests.support.notifications import COMMENT, notices_of


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_FROM", "坐席学院 <academy@example.com>")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://academy.example.com")
    yield inbox
    controller.stop()


def _review_notice(app, user_id):
    services.notify(user_id, kinds.CALL_REVIEWED,
                    {"trainer": "王老师", "scenario": {"zh-CN": "重复扣费", "en": "Double billing"}, "comment": COMMENT},
                    link=("roleplays.report", {"attempt_id": 7}))


def test_mail_goes_after_the_commit_in_each_readers_language(app, make_user, smtp):
    english = make_user("li", "learner", name="Li Ming", email="li@example.com")
    chinese = make_user("wang", "learner", name="王芳", email="wang@example.com")
    no_email = make_user("zhao", "learner")
    with app.app_context():
        db.session.get(User, english.id).language = "en"
        db.session.commit()
    with app.app_context():
        for user in (english, chinese, no_email):
            _review_notice(app, user.id)
        db.session.commit()
        assert smtp.messages == []  # not before the context that committed is done
    assert sorted(r[0] for r in smtp.recipients) == ["li@example.com", "wang@example.com"]
    by_to = {m["To"].addresses[0].addr_spec: m for m in smtp.messages}
    en, zh = by_to["li@example.com"], by_to["wang@example.com"]
    assert en["Subject"] == "Agent Academy: 王老师 reviewed your call “Double billing”."
    body = en.get_content()
    assert "Hello Li Ming," in body and COMMENT in body
    assert "https://academy.example.com/roleplays/attempts/7/report" in body
    assert en["From"].addresses[0].addr_spec == "academy@example.com"
    # Chinese is the default for someone who never chose: the scenario's Chinese title, never the English one.
    assert "重复扣费" in zh["Subject"] and "Double billing" not in zh["Subject"] and COMMENT in zh.get_content()
    sent = {n.user_id: n.emailed_at for n in notices_of(app, english.id) + notices_of(app, chinese.id)
            + notices_of(app, no_email.id)}
    assert sent[english.id] and sent[chinese.id] and sent[no_email.id] is None


def test_nothing_is_mailed_for_a_rolled_back_transaction(app, make_user, smtp):
    learner = make_user("li", "learner", email="li@example.com")
    with app.app_context():
        _review_notice(app, learner.id)
        db.session.flush()
        db.session.rollback()
    assert smtp.messages == [] and notices_of(app, learner.id) == []


def test_a_dead_mail_server_never_breaks_the_request_and_the_sweep_sends_later(app, make_user, evidence, monkeypatch,
                                                                              smtp):
    learner = make_user("chen", "learner", name="陈静", email="chen@example.com")
    hr = make_user("hr1", "hr")
    evidence.agent(learner.id, utcnow() - timedelta(days=1))
    with app.app_context():
        install_spec(spec_dict(approval="hr"))
        [pending] = operations.reevaluate(learner.id)
        db.session.commit()
        pending_id = pending.id
    smtp.messages.clear()
    good_port = app.config["MAIL_PORT"]
    monkeypatch.setitem(app.config, "MAIL_PORT", _free_port())  # nobody listens there

    client = app.test_client()
    login_as(client, hr)
    token = csrf_token(client, "/certification/records")
    response = client.post(f"/certification/certificates/{pending_id}/approve", data={"csrf_token": token})
    assert response.status_code == 302  # HR's decision stands
    [approved] = [n for n in notices_of(app, learner.id) if n.kind == kinds.CERTIFICATE_APPROVED]
    assert approved.emailed_at is None and approved.email_attempts == 1

    monkeypatch.setitem(app.config, "MAIL_PORT", good_port)
    result = app.test_cli_runner().invoke(args=["notifications", "sweep"])
    assert result.exit_code == 0 and "mails sent: 1" in result.output, result.output
    [message] = smtp.messages
    assert message["To"].addresses[0].addr_spec == "chen@example.com" and "座席" in message["Subject"]
    assert [n for n in notices_of(app, learner.id) if n.kind == kinds.CERTIFICATE_APPROVED][0].emailed_at
    again = app.test_cli_runner().invoke(args=["notifications", "sweep"])
    assert "mails sent: 0" in again.output and len(smtp.messages) == 1  # never twice


def test_without_a_mail_server_nothing_is_tried(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    learner = make_user("li", "learner", email="li@example.com")
    with app.app_context():
        _review_notice(app, learner.id)
        db.session.commit()
        assert mail.deliver() == (0, 0)
    [notice] = notices_of(app, learner.id)
    assert notice.emailed_at is None and notice.email_attempts == 0
