"""``load_content``: find, parse and cross-check every authored file.

Each file is validated on its own first (YAML, then its pydantic model); the cross-file
checks then run on whatever parsed, so one run reports every error in the tree.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from . import checks
from .bundle import (
    Certification,
    ContentBundle,
    Course,
    Exam,
    Lesson,
    LessonText,
    ResolvedNode,
    Scenario,
)
from .errors import ContentValidationError, ErrorCollector
from .messages import message
from .markdown import (
    ASSET_EXTENSIONS,
    AssetReference,
    check_markdown,
    render_markdown,
    split_front_matter,
)
from .models import (
    REQUIRED_FORBIDDEN,
    REQUIRED_INTENTS,
    CertificationSpec,
    CourseSpec,
    ExamSpec,
    LessonFrontMatter,
    LibrarySpec,
    PhrasebookSpec,
    PhraseRewriteQuestion,
    ScenarioSpec,
)
from .rubrics import check_patterns, check_rubric, library_intent, library_rules, resolve_rubric, with_calm_courtesy
from .validation import Reporter, validate_document
from .yaml_lines import YamlDocument, YamlProblems, load_yaml

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

LIBRARY_FILE = "roleplays/_library.yaml"
PHRASEBOOK_FILE = "roleplays/_phrasebook.yaml"
CERTIFICATION_FILE = "exams/certification.yaml"
_LESSON_FILE_RE = re.compile(r"(?P<slug>[a-z0-9][a-z0-9-]{1,62})\.(?P<language>zh-CN|en)\.md")


def default_asset_url_prefix(course_slug: str) -> str:
    return f"/courses/{course_slug}/assets/"


def load_content(
    root: Path, *, asset_url_prefix: Callable[[str], str] | None = None
) -> ContentBundle:
    """Validate everything under ``root`` (which holds courses/, exams/, roleplays/).

    ``asset_url_prefix(course_slug)`` gives the URL that lesson ``assets/...`` links
    are rewritten to (default ``/courses/<slug>/assets/``). Raises
    ``ContentValidationError`` with every error found.
    """
    loader = _Loader(Path(root), asset_url_prefix or default_asset_url_prefix)
    bundle = loader.run()
    if loader.errors.errors or bundle is None:
        raise ContentValidationError(loader.errors.sorted())
    return bundle


def load_library(root: Path) -> LibrarySpec:
    """Validate only ``roleplays/_library.yaml`` under ``root`` (for checking single files)."""
    loader = _Loader(Path(root), default_asset_url_prefix)
    library = loader.parse_file(loader.root / LIBRARY_FILE, LibrarySpec, "the shared intents and forbidden sets")
    if library is not None:
        loader.check_library(library)
    if loader.errors.errors or library is None:
        raise ContentValidationError(loader.errors.sorted())
    return library.spec


def validate_scenario_text(text: str, *, library: LibrarySpec, filename: str) -> Scenario:
    """Validate ONE role-play scenario given as the text of ``roleplays/<slug>.yaml``.

    The same rules as ``load_content`` (shape, ``use:`` references into ``library``, the
    graph, call rules); the slug must equal the stem of ``filename``, which also names the
    file in the errors. Checks that need the other files (slug unique in the tree) are the
    caller's. Raises ``ContentValidationError``; each error has ``line`` and ``path``.
    """
    loader = _Loader(Path("."), default_asset_url_prefix)
    parsed = _parse_single(loader, text, filename, ScenarioSpec)
    if parsed is not None:
        loader.check_slug(parsed.spec.slug, parsed.report, _stem(filename), "file", {})
        loader.check_scenario(parsed, library)
    if loader.errors.errors or parsed is None:
        raise ContentValidationError(loader.errors.sorted())
    return loader.build_scenario(parsed, library)


def validate_exam_text(text: str, *, library: LibrarySpec, filename: str) -> Exam:
    """Validate ONE exam given as the text of ``exams/<slug>.yaml`` (see validate_scenario_text)."""
    loader = _Loader(Path("."), default_asset_url_prefix)
    parsed = _parse_single(loader, text, filename, ExamSpec)
    if parsed is not None:
        loader.check_slug(parsed.spec.slug, parsed.report, _stem(filename), "file", {})
        loader.check_exam(parsed, library)
    if loader.errors.errors or parsed is None:
        raise ContentValidationError(loader.errors.sorted())
    return loader.build_exam(parsed, library)


def _stem(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1]
    return name[: -len(".yaml")] if name.endswith(".yaml") else name


def _parse_single(loader: _Loader, text: str, filename: str, model: type[M]) -> _Parsed[M] | None:
    raw = text.encode("utf-8")
    return loader.parse_text(filename, text.removeprefix("\ufeff").replace("\r\n", "\n"), raw, model)


@dataclass
class _Parsed(Generic[T]):
    spec: T
    report: Reporter
    source_file: str
    checksum: str


def _sha256(*chunks: bytes) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


class _Loader:
    def __init__(self, root: Path, asset_url_prefix: Callable[[str], str]) -> None:
        self.root = root
        self.asset_url_prefix = asset_url_prefix
        self.errors = ErrorCollector()

    # --- file helpers ------------------------------------------------------

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def read_text(self, path: Path) -> tuple[str, bytes] | None:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.errors.add(self.rel(path), None, message("file.not_utf8", reason=exc.reason))
            return None
        return text.removeprefix("\ufeff").replace("\r\n", "\n"), raw

    def parse_yaml_text(self, file: str, text: str, line_offset: int = 0) -> YamlDocument | None:
        try:
            document = load_yaml(text, line_offset=line_offset)
        except YamlProblems as problems:
            for problem in problems.problems:
                self.errors.add(file, problem.line, problem.message_text)
            return None
        if document.data is None:
            if line_offset:  # front matter
                self.errors.add(file, 1, "front matter is empty (expected title, order, estimated_minutes)")
            else:
                self.errors.add(file, None, message("file.empty"))
            return None
        return document

    def parse_file(self, path: Path, model: type[M], purpose: str) -> _Parsed[M] | None:
        """Read, parse and validate one YAML file; ``purpose`` explains a missing file."""
        file = self.rel(path)
        if not path.is_file():
            self.errors.add(file, None, message("file.missing", purpose=purpose))
            return None
        read = self.read_text(path)
        if read is None:
            return None
        text, raw = read
        return self.parse_text(file, text, raw, model)

    def parse_text(self, file: str, text: str, raw: bytes, model: type[M]) -> _Parsed[M] | None:
        """Parse and validate the text of one YAML file (``raw``: its bytes, for the checksum)."""
        document = self.parse_yaml_text(file, text)
        if document is None:
            return None
        spec = validate_document(model, document, file, self.errors)
        if spec is None:
            return None
        return _Parsed(spec, Reporter(file, document, self.errors), file, _sha256(raw))

    def items_in(self, folder: Path, what: str) -> list[Path]:
        """Entries of a content folder, skipping shared libraries (_*) and hidden files."""
        if not folder.is_dir():
            self.errors.add(self.rel(folder) + "/", None, message("folder.missing", expected=what))
            return []
        return sorted(p for p in folder.iterdir() if not p.name.startswith(("_", ".")))

    @staticmethod
    def check_slug(slug: str, report: Reporter, expected: str, what: str, seen: dict[str, str]) -> None:
        """Slug equals the file/folder name and is not claimed by another file."""
        if slug != expected:
            report.at(("slug",), message("slug.mismatch", slug=slug, what=what, expected=expected))
        if slug in seen:
            report.at(("slug",), message("slug.taken", slug=slug, other=seen[slug]))
        else:
            seen[slug] = report.file

    # --- the whole tree ----------------------------------------------------

    def run(self) -> ContentBundle | None:
        library = self.parse_file(self.root / LIBRARY_FILE, LibrarySpec, "the shared intents and forbidden sets")
        if library is not None:
            self.check_library(library)
        phrasebook = self.parse_file(
            self.root / PHRASEBOOK_FILE, PhrasebookSpec, "the habitual -> professional phrase pairs"
        )
        if phrasebook is not None:
            checks.check_unique_ids(phrasebook.spec.pairs, ("pairs",), "pair", phrasebook.report)
        library_spec = library.spec if library is not None else None

        # Files that exist but failed validation still count as known for references
        # (kind None), so one broken file does not cause "unknown ..." errors elsewhere.
        exam_kinds: dict[str, str | None] = {}
        exams = self.load_exams(library_spec, exam_kinds)
        known_courses: set[str] = set()
        courses = self.load_courses(exam_kinds, known_courses)
        scenarios = self.load_scenarios(library_spec)
        certification = self.parse_file(
            self.root / CERTIFICATION_FILE, CertificationSpec, "the certification levels and requirements"
        )
        if certification is not None:
            checks.check_certification(certification.spec, known_courses, exam_kinds, certification.report)

        if self.errors.errors or library is None or phrasebook is None or certification is None:
            return None
        assert library_spec is not None
        return ContentBundle(
            courses=dict(sorted(courses.items(), key=lambda item: (item[1].spec.order, item[0]))),
            exams={slug: self.build_exam(parsed, library_spec) for slug, parsed in exams.items()},
            scenarios={slug: self.build_scenario(parsed, library_spec) for slug, parsed in scenarios.items()},
            library=library_spec,
            phrasebook=phrasebook.report.document.data,
            certification=Certification(certification.spec, certification.source_file, certification.checksum),
        )

    # --- library -----------------------------------------------------------

    def check_library(self, library: _Parsed[LibrarySpec]) -> None:
        for section, required in (("intents", REQUIRED_INTENTS), ("forbidden", REQUIRED_FORBIDDEN)):
            present = getattr(library.spec, section)
            missing = [name for name in required if name not in present]
            if missing:
                library.report.at(
                    (section,),
                    message("library.missing_entries", missing=", ".join(missing), expected=", ".join(required)),
                )
        for name, entry in library.spec.forbidden.items():
            for language in entry.languages():
                phrases = entry.for_language(language)
                if phrases is not None and phrases.elements:
                    library.report.at(
                        ("forbidden", name, language, "elements"),
                        message("library.forbidden_elements"),
                    )

    # --- exams -------------------------------------------------------------

    def load_exams(
        self, library: LibrarySpec | None, exam_kinds: dict[str, str | None]
    ) -> dict[str, _Parsed[ExamSpec]]:
        exams: dict[str, _Parsed[ExamSpec]] = {}
        seen: dict[str, str] = {}
        for path in self.items_in(self.root / "exams", "exams/<slug>.yaml"):
            if path.name == "certification.yaml":
                continue  # the certification rules, not an exam
            if not path.is_file() or path.suffix != ".yaml":
                self.errors.add(self.rel(path), None, message("file.unexpected_entry", expected="exams/<slug>.yaml"))
                continue
            parsed = self.parse_file(path, ExamSpec, "an exam")
            if parsed is None:
                exam_kinds.setdefault(path.stem, None)
                continue
            exam_kinds[parsed.spec.slug] = parsed.spec.kind
            self.check_slug(parsed.spec.slug, parsed.report, path.stem, "file", seen)
            self.check_exam(parsed, library)
            exams[parsed.spec.slug] = parsed
        return exams

    def check_exam(self, parsed: _Parsed[ExamSpec], library: LibrarySpec | None) -> None:
        checks.check_exam(parsed.spec, parsed.report)
        for index, question in enumerate(parsed.spec.questions):
            if isinstance(question, PhraseRewriteQuestion):
                path = ("questions", index, "rubric")
                check_rubric(question.rubric, path, question.language, library, parsed.report)

    def build_exam(self, parsed: _Parsed[ExamSpec], library: LibrarySpec) -> Exam:
        rubrics = {
            question.id: resolve_rubric(question.rubric, question.language, library)
            for question in parsed.spec.questions
            if isinstance(question, PhraseRewriteQuestion)
        }
        rules = {question.id: library_rules(library, question.language)
                 for question in parsed.spec.questions if isinstance(question, PhraseRewriteQuestion)}
        return Exam(parsed.spec.slug, parsed.spec, rubrics, parsed.source_file, parsed.checksum, rules)

    # --- role-play scenarios -----------------------------------------------

    def load_scenarios(self, library: LibrarySpec | None) -> dict[str, _Parsed[ScenarioSpec]]:
        scenarios: dict[str, _Parsed[ScenarioSpec]] = {}
        seen: dict[str, str] = {}
        for path in self.items_in(self.root / "roleplays", "roleplays/<slug>.yaml"):
            if not path.is_file() or path.suffix != ".yaml":
                self.errors.add(self.rel(path), None, message("file.unexpected_entry", expected="roleplays/<slug>.yaml"))
                continue
            parsed = self.parse_file(path, ScenarioSpec, "a role-play scenario")
            if parsed is None:
                continue
            self.check_slug(parsed.spec.slug, parsed.report, path.stem, "file", seen)
            self.check_scenario(parsed, library)
            scenarios[parsed.spec.slug] = parsed
        return scenarios

    def check_scenario(self, parsed: _Parsed[ScenarioSpec], library: LibrarySpec | None) -> None:
        spec = parsed.spec
        checks.check_graph(spec, parsed.report)
        for node_id, node in spec.nodes.items():
            check_rubric(node.rubric, ("nodes", node_id, "rubric"), spec.language, library, parsed.report)
            check_patterns(node.rubric, ("nodes", node_id, "rubric"), spec.language, library, parsed.report)
        check_rubric(spec.forbidden, ("forbidden",), spec.language, library, parsed.report)
        check_patterns(spec.forbidden, ("forbidden",), spec.language, library, parsed.report)
        for index, item in enumerate(spec.forbidden):
            if item.kind != "forbidden":
                parsed.report.at(("forbidden", index, "kind"), message("scenario.forbidden_kind"))
        if library is not None:
            self.check_call_rules(parsed, library)

    def check_call_rules(self, parsed: _Parsed[ScenarioSpec], library: LibrarySpec) -> None:
        spec = parsed.spec
        for rule in ("greeting", "closing"):
            if getattr(spec.call_rules, rule).points <= 0:
                continue
            entry = library.intents.get(rule)
            if entry is not None and entry.for_language(spec.language) is None:
                parsed.report.at(
                    ("call_rules", rule),
                    message("call_rules.no_language", rule=rule, language=spec.language, file=LIBRARY_FILE),
                )

    def build_scenario(self, parsed: _Parsed[ScenarioSpec], library: LibrarySpec) -> Scenario:
        spec = parsed.spec
        nodes = {
            node_id: ResolvedNode(
                id=node_id,
                line=node.line,
                anger=node.anger,
                rubric=with_calm_courtesy(resolve_rubric(node.rubric, spec.language, library), node.anger,
                                          spec.language, library),
                next=dict(node.next.items()),
            )
            for node_id, node in spec.nodes.items()
        }
        return Scenario(
            slug=spec.slug,
            spec=spec,
            nodes=nodes,
            greeting=library_intent("greeting", spec.call_rules.greeting.points, spec.language, library),
            closing=library_intent("closing", spec.call_rules.closing.points, spec.language, library),
            source_file=parsed.source_file,
            checksum=parsed.checksum,
            rules=library_rules(library, spec.language) + resolve_rubric(spec.forbidden, spec.language, library),
        )

    # --- courses -----------------------------------------------------------

    def load_courses(self, exam_kinds: dict[str, str | None], known_courses: set[str]) -> dict[str, Course]:
        parsed_courses: dict[str, tuple[_Parsed[CourseSpec], Course | None]] = {}
        seen: dict[str, str] = {}
        for folder in self.items_in(self.root / "courses", "courses/<slug>/course.yaml"):
            if not folder.is_dir():
                self.errors.add(self.rel(folder), None, "unexpected file (expected course folders courses/<slug>/)")
                continue
            parsed = self.parse_file(folder / "course.yaml", CourseSpec, "course.yaml in every course folder")
            lessons = self.load_lessons(folder)
            assets = self.check_asset_folder(folder)
            if parsed is None:
                known_courses.add(folder.name)
                continue
            known_courses.add(parsed.spec.slug)
            self.check_slug(parsed.spec.slug, parsed.report, folder.name, "folder", seen)
            checks.check_course_quiz(parsed.spec.quiz, exam_kinds, parsed.report)
            course = None
            if lessons is not None:
                checksum = self.folder_checksum(folder)
                course = Course(parsed.spec.slug, parsed.spec, lessons, assets, parsed.source_file, checksum)
            parsed_courses[parsed.spec.slug] = (parsed, course)
        checks.check_prerequisites(
            {slug: parsed.spec.prerequisites for slug, (parsed, _) in parsed_courses.items()},
            {slug: parsed.report for slug, (parsed, _) in parsed_courses.items()},
            known_courses,
        )
        return {slug: course for slug, (_, course) in parsed_courses.items() if course is not None}

    def folder_checksum(self, folder: Path) -> str:
        chunks: list[bytes] = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            chunks += [path.relative_to(folder).as_posix().encode(), b"\0", path.read_bytes(), b"\0"]
        return _sha256(*chunks)

    def check_asset_folder(self, folder: Path) -> tuple[str, ...]:
        assets_dir = folder / "assets"
        if not assets_dir.is_dir():
            return ()
        names: list[str] = []
        for path in sorted(p for p in assets_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
            if path.suffix.lower().lstrip(".") not in ASSET_EXTENSIONS:
                self.errors.add(
                    self.rel(path), None,
                    f"asset type not allowed (expected one of: {', '.join(sorted(ASSET_EXTENSIONS))})",
                )
            names.append(path.relative_to(assets_dir).as_posix())
        return tuple(names)

    def load_lessons(self, folder: Path) -> tuple[Lesson, ...] | None:
        """All lessons of a course, sorted by order; None if any lesson file is invalid."""
        lessons_dir = folder / "lessons"
        if not lessons_dir.is_dir():
            self.errors.add(
                self.rel(lessons_dir) + "/", None, "folder is missing (expected lessons/<lesson-slug>.zh-CN.md files)"
            )
            return None
        files: dict[str, dict[str, Path]] = {}
        ok = True
        for path in sorted(p for p in lessons_dir.iterdir() if not p.name.startswith(("_", "."))):
            match = _LESSON_FILE_RE.fullmatch(path.name)
            if match is None or not path.is_file():
                self.errors.add(
                    self.rel(path), None,
                    "unexpected lesson file name (expected <lesson-slug>.zh-CN.md or <lesson-slug>.en.md, "
                    "lesson slug in lowercase letters, digits and hyphens)",
                )
                ok = False
                continue
            files.setdefault(match["slug"], {})[match["language"]] = path
        if not files:
            self.errors.add(
                self.rel(lessons_dir) + "/", None, "no lessons (expected lessons/<lesson-slug>.zh-CN.md files)"
            )
            return None

        lessons: list[Lesson] = []
        orders: dict[int, str] = {}
        for slug, by_language in files.items():
            if "zh-CN" not in by_language:
                self.errors.add(
                    self.rel(by_language["en"]), None,
                    f'lesson "{slug}" has no zh-CN file (expected lessons/{slug}.zh-CN.md; en is optional)',
                )
                ok = False
                continue
            lesson = self.load_lesson(folder, slug, by_language, orders)
            if lesson is None:
                ok = False
            else:
                lessons.append(lesson)
        return tuple(sorted(lessons, key=lambda lesson: lesson.order)) if ok else None

    def load_lesson(
        self, folder: Path, slug: str, by_language: dict[str, Path], orders: dict[int, str]
    ) -> Lesson | None:
        texts: dict[str, LessonText] = {}
        front: dict[str, tuple[LessonFrontMatter, Reporter]] = {}
        for language in ("zh-CN", "en"):
            path = by_language.get(language)
            if path is None:
                continue
            loaded = self.load_lesson_file(folder, path, language)
            if loaded is not None:
                texts[language], front[language] = loaded
        if "zh-CN" in front:
            main, report = front["zh-CN"]
            if main.order in orders:
                report.at(
                    ("order",),
                    f'{main.order} is also used by lesson "{orders[main.order]}" '
                    "(expected a unique order within the course)",
                )
            else:
                orders[main.order] = slug
            if "en" in front:
                translation, en_report = front["en"]
                for field in ("order", "estimated_minutes"):
                    if getattr(translation, field) != getattr(main, field):
                        en_report.at(
                            (field,),
                            f"{getattr(translation, field)} differs from the zh-CN file "
                            f"(expected {getattr(main, field)}, the same in every language)",
                        )
        if len(texts) != len(by_language):
            return None
        main = front["zh-CN"][0]
        return Lesson(slug, main.order, main.estimated_minutes, texts)

    def load_lesson_file(
        self, folder: Path, path: Path, language: str
    ) -> tuple[LessonText, tuple[LessonFrontMatter, Reporter]] | None:
        file = self.rel(path)
        read = self.read_text(path)
        if read is None:
            return None
        text, raw = read
        split = split_front_matter(text)
        if split is None:
            self.errors.add(
                file, 1,
                "missing front matter (expected the file to start with a --- line, then title, order, "
                "estimated_minutes, then a closing --- line)",
            )
            return None
        document = self.parse_yaml_text(file, split.yaml_text, split.yaml_line_offset)
        front = validate_document(LessonFrontMatter, document, file, self.errors) if document else None

        check = check_markdown(split.body, first_line=split.body_first_line)
        for problem in check.problems:
            self.errors.add(file, problem.line, problem.message)
        self.check_asset_references(file, folder, check.assets)

        if front is None or document is None:
            return None
        course_slug = folder.name
        html = render_markdown(split.body, asset_url_prefix=self.asset_url_prefix(course_slug))
        lesson_text = LessonText(language, front.title, split.body, html, file, _sha256(raw))
        return lesson_text, (front, Reporter(file, document, self.errors))

    def check_asset_references(self, file: str, folder: Path, assets: Iterable[AssetReference]) -> None:
        """Referenced assets must stay inside assets/, have an allowed type and exist."""
        assets_dir = folder / "assets"
        for asset in assets:
            extension = asset.name.rsplit(".", 1)[-1].lower() if "." in asset.name else ""
            target = (assets_dir / asset.name).resolve()
            if ".." in asset.name.split("/") or not target.is_relative_to(assets_dir.resolve()):
                self.errors.add(
                    file, asset.line, f'asset "{asset.name}" leaves the assets/ folder (expected assets/<file>)'
                )
            elif extension not in ASSET_EXTENSIONS:
                self.errors.add(
                    file, asset.line,
                    f'asset "{asset.name}" has a type that is not allowed '
                    f"(expected one of: {', '.join(sorted(ASSET_EXTENSIONS))})",
                )
            elif not target.is_file():
                expected = f"{self.rel(folder)}/assets/{asset.name}"
                self.errors.add(file, asset.line, f'asset "{asset.name}" does not exist (expected {expected})')
