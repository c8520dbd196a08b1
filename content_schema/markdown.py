"""Lesson Markdown: front matter, rendering, sanitizing and the unsafe-HTML check.

Rendering ALWAYS sanitizes with nh3, whatever the content says. Checking reports
everything the sanitizer would remove (with the line) so authors fix the source
instead of publishing something that silently differs from what they wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset(
    {
        "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr",
        "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
        "code", "pre", "blockquote", "strong", "em", "a", "img", "audio",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "audio": {"src", "controls"},  # listening material from assets/
    "ol": {"start"},  # "3. item" starts a list at 3
    "th": {"style"},  # table column alignment; only text-align survives
    "td": {"style"},
    "code": {"class"},  # language-xxx on fenced code
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
ASSET_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "mp3", "wav", "ogg"})
_URL_ATTRIBUTES = {"href", "src"}
_EMBEDDING_TAGS = {"img", "audio"}  # their src must be an asset or an absolute URL
_SCHEME_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
_FRONT_MATTER_FENCE = re.compile(r"---[ \t]*")


def _parser() -> MarkdownIt:
    # html=True only so that raw HTML reaches the checker and the sanitizer instead
    # of being escaped; every link is kept (validateLink) for the same reason.
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


_MD = _parser()


@dataclass(frozen=True)
class FrontMatterSplit:
    yaml_text: str
    yaml_line_offset: int  # add to a YAML line to get the file line
    body: str
    body_first_line: int  # 1-based file line of the body's first line


def split_front_matter(text: str) -> FrontMatterSplit | None:
    """Split ``---`` front matter from the body; None when the file has none."""
    lines = text.split("\n")
    if not lines or not _FRONT_MATTER_FENCE.fullmatch(lines[0]):
        return None
    for index in range(1, len(lines)):
        if _FRONT_MATTER_FENCE.fullmatch(lines[index]):
            return FrontMatterSplit(
                yaml_text="\n".join(lines[1:index]),
                yaml_line_offset=1,
                body="\n".join(lines[index + 1 :]),
                body_first_line=index + 2,
            )
    return None


@dataclass(frozen=True)
class MarkdownProblem:
    line: int
    message: str


@dataclass(frozen=True)
class AssetReference:
    name: str  # path inside the course's assets/ folder, URL-decoded
    line: int


@dataclass(frozen=True)
class MarkdownCheck:
    problems: tuple[MarkdownProblem, ...]
    assets: tuple[AssetReference, ...]


def asset_name(url: str) -> str | None:
    """The file inside ``assets/`` that a relative URL points to, else None."""
    url = url.strip()
    if url.startswith("./"):
        url = url[2:]
    if not url.startswith("assets/"):
        return None
    return unquote(re.split(r"[?#]", url, maxsplit=1)[0][len("assets/") :])


def _scheme(url: str) -> str | None:
    # Browsers ignore whitespace and control characters inside a scheme ("java\tscript:").
    compact = re.sub(r"[\x00-\x20]", "", url)
    match = _SCHEME_RE.match(compact)
    return match.group(1).lower() if match else None


class _Checker:
    def __init__(self, body_lines: list[str], first_line: int) -> None:
        self._body_lines = body_lines
        self._first_line = first_line
        self.problems: list[MarkdownProblem] = []
        self.assets: list[AssetReference] = []

    def file_line(self, body_index: int) -> int:
        return self._first_line + body_index

    def find_line(self, needle: str, token_map: list[int] | None) -> int:
        """The file line inside a block where ``needle`` appears (inline tokens have no map)."""
        start, end = token_map if token_map else (0, 1)
        for candidate in (needle, unquote(needle)):
            for index in range(start, min(end, len(self._body_lines))):
                if candidate and candidate in self._body_lines[index]:
                    return self.file_line(index)
        return self.file_line(start)

    def url(self, tag: str, attribute: str, url: str, line: int) -> None:
        scheme = _scheme(url)
        if scheme is not None:
            if scheme not in URL_SCHEMES:
                self.problems.append(
                    MarkdownProblem(
                        line,
                        f'unsafe link in <{tag} {attribute}>: "{scheme}:" URLs are not allowed '
                        "(expected http, https, mailto or a relative link)",
                    )
                )
            return
        name = asset_name(url)
        if name is not None:
            self.assets.append(AssetReference(name, line))
        elif tag in _EMBEDDING_TAGS and not url.startswith("/"):
            self.problems.append(
                MarkdownProblem(line, f'<{tag}> source "{url}" is not in assets/ (expected assets/<file>)')
            )

    def html(self, fragment: str, line: int) -> None:
        parser = _HtmlChecker(self, line)
        parser.feed(fragment)
        parser.close()


class _HtmlChecker(HTMLParser):
    """Reports raw HTML that the sanitizer would remove or that is unsafe."""

    def __init__(self, checker: _Checker, first_line: int) -> None:
        super().__init__(convert_charrefs=True)
        self._checker = checker
        self._first_line = first_line

    def _line(self) -> int:
        return self._first_line + self.getpos()[0] - 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self._line()
        if tag not in ALLOWED_TAGS:
            self._checker.problems.append(
                MarkdownProblem(
                    line,
                    f"HTML tag <{tag}> is not allowed (expected Markdown or safe tags: "
                    "headings, p, lists, tables, code, pre, blockquote, strong, em, a, img, audio)",
                )
            )
            return
        allowed = ALLOWED_ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            if name.startswith("on"):
                self._checker.problems.append(
                    MarkdownProblem(line, f"event handler attribute {name}= on <{tag}> is not allowed (expected none)")
                )
            elif name not in allowed:
                expected = ", ".join(sorted(allowed)) or "none"
                self._checker.problems.append(
                    MarkdownProblem(line, f"attribute {name}= on <{tag}> is not allowed (expected: {expected})")
                )
            elif name in _URL_ATTRIBUTES and value is not None:
                self._checker.url(tag, name, value, line)


def check_markdown(body: str, *, first_line: int) -> MarkdownCheck:
    """Find unsafe or stripped HTML, bad link schemes and asset references.

    ``first_line`` is the file line of the body's first line, so that reported
    lines are file lines.
    """
    checker = _Checker(body.split("\n"), first_line)
    for token in _MD.parse(body):
        if token.type == "html_block" and token.map:
            checker.html(token.content, checker.file_line(token.map[0]))
        elif token.type == "inline":
            _check_inline(checker, token)
    return MarkdownCheck(tuple(checker.problems), tuple(checker.assets))


def _check_inline(checker: _Checker, inline: Token) -> None:
    for child in inline.children or []:
        if child.type == "html_inline":
            checker.html(child.content, checker.find_line(child.content, inline.map))
        elif child.type == "link_open":
            href = str(child.attrGet("href") or "")
            checker.url("a", "href", href, checker.find_line(href, inline.map))
        elif child.type == "image":
            src = str(child.attrGet("src") or "")
            checker.url("img", "src", src, checker.find_line(src, inline.map))


def render_markdown(body: str, *, asset_url_prefix: str) -> str:
    """Render CommonMark + tables to sanitized HTML.

    Relative ``assets/...`` links and sources are rewritten to
    ``asset_url_prefix + <file>`` (e.g. ``/courses/<slug>/assets/``).
    """
    prefix = asset_url_prefix if asset_url_prefix.endswith("/") else asset_url_prefix + "/"

    def rewrite(tag: str, attribute: str, value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES:
            stripped = value.strip().removeprefix("./")
            if stripped.startswith("assets/"):
                return prefix + stripped[len("assets/") :]
        return value

    return nh3.clean(
        _MD.render(body),
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        filter_style_properties={"text-align"},
        attribute_filter=rewrite,
    )

