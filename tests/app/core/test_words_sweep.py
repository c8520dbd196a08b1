"""The words people see: every page, as every role, in both languages, shows no raw internal codes and
(in Chinese) no untranslated English.

Walks every GET route without arguments and representative pages with arguments from the demo data (a
scenario, a course, a lesson, an exam, an exam attempt and its result, a call report, its review, a
certificate record, the roster, the user list...) as a learner, a trainer, HR and an administrator, in
zh-CN and en, and checks the visible text (text nodes and the labels a screen reader reads) for:

- role-play codes: ``intent:``, ``end:``, ``call:``, ``forbidden:``, ``drill:``, ``exam:``;
- lowercase snake_case words (``phrase_rewrite``, ``true_false``): an internal name, never a word;
- language codes (``zh-CN``, ``en-US``, ``zh_CN``);
- on Chinese pages: role codes shown as role names (admin, learner, trainer), and English sentences
  (three or more English words in a row).

What is not the app's own words is skipped: form values and text areas (what people typed), ``<code>``,
``<pre>``, ``<kbd>``, ``<samp>`` (code shown as code), elements marked ``translate="no"`` (names, user
content) and elements in another language than the page (``lang="en"`` on a Chinese page). The allowlist below is what remains legitimately English on a Chinese page.
"""
from __future__ import annotations

import html as htmllib
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from tests.support.web import login_as

LANGUAGES = ("zh_CN", "en")
# Demo accounts per role: a learner with progress, a certified agent, the staff.
ACCOUNTS = {"learner": ("trainee", "agent"), "trainer": ("trainer",), "hr": ("hr",), "admin": ("admin",)}

# Legitimately English on a Chinese page (each with its reason); matched against the flagged text.
# (The language switch's "English" and English example text are marked lang="en", so skipped as such.)
ZH_ALLOWED: tuple[str, ...] = ()

SKIP_TAGS = {"script", "style", "code", "pre", "kbd", "samp", "textarea", "option", "svg"}
LABEL_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")

CODES = re.compile(r"\b(?:intent|end|call|forbidden|drill|exam):[A-Za-z_]")
# Lowercase only: upper-case names (REDIS_URL) are configuration variables an administrator sets.
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
# File paths and addresses are code-like: /srv/models/zh-CN names a folder, not a language.
PATHS = re.compile(r"\S*/\S*")
LANGUAGE_CODES = re.compile(r"\b(?:zh-CN|zh_CN|zh-Hans|en-US|ko-KR|en_US)\b")
ROLE_CODES = re.compile(r"\b(?:admin|learner|trainer|hr)\b")
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,]+[A-Za-z][A-Za-z'’-]*){2,}")


class _Visible(HTMLParser):
    """Visible text of a page, with the skipped elements left out."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, language: str):
        super().__init__(convert_charrefs=True)
        self._page_language = "en" if language == "en" else "zh"
        self.chunks: list[str] = []
        self._stack: list[bool] = []  # per open element: is it skipped?

    def _skipping(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # An element in another language than the page (lang="en" on a Chinese page: the English title of a
        # scenario, the language switch's "English") is content in that language, not the page's words.
        other_language = bool(attrs.get("lang")) and not attrs["lang"].startswith(self._page_language)
        skipped = (tag in SKIP_TAGS or attrs.get("translate") == "no" or attrs.get("hidden") is not None
                   or other_language)
        if not self._skipping() and not skipped:
            for name in LABEL_ATTRIBUTES:
                if attrs.get(name):
                    self.chunks.append(attrs[name])
        if tag not in self.VOID:
            self._stack.append(skipped)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID and self._stack:
            self._stack.pop()

    def handle_endtag(self, tag):
        if tag not in self.VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if not self._skipping() and data.strip():
            self.chunks.append(data.strip())


def visible_text(page: str, language: str) -> list[str]:
    parser = _Visible(language)
    parser.feed(page)
    return parser.chunks


def problems(chunks: list[str], language: str) -> list[str]:
    found = []
    for chunk in chunks:
        text = PATHS.sub(" ", htmllib.unescape(chunk))
        for pattern, what in ((CODES, "code"), (SNAKE, "snake_case"), (LANGUAGE_CODES, "language code")):
            found += [f"{what}: {m.group(0)!r} in {text[:80]!r}" for m in pattern.finditer(text)]
        if language == "zh_CN":
            found += [f"role code: {m.group(0)!r} in {text[:80]!r}" for m in ROLE_CODES.finditer(text)]
            for match in ENGLISH_RUN.finditer(text):
                if match.group(0).strip(" ,") not in ZH_ALLOWED:
                    found.append(f"English: {match.group(0)!r} in {text[:80]!r}")
    return found


def test_the_checks_catch_what_they_are_for():
    page = ('<p>intent:greeting</p><p>题型 phrase_rewrite</p><p>语言 zh-CN</p><p>角色 trainer</p>'
            '<p>This was never translated</p><code>end:resolved</code><textarea>my own_text</textarea>'
            '<span translate="no">Mr Smith Jones</span><button aria-label="Close the menu now">×</button>'
            '<p lang="en">Ignored as English content</p>')
    found = problems(visible_text(page, "zh_CN"), "zh_CN")
    assert [f.split(":")[0] for f in found] == ["code", "snake_case", "language code", "role code", "English",
                                                 "English"]
    assert problems(visible_text("<p>The learner chose English</p>", "en"), "en") == []
    assert problems(visible_text('<p>中文 <button lang="en">English</button></p>', "zh_CN"), "zh_CN") == []


# --- the pages ------------------------------------------------------------------------------

def _get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static":
            yield rule.rule


def _first(statement):
    return db.session.scalars(statement).first()


def _pages_with_arguments() -> list[str]:
    """Representative pages from the demo data (the URL of each, found in the database)."""
    from app.courses.models import Course, Lesson
    from app.exams.models import Exam, ExamAttempt
    from app.roleplays.models import Attempt, Scenario
    from app.certification.models import Certificate

    agent = _first(select(User).where(User.username == "agent"))
    trainee = _first(select(User).where(User.username == "trainee"))
    scenario = _first(select(Scenario).where(Scenario.retired.is_(False)).order_by(Scenario.slug))
    course = _first(select(Course).order_by(Course.slug))
    lesson = _first(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.order))
    exam = _first(select(Exam).order_by(Exam.slug))
    exam_attempt = _first(select(ExamAttempt).where(ExamAttempt.user_id == agent.id).order_by(ExamAttempt.id))
    call = _first(select(Attempt).where(Attempt.user_id == agent.id).order_by(Attempt.id))
    certificate = _first(select(Certificate).where(Certificate.user_id == agent.id))
    assert all((agent, trainee, scenario, course, lesson, exam, exam_attempt, call, certificate)), \
        "the demo data should hold each kind of page"
    return [
        f"/roleplays/{scenario.slug}", f"/authoring/scenarios/{scenario.slug}",
        f"/courses/{course.slug}", f"/courses/{course.slug}/lessons/{lesson.slug}",
        f"/exams/{exam.slug}", f"/exams/statistics/{exam.slug}",
        f"/exams/attempts/{exam_attempt.id}/result",
        f"/roleplays/attempts/{call.id}/report", f"/reviews/attempts/{call.id}",
        f"/certification/records/{agent.id}", f"/certification/records/{trainee.id}",
        f"/verify/{certificate.code}", f"/admin/users/{trainee.id}", f"/team/learners/{agent.id}",
    ]


@pytest.fixture
def demo(app, content):
    from app.demo.services import load_demo
    with app.app_context():
        load_demo()
        db.session.commit()
        users = {}
        for role, names in ACCOUNTS.items():
            for name in names:
                user = _first(select(User).where(User.username == name))
                db.session.expunge(user)
                users[name] = (role, user)
        representative = _pages_with_arguments()
        urls = sorted(set(_get_routes(app))) + representative
    return users, (urls, representative)


def test_every_page_speaks_the_page_language_without_internal_codes(app, demo):
    users, (urls, representative) = demo
    seen: dict[str, int] = {}
    report: list[str] = []
    for name, (role, user) in [("anonymous", ("anonymous", None)), *users.items()]:
        for language in LANGUAGES:
            client = app.test_client()
            if user is not None:
                login_as(client, user)
            with client.session_transaction() as session:
                session["lang"] = language
            for url in urls:
                response = client.get(url)
                if response.status_code >= 500:
                    report.append(f"server error {response.status_code} [{language} {name} {url}]")
                if response.status_code != 200 or response.mimetype != "text/html":
                    continue
                seen[url] = seen.get(url, 0) + 1
                for problem in problems(visible_text(response.get_data(as_text=True), language), language):
                    report.append(f"{problem} [{language} {name} {url}]")
    # Every representative page, and most pages without arguments, were really looked at.
    report += [f"never shown: {url}" for url in representative if url not in seen]
    assert len(seen) >= 40, sorted(seen)
    # One line per problem, with where it was first seen and how often.
    grouped: dict[str, list[str]] = {}
    for line in report:
        problem, _, where = line.rpartition(" [")
        grouped.setdefault(problem or line, []).append(where.rstrip("]"))
    lines = [f"{problem} [{places[0]}{f' and {len(places) - 1} more' if len(places) > 1 else ''}]"
             for problem, places in sorted(grouped.items())]
    assert not lines, f"{len(lines)} problems:\n" + "\n".join(lines)
