"""Role-play scenarios (graph, rubric references, call rules) and the shared libraries."""

SCENARIO = "roleplays/broadband-outage-refund.yaml"
LIBRARY = "roleplays/_library.yaml"


def test_start_and_transition_targets_must_exist(tree):
    tree.edit(SCENARIO, "start: opening", "start: hello")
    tree.edit(SCENARIO, "      stay: end:transferred\n      escalate: angry",
              "      stay: end:transfer\n      escalate: angery")
    assert tree.errors() == [
        f'{SCENARIO}:14: start: "hello" is not a node (expected one of: angry, check-ticket, opening, refund-demand)',
        f'{SCENARIO}:52: nodes.refund-demand.next.stay: unknown ending "end:transfer" '
        "(expected one of: end:resolved, end:transferred, end:hangup)",
        f'{SCENARIO}:53: nodes.refund-demand.next.escalate: unknown node "angery" (expected a node id: angry, '
        "check-ticket, opening, refund-demand; or an ending: end:resolved, end:transferred, end:hangup)",
    ]


def test_at_least_four_nodes(tree):
    text = tree.read(SCENARIO)
    tree.write(SCENARIO, text[: text.index("  angry:")].replace("escalate: angry", "escalate: end:hangup"))
    assert tree.errors() == [f"{SCENARIO}:15: nodes: only 3 node(s) (expected at least 4)"]


def test_hangup_through_consecutive_escalations(tree):
    # No explicit end:hangup: opening -escalate-> angry is a chain of 2 escalating
    # replies, which meets hangup_after_poor (default 2), so the hang-up is reachable.
    tree.edit(SCENARIO, "      escalate: end:hangup", "      escalate: end:transferred")
    assert "broadband-outage-refund" in tree.load().scenarios
    tree.edit(SCENARIO, "starting_anger: 60", "starting_anger: 60\nhangup_after_poor: 3")
    (error,) = tree.errors()
    assert error == (
        f"{SCENARIO}:16: nodes: end:hangup is never reached (rule: it counts as reached when a reachable node "
        "transitions to end:hangup, or when escalate transitions chain through at least hangup_after_poor = 3 "
        "reachable nodes, an escalate loop included, so poor replies force a hang-up; expected one of these)"
    )
    # an escalate loop (angry -> angry) forces the hang-up whatever the limit
    tree.edit(SCENARIO, "      stay: end:transferred\n      escalate: end:transferred",
              "      stay: end:transferred\n      escalate: angry")
    assert "broadband-outage-refund" in tree.load().scenarios


def test_use_must_exist_match_kind_and_language(tree):
    tree.edit(SCENARIO, "- {id: no-blame, use: blame_caller, kind: forbidden, points: 2}",
              "- {id: no-blame, use: blame_caller, points: 2}")
    tree.edit(SCENARIO, "- {id: next, use: next_step, points: 3}", "- {id: next, use: next_steps, points: 3}")
    tree.edit(SCENARIO, "language: zh-CN", "language: en-US")
    tree.edit(SCENARIO, "  closing: {points: 0}", "  closing: {points: 0}\n  greeting: {points: 0}")
    errors = tree.errors()
    assert errors == [
        f'{SCENARIO}:22: nodes.opening.rubric[1].use: library entry "apologise" has no en-US phrases '
        "(expected intents.apologise.en-US in roleplays/_library.yaml; it has: zh-CN)",
        f'{SCENARIO}:36: nodes.check-ticket.rubric[0].use: unknown library entry "next_steps" (expected one of the '
        "intents in roleplays/_library.yaml: acknowledge_feeling, apologise, closing, confirm_details, greeting, "
        "next_step, thank_patience)",
        f'{SCENARIO}:37: nodes.check-ticket.rubric[1].use: library entry "thank_patience" has no en-US phrases '
        "(expected intents.thank_patience.en-US in roleplays/_library.yaml; it has: zh-CN)",
        f'{SCENARIO}:59: nodes.angry.rubric[0].use: library entry "apologise" has no en-US phrases '
        "(expected intents.apologise.en-US in roleplays/_library.yaml; it has: zh-CN)",
        f'{SCENARIO}:60: nodes.angry.rubric[1].use: "blame_caller" is a library forbidden entry but this item is '
        "kind: intent (expected kind: forbidden, or one of the intents: acknowledge_feeling, apologise, closing, "
        "confirm_details, greeting, next_step, thank_patience)",
    ]


def test_call_rule_greeting_needs_library_phrases_for_the_language(tree):
    tree.edit(LIBRARY, '    en-US: {phrases: ["thank you for calling", "how may I help you"]}\n', "")
    tree.edit(SCENARIO, "language: zh-CN", "language: en-US")
    tree.edit(SCENARIO, "- {id: apologise, use: apologise, points: 2}\n      - id: confirm-account",
              "- id: confirm-account")
    tree.edit(SCENARIO, "      - {id: next, use: next_step, points: 3}\n      - {id: thanks, use: thank_patience, points: 1}",
              "      - {id: next, phrases: [I'll send an engineer], points: 3}")
    tree.edit(SCENARIO, "      - {id: apologise, use: apologise, points: 2}\n      - {id: no-blame",
              "      - {id: sorry, phrases: [I'm sorry], points: 2}\n      - {id: no-blame")
    tree.edit(SCENARIO, "use: blame_caller, kind: forbidden", "use: cite_policy, kind: forbidden")
    assert tree.errors() == [
        f'{SCENARIO}:12: call_rules.greeting: library intent "greeting" has no en-US phrases (expected '
        "intents.greeting.en-US in roleplays/_library.yaml, or greeting: {points: 0})"
    ]


def test_scenario_field_rules(tree):
    tree.edit(SCENARIO, "difficulty: 2", "difficulty: 4")
    tree.edit(SCENARIO, "  gender: male", "  gender: man")
    tree.edit(SCENARIO, "pass_mark: 70", "pass_mark: 70\nthresholds: {good: 0.4, poor: 0.6}")
    tree.edit(SCENARIO, "      - {id: apologise, use: apologise, points: 2}\n      - id: confirm-account\n        points: 2\n",
              "      - {id: apologise, use: apologise, points: 2}\n      - id: confirm-account\n")
    assert tree.errors() == [
        f"{SCENARIO}:4: difficulty: Input should be less than or equal to 3 (got 4)",
        f"{SCENARIO}:7: persona.gender: Input should be 'male' or 'female' (got 'man')",
        f"{SCENARIO}:12: thresholds: poor (0.6) is not below good (0.4) (expected poor < good)",
        f'{SCENARIO}:23: nodes.opening.rubric[2]: missing required field "points"',
    ]


def test_duplicate_rubric_item_ids_within_a_node(tree):
    tree.edit(SCENARIO, "- {id: thanks, use: thank_patience, points: 1}", "- {id: next, use: thank_patience, points: 1}")
    assert tree.errors() == [
        f'{SCENARIO}:36: nodes.check-ticket.rubric[1].id: duplicate rubric item id "next" '
        "(expected ids unique within the list)"
    ]


def test_library_required_entries_and_forbidden_elements(tree):
    tree.edit(LIBRARY, "  thank_patience:\n", "  thanks_patience:\n")
    tree.edit(LIBRARY, '    zh-CN: {phrases: ["好,好", "对,对"]}', '    zh-CN: {elements: [["好"], ["好"]]}')
    tree.edit(SCENARIO, "use: thank_patience", "use: thanks_patience")
    tree.edit("exams/quiz-call-centre-basics.yaml", "use: thank_patience", "use: thanks_patience")
    assert tree.errors() == [
        f"{LIBRARY}:1: intents: missing required entries: thank_patience (expected all of: greeting, closing, "
        "acknowledge_feeling, apologise, next_step, confirm_details, thank_patience)",
        f"{LIBRARY}:41: forbidden.hollow_listening.zh-CN.elements: forbidden sets match phrases only "
        "(expected phrases, no elements)",
    ]


def test_library_and_phrasebook_shapes(tree):
    tree.edit(LIBRARY, "    zh-CN: {phrases: [我跟您确认一下, 我复述一下]}", "    zh-CN: {phrases: []}\n    fr-FR: {phrases: [x]}")
    tree.edit("roleplays/_phrasebook.yaml", "  - id: hold-on", "  - id: wait-a-moment")
    tree.edit("roleplays/_phrasebook.yaml", 'habitual: ["hold on"]', "habitual: hold on")
    assert tree.errors() == [
        f"{LIBRARY}:21: intents.confirm_details.zh-CN: nothing to match (expected phrases, elements and/or patterns)",
        f'{LIBRARY}:22: intents.confirm_details: unknown key "fr-FR" (expected one of: label, judgement, explanation, zh-CN, en-US, ko-KR)',
        "roleplays/_phrasebook.yaml:9: pairs[1].habitual: Input should be a valid list (got 'hold on')",
    ]
    tree.edit("roleplays/_phrasebook.yaml", "habitual: hold on", 'habitual: ["hold on"]')
    tree.edit(LIBRARY, "    zh-CN: {phrases: []}\n    fr-FR: {phrases: [x]}", "    zh-CN: {phrases: [我复述一下]}")
    assert tree.errors() == [
        'roleplays/_phrasebook.yaml:7: pairs[1].id: duplicate pair id "wait-a-moment" (expected each id once)'
    ]


def test_missing_shared_files(tree):
    tree.remove(LIBRARY)
    tree.remove("roleplays/_phrasebook.yaml")
    assert tree.errors() == [
        f"{LIBRARY}: file is missing (expected the shared intents and forbidden sets)",
        "roleplays/_phrasebook.yaml: file is missing (expected the habitual -> professional phrase pairs)",
    ]
