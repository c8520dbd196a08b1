import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_ui_string_has_a_chinese_translation():
    # msgids are English; zh_CN is the default UI language, so a gap would show English to most users.
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "i18n.py"), "missing"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, "untranslated msgids:\n" + result.stdout


def test_ui_defaults_to_chinese_and_switches_to_english(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and 'lang="zh-CN"' in page
    from tests.support.web import csrf_token
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client)})
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and "登录" not in page.replace('lang="zh-CN">中文', "")
