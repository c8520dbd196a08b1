"""Question banks: web-authored quizzes with every question type, validated, published through the exams
domain's own versioning, exported and imported, and left alone by the content sync."""
from sqlalchemy import select

from app.content.services import sync_content
from app.exams import services as exams
from app.exams.models import Exam
from app.extensions import db
from tests.support.authoring import bank_yaml, draft_row, form_fields

BANK = "bank-basics"


def _exam(app, slug=BANK):
    with app.app_context():
        exam = db.session.scalar(select(Exam).where(Exam.slug == slug))
        if exam is None:
            return None
        return {"source": exam.source, "kind": exam.kind, "retired": exam.retired,
                "questions": {q.question_id: (q.version, q.retired, q.type) for q in exam.questions}}


def test_create_a_bank_with_every_question_type_through_the_form(app, author, content):
    fields = author.form_fields("/authoring/banks/new")
    fields.update(slug=BANK, title_zh="基础题库")  # the example title is a placeholder
    for kind in ("multiple", "ordering", "phrase_rewrite", "listen_type"):
        page = author.post("/authoring/banks/new", {**fields, "new_type": kind, "action": "add-question"})
        assert page.status_code == 200
        fields = form_fields(page.get_data(as_text=True))
    assert [fields[f"q{i}-type"] for i in range(6)] == ["single", "true_false", "multiple", "ordering",
                                                         "phrase_rewrite", "listen_type"]
    fields.update({
        "q2-prompt_zh": "哪些是积极的说法？", "q2-o0-text_zh": "请您稍等", "q2-o0-correct": "1", "q2-o1-text_zh": "你等一下",
        "q2-partial_credit": "all_or_nothing",
        "q3-prompt_zh": "把步骤按顺序排列", "q3-o0-text_zh": "问候", "q3-o1-text_zh": "倾听", "q3-o2-text_zh": "道别",
        "q4-prompt_zh": "改写这句话", "q4-habitual": "你等一下", "q4-r0-id": "wait", "q4-r0-points": "2",
        "q4-r0-phrases": "请您稍等\n麻烦您稍等片刻",
        "q5-prompt_zh": "听写", "q5-text": "感谢您的耐心等待", "q5-min_accuracy": "0.8", "q5-min_cpm": "30",
        "q5-points": "2",
    })
    response = author.post("/authoring/banks/new", fields)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    spec = draft_row(app, BANK, "bank").spec
    questions = {q["id"]: q for q in spec["questions"]}
    assert questions["q3"]["partial_credit"] == "all_or_nothing" and questions["q3"]["type"] == "multiple"
    assert [o["id"] for o in questions["q3"]["options"]] == ["a", "b"]
    assert questions["q4"]["items"][2]["text"] == {"zh-CN": "道别"}
    assert questions["q5"]["rubric"] == [{"id": "wait", "points": 2, "phrases": ["请您稍等", "麻烦您稍等片刻"]}]
    assert questions["q6"]["min_accuracy"] == 0.8 and questions["q6"]["points"] == 2
    assert spec["kind"] == "quiz"


def test_bank_errors_are_shown_on_their_fields_and_nothing_is_saved(app, author, content):
    fields = author.form_fields("/authoring/banks/new")
    fields["slug"] = BANK
    fields.pop("q0-o0-correct")  # single choice with no correct option
    fields["q1-prompt_zh"] = ""
    fields["time_limit_minutes"] = "0"
    response = author.post("/authoring/banks/new", fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("q0-options", "q1-prompt_zh", "time_limit_minutes"):
        assert f'id="e-{field}"' in html, field
    assert "a single-choice question has exactly one" in html
    assert draft_row(app, BANK, "bank") is None


def test_certification_exams_cannot_be_authored_here(app, author, content):
    text = bank_yaml().replace("kind: quiz", "kind: certification")
    response = author.import_bank(text)
    assert response.status_code == 422 and 'data-line="2"' in response.get_data(as_text=True)
    assert draft_row(app, BANK, "bank") is None
    response = author.import_bank(bank_yaml("quiz-call-handling"))
    assert response.status_code == 422 and "already used by a shipped file" in response.get_data(as_text=True)


def test_publish_a_bank_then_a_change_makes_a_new_question_version(app, author, make_user, content):
    author.import_bank(bank_yaml())
    assert _exam(app) is None
    assert author.post(f"/authoring/banks/{BANK}/publish").status_code == 302
    assert _exam(app) == {"source": "web", "kind": "quiz", "retired": False,
                          "questions": {"q1": (1, False, "single"), "q2": (1, False, "true_false")}}
    learner = make_user("trainee1", "learner")
    with app.app_context():
        attempt = exams.start_attempt(learner.id, BANK)
        first_paper = {entry["id"]: entry["version"] for entry in attempt.paper}
        exams.submit_attempt(attempt, {"q1": "a", "q2": True})
        assert attempt.score == 100.0
        first_id = attempt.id
    text = bank_yaml().replace("    answer: true\n", "    answer: false\n")
    assert author.post(f"/authoring/banks/{BANK}/yaml", {"text": text}).status_code == 302
    assert draft_row(app, BANK, "bank").unpublished_changes
    author.post(f"/authoring/banks/{BANK}/publish")
    assert _exam(app)["questions"] == {"q1": (1, False, "single"), "q2": (2, False, "true_false")}
    with app.app_context():
        from app.exams.models import ExamAttempt
        old = db.session.get(ExamAttempt, first_id)
        assert old.score == 100.0 and {e["id"]: e["version"] for e in old.paper} == first_paper
        again = exams.start_attempt(learner.id, BANK)
        assert {entry["id"]: entry["version"] for entry in again.paper} == {"q1": 1, "q2": 2}


def test_web_banks_survive_content_sync_and_can_be_retired(app, author, content):
    author.import_bank(bank_yaml())
    author.post(f"/authoring/banks/{BANK}/publish")
    with app.app_context():
        sync_content()
    assert _exam(app)["retired"] is False and _exam(app)["source"] == "web"
    assert author.post(f"/authoring/banks/{BANK}/retire").status_code == 302
    assert _exam(app)["retired"] is True and draft_row(app, BANK, "bank").status == "retired"
    with app.app_context():
        assert BANK not in [exam.slug for exam in exams.active_exams()]


def test_bank_pages(app, author, content):
    author.import_bank(bank_yaml())
    page = author.get(f"/authoring/banks/{BANK}").get_data(as_text=True)
    assert "What should the agent do first when a caller is upset?" in page and 'id="publish"' in page
    fields = author.form_fields(f"/authoring/banks/{BANK}/edit")
    assert fields["q0-o0-correct"] == "1" and fields["q1-answer"] == "true"
    fields["q1-answer"] = "false"
    assert author.post(f"/authoring/banks/{BANK}/edit", fields).status_code == 302
    assert draft_row(app, BANK, "bank").spec["questions"][1]["answer"] is False
    shipped = author.get("/authoring/banks/cert-agent").get_data(as_text=True)
    assert 'id="publish"' not in shipped and 'id="export"' in shipped
