"""The header on every page: the active language is marked in both languages, and the favicon is served."""
import re

from tests.support.web import csrf_token


def _pressed(page: str) -> list[str]:
    return re.findall(r'<button type="submit" name="language" value="([^"]+)"[^>]*aria-pressed="true"', page)


def test_the_active_language_button_is_marked_in_chinese_and_in_english(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert _pressed(page) == ["zh_CN"]
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client)})
    assert _pressed(client.get("/login").get_data(as_text=True)) == ["en"]
    client.post("/language", data={"language": "zh-CN", "csrf_token": csrf_token(client)})
    assert _pressed(client.get("/login").get_data(as_text=True)) == ["zh_CN"]


def test_the_favicon_is_served_to_anyone_and_linked_from_every_page(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00" and len(response.data) < 20_000  # an ICO file, small
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico"' in page
