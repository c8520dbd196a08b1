"""exams/certification.yaml: levels, requirement kinds and references."""

CERT = "exams/certification.yaml"


def test_certification_naming_a_missing_exam(tree):
    tree.edit(CERT, "exam: cert-agent,", "exam: cert-expert,")
    assert tree.errors() == [
        f'{CERT}:9: levels[1].requirements[1].exam: unknown exam "cert-expert" '
        "(expected a certification exam: cert-agent)"
    ]


def test_exam_passed_must_name_a_certification_exam(tree):
    tree.edit(CERT, "exam: cert-agent,", "exam: quiz-call-handling,")
    assert tree.errors() == [
        f'{CERT}:9: levels[1].requirements[1].exam: exam "quiz-call-handling" is kind: quiz '
        "(expected an exam with kind: certification)"
    ]


def test_courses_completed_must_name_existing_courses(tree):
    tree.edit(CERT, "courses: [call-centre-basics, call-handling]", "courses: [call-centre-basics, service-language]")
    assert tree.errors() == [
        f'{CERT}:8: levels[1].requirements[0].courses[1]: unknown course "service-language" '
        "(expected one of: call-centre-basics, call-handling)"
    ]


def test_levels_must_be_the_four_levels_in_order(tree):
    tree.edit(CERT, "  - level: senior\n", "  - level: expert\n")
    tree.edit(CERT, "  - level: expert\n    requirements:\n      - {kind: trainer_signoff}\n",
              "  - level: senior\n    requirements:\n      - {kind: trainer_signoff}\n")
    assert tree.errors() == [
        f"{CERT}:4: levels: levels are trainee, agent, expert, senior (expected exactly trainee, agent, senior, "
        "expert in that order)"
    ]


def test_trainee_has_no_requirements(tree):
    tree.edit(CERT, "  - level: trainee\n", "  - level: trainee\n    requirements: [{kind: trainer_signoff}]\n")
    assert tree.errors() == [
        f"{CERT}:4: levels: trainee has requirements (expected none: every learner holds trainee)"
    ]


def test_requirement_kinds_and_fields(tree):
    tree.edit(CERT, "{kind: trainer_signoff}", "{kind: manager_signoff}")
    tree.edit(CERT, "{kind: listen_type, min_cpm: 50, min_accuracy: 0.9}", "{kind: listen_type, min_cpm: 50, min_accuracy: 90}")
    tree.edit(CERT, "approval: auto", "approval: manual")
    assert tree.errors() == [
        f"{CERT}:2: approval: Input should be 'auto' or 'hr' (got 'manual')",
        f"{CERT}:11: levels[1].requirements[3].min_accuracy: Input should be less than or equal to 1 (got 90)",
        f'{CERT}:17: levels[3].requirements[0].kind: unknown kind "manager_signoff" (expected one of: '
        "courses_completed, exam_passed, roleplay_passes, listen_type, trainer_signoff)",
    ]


def test_certification_file_is_required(tree):
    tree.remove(CERT)
    assert tree.errors() == [f"{CERT}: file is missing (expected the certification levels and requirements)"]


def test_requirement_defaults(tree):
    levels = tree.load().certification.spec.levels
    senior_roleplays = levels[2].requirements[0]
    assert (senior_roleplays.count, senior_roleplays.min_difficulty) == (3, 2)
    assert senior_roleplays.voice_only is False and senior_roleplays.window_days is None
