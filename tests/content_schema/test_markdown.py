"""Lesson Markdown rendering, sanitizing and the unsafe-HTML check."""

import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from content_schema import check_markdown, render_markdown
from content_schema.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, split_front_matter

PREFIX = "/courses/demo/assets/"


def render(body: str) -> str:
    return render_markdown(body, asset_url_prefix=PREFIX)


def messages(body: str, first_line: int = 1) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in check_markdown(body, first_line=first_line).problems]


def test_commonmark_tables_and_code_render():
    html = render("| 步骤 | 话术 |\n|---|---|\n| 1 | 您好 |\n\n```text\n请稍等\n```\n\n3. 第三步\n")
    assert "<table>" in html and "<td>您好</td>" in html
    assert '<pre><code class="language-text">请稍等\n</code></pre>' in html
    assert '<ol start="3">' in html


def test_allowed_raw_html_passes_the_check_and_the_render():
    body = '<strong>重点</strong>：三声内接听<br>\n\n<audio controls src="assets/call.mp3"></audio>\n'
    assert messages(body) == []
    html = render(body)
    assert "<strong>重点</strong>" in html and "<br>" in html
    assert '<audio controls="" src="/courses/demo/assets/call.mp3"></audio>' in html


def test_unsafe_constructs_are_reported_at_file_lines():
    body = (
        "第一段\n"
        "\n"
        "<iframe src=\"https://evil.example\"></iframe>\n"
        "\n"
        "文字 <a href=\"JaVa&#x09;Script:alert(1)\" style=\"color:red\">链接</a>\n"
        "![x](data:image/png;base64,AAAA)\n"
    )
    assert messages(body, first_line=6) == [
        (8, "HTML tag <iframe> is not allowed (expected Markdown or safe tags: headings, p, lists, tables, code, "
            "pre, blockquote, strong, em, a, img, audio)"),
        (10, 'unsafe link in <a href>: "javascript:" URLs are not allowed '
             "(expected http, https, mailto or a relative link)"),
        (10, "attribute style= on <a> is not allowed (expected: href, title)"),
        (11, 'unsafe link in <img src>: "data:" URLs are not allowed (expected http, https, mailto or a relative link)'),
    ]
    html = render(body)
    assert "iframe" not in html and "style=" not in html
    assert "javascript" not in html.lower() and "data:" not in html


def test_images_must_come_from_assets_and_asset_references_are_collected():
    check = check_markdown("![a](diagram.png)\n\n![b](./assets/%E5%9B%BE.png)\n", first_line=1)
    assert [(p.line, p.message) for p in check.problems] == [
        (1, '<img> source "diagram.png" is not in assets/ (expected assets/<file>)')
    ]
    assert [(a.name, a.line) for a in check.assets] == [("图.png", 3)]


def test_external_and_mailto_links_are_kept():
    html = render("[邮件](mailto:training@example.com) [站点](https://example.com/a)\n")
    assert 'href="mailto:training@example.com"' in html
    assert 'href="https://example.com/a"' in html


def test_front_matter_split():
    split = split_front_matter("---\ntitle: 标题\norder: 1\n---\n正文\n")
    assert split is not None
    assert (split.yaml_text, split.body, split.body_first_line) == ("title: 标题\norder: 1", "正文\n", 5)
    assert split_front_matter("# 标题\n---\n") is None
    assert split_front_matter("---\ntitle: 未闭合\n") is None


FRAGMENTS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
    '<a href="javascript:alert(1)">a</a>', "<svg onload=alert(1)>", "<style>body{}</style>",
    '<div onclick="alert(1)">d</div>', "<iframe src=//x>", "**粗体**", "普通文字", "\n\n", "<", ">", "`",
    '<a href="vbscript:msgbox(1)">v</a>', "<object data=x>", "<p style=\"x\">",
]


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=8))
def test_render_never_emits_active_content(parts):
    # Leftover text such as "alert(1)" is inert; what matters is the elements and attributes.
    collector = _TagCollector()
    collector.feed(render("".join(parts)))
    for tag, attrs in collector.tags:
        assert tag in ALLOWED_TAGS
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}
            if name in ("href", "src"):
                assert not re.match(r"\s*(javascript|vbscript|data):", value or "", re.IGNORECASE)
