"""/notifications: the reader's own notices in their language, the header's unread count, mark one read,
mark all read, open (read and go); someone else's notice is not found; every change is a POST with CSRF."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from app.core.clock import utcnow
from app.extensions import db
from app.notifications import kinds, services
from app.notifications.models import Notification
from tests.support.web import csrf_token, login_as

from tests.support.notifications import COMMENT, notices_of


def _give(app, user_id, kind=kinds.CALL_REVIEWED, **params):
    params = params or {"trainer": "王老师", "scenario": {"zh-CN": "重复扣费", "en": "Double billing"},
                        "comment": COMMENT}
    with app.app_context():
        notice = services.notify(user_id, kind, params, link=("roleplays.report", {"attempt_id": 7}))
        db.session.commit()
        return notice.id


def _client(app, user, language=None):
    client = app.test_client()
    login_as(client, user)
    if language:
        with client.session_transaction() as sess:
            sess["lang"] = language
    return client


def _unread_badge(html: str) -> str | None:
    match = re.search(r'id="unread-count">([^<]+)<', html)
    return match.group(1) if match else None


def test_the_list_shows_the_notice_in_the_readers_language_with_the_count_in_the_header(app, make_user):
    learner = make_user("li", "learner")
    _give(app, learner.id)
    _give(app, learner.id, kinds.ASSIGNMENT_GIVEN, title={"zh-CN": "通话基础", "en": "Call basics"}, due="2026-12-24")

    zh = _client(app, learner).get("/notifications").get_data(as_text=True)
    assert _unread_badge(zh) == "2"
    assert COMMENT in zh and "重复扣费" in zh and "Double billing" not in zh and "通话基础" in zh
    en = _client(app, learner, "en").get("/notifications").get_data(as_text=True)
    assert "王老师 reviewed your call “Double billing”." in en and "New assignment: “Call basics”, due 2026-12-24." in en
    assert "Trainer&#39;s comment" in en and COMMENT in en
    # Every page's header shows the count, linking to the list.
    home = _client(app, learner).get("/account").get_data(as_text=True)
    assert _unread_badge(home) == "2" and 'href="/notifications"' in home


def test_what_a_person_wrote_is_escaped(app, make_user):
    learner = make_user("li", "learner")
    _give(app, learner.id, trainer="<b>王</b>", scenario="x", comment="<script>alert(1)</script>")
    html = _client(app, learner).get("/notifications").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>王</b>" not in html


def test_mark_one_read_then_all_read(app, make_user):
    learner = make_user("li", "learner")
    first, second, third = (_give(app, learner.id) for _ in range(3))
    client = _client(app, learner)
    token = csrf_token(client, "/notifications")
    assert client.post(f"/notifications/{first}/read", data={"csrf_token": token}).status_code == 302
    assert [n.read_at is not None for n in notices_of(app, learner.id)] == [True, False, False]
    assert _unread_badge(client.get("/notifications").get_data(as_text=True)) == "2"

    assert client.post("/notifications/read-all", data={"csrf_token": token}).status_code == 302
    assert all(n.read_at is not None for n in notices_of(app, learner.id))
    page = client.get("/notifications").get_data(as_text=True)
    assert _unread_badge(page) is None and 'id="mark-all-read"' not in page and f'id="notice-{third}"' in page


def test_open_marks_read_and_goes_to_the_link(app, make_user):
    learner = make_user("li", "learner")
    notice_id = _give(app, learner.id)
    client = _client(app, learner)
    token = csrf_token(client, "/notifications")
    response = client.post(f"/notifications/{notice_id}/open", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/roleplays/attempts/7/report")
    assert notices_of(app, learner.id)[0].read_at is not None


def test_changes_need_the_csrf_token(app, make_user):
    learner = make_user("li", "learner")
    notice_id = _give(app, learner.id)
    client = _client(app, learner)
    assert client.post(f"/notifications/{notice_id}/read").status_code == 400
    assert client.post("/notifications/read-all").status_code == 400
    assert client.post(f"/notifications/{notice_id}/open").status_code == 400
    assert notices_of(app, learner.id)[0].read_at is None


def test_someone_elses_notice_is_not_found_and_stays_unread(app, make_user):
    owner = make_user("li", "learner")
    stranger = make_user("hr1", "hr", "admin")
    notice_id = _give(app, owner.id)
    client = _client(app, stranger)
    token = csrf_token(client, "/notifications")
    assert client.post(f"/notifications/{notice_id}/read", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/notifications/{notice_id}/open", data={"csrf_token": token}).status_code == 404
    client.post("/notifications/read-all", data={"csrf_token": token})  # only the stranger's own
    page = client.get("/notifications").get_data(as_text=True)
    assert COMMENT not in page and 'id="no-notices"' in page
    assert notices_of(app, owner.id)[0].read_at is None
    assert app.test_client().get("/notifications").status_code == 302  # anonymous: to the login page


def test_the_empty_list_says_what_will_appear(app, make_user):
    learner = make_user("li", "learner")
    html = _client(app, learner, "en").get("/notifications").get_data(as_text=True)
    assert 'id="no-notices"' in html and "Reviews of your calls" in html and _unread_badge(html) is None


def test_reading_the_list_writes_nothing(app, make_user):
    learner = make_user("li", "learner")
    _give(app, learner.id)
    client = _client(app, learner)
    for _ in range(2):
        assert client.get("/notifications").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id)).where(Notification.read_at.is_not(None))) == 0


def test_the_list_pages_after_fifty(app, make_user):
    learner = make_user("li", "learner")
    with app.app_context():
        for n in range(services.PAGE_SIZE + 3):
            services.notify(learner.id, kinds.CERTIFICATE_ISSUED, {"level": {"zh-CN": "座席", "en": "Agent"}})
        db.session.commit()
    client = _client(app, learner)
    first = client.get("/notifications").get_data(as_text=True)
    assert first.count('class="notice-item') == services.PAGE_SIZE and "?page=2" in first
    assert _unread_badge(first) == str(services.PAGE_SIZE + 3)
    second = client.get("/notifications?page=2").get_data(as_text=True)
    assert second.count('class="notice-item') == 3
    beyond = client.get("/notifications?page=9").get_data(as_text=True)
    assert 'id="no-more-notices"' in beyond and 'id="no-notices"' not in beyond
    # A page number no database column holds is read as the first page, not an error.
    assert client.get("/notifications?page=99999999999999999999").status_code == 200
