"""The shared library and phrasebook: shape, completeness and self-consistency with the matcher."""
import re
from pathlib import Path

import pytest
import yaml

from grading.matching import find_any, find_phrase
from grading.patterns import compile_pattern
from grading.rubric import RubricItem, evaluate_item, load_phrasebook

ROLEPLAYS = Path(__file__).resolve().parents[2] / "roleplays"
LIBRARY = yaml.safe_load((ROLEPLAYS / "_library.yaml").read_text(encoding="utf-8"))
PHRASEBOOK_DATA = yaml.safe_load((ROLEPLAYS / "_phrasebook.yaml").read_text(encoding="utf-8"))

REQUIRED_INTENTS = ["greeting", "closing", "acknowledge_feeling", "apologise", "next_step", "confirm_details",
                    "thank_patience", "warm_transfer", "courtesy"]
REQUIRED_FORBIDDEN = ["blame_caller", "you_must", "cite_policy", "cannot_help", "hollow_listening",
                      "demand_apology", "blame_other_department"]
KOREAN_INTENTS = ["greeting", "closing", "thank_patience", "apologise"]
ENTRY_KEYS = {"label", "judgement", "explanation", "zh-CN", "en-US", "ko-KR"}
CALL_RULE_INTENTS = {"greeting", "closing"}   # judged per call, not as one of a reply's judgements


def entries():
    for section in ("intents", "forbidden"):
        for key, entry in LIBRARY[section].items():
            yield section, key, entry


def all_phrases():
    for section, key, entry in entries():
        for language in ("zh-CN", "en-US", "ko-KR"):
            block = entry.get(language) or {}
            for phrase in block.get("phrases", []):
                yield pytest.param(language, phrase, id=f"{key}-{language}-{phrase}")
            for group in block.get("elements", []):
                for alternative in group:
                    yield pytest.param(language, alternative, id=f"{key}-{language}-element-{alternative}")


def test_library_has_exactly_the_two_sections():
    assert set(LIBRARY) == {"intents", "forbidden"}
    assert set(REQUIRED_INTENTS) <= set(LIBRARY["intents"])
    assert set(REQUIRED_FORBIDDEN) <= set(LIBRARY["forbidden"])


@pytest.mark.parametrize(("section", "key", "entry"), list(entries()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_entry_is_complete(section, key, entry):
    assert set(entry) <= ENTRY_KEYS
    assert entry["explanation"]["zh-CN"].strip() and entry["explanation"]["en"].strip()
    assert entry["label"]["zh-CN"].strip() and entry["label"]["en"].strip()   # reports never show the key
    if section == "intents" and key not in CALL_RULE_INTENTS:
        assert entry["judgement"] in ("responds", "advances")
    if section == "forbidden":
        assert "judgement" not in entry   # a forbidden entry always counts against the rules
    for language in ("zh-CN", "en-US"):
        block = entry[language]
        # Constructions carry the meaning; phrases stay as worked examples where there are any.
        assert block.get("patterns") or block.get("phrases"), (key, language)
    for language in ("zh-CN", "en-US", "ko-KR"):
        block = entry.get(language)
        if block is None:
            continue
        assert set(block) <= {"phrases", "elements", "patterns", "slots"}
        phrases = block.get("phrases", [])
        assert all(isinstance(p, str) and p.strip() for p in phrases)
        assert len(set(phrases)) == len(phrases)
        for group in block.get("elements", []):
            assert group and all(isinstance(a, str) and a.strip() for a in group)
        for pattern in block.get("patterns", []):
            compile_pattern(pattern, language, block.get("slots"))   # raises PatternError when malformed
        if section == "forbidden":
            assert "elements" not in block   # forbidden sets match on phrases and constructions only


@pytest.mark.parametrize("key", KOREAN_INTENTS)
def test_korean_phrases_where_required(key):
    assert LIBRARY["intents"][key]["ko-KR"]["phrases"]


@pytest.mark.parametrize(("language", "phrase"), list(all_phrases()))
def test_every_library_phrase_matches_itself(language, phrase):
    match = find_phrase(phrase, phrase, language)
    assert match is not None and match.score == 100.0


def test_hollow_listening_library_set_catches_the_handbook_examples():
    phrases = LIBRARY["forbidden"]["hollow_listening"]["zh-CN"]["phrases"]
    assert find_any("好，好，您说", phrases, "zh-CN") is not None
    assert find_any("对 对 对 然后呢", phrases, "zh-CN") is not None


def _library_item(section: str, key: str, language: str) -> RubricItem:
    block = LIBRARY[section][key][language]
    return RubricItem(key, "intent" if section == "intents" else "forbidden", 1,
                      phrases=tuple(block.get("phrases", ())), patterns=tuple(block.get("patterns", ())),
                      slots={k: tuple(v) for k, v in (block.get("slots") or {}).items()})


def test_intent_phrasings_never_trigger_a_forbidden_set():
    """Every worked example of a good intent is clean under the whole forbidden catalogue,
    constructions included (they are checked on every reply)."""
    for language in ("zh-CN", "en-US"):
        forbidden = [_library_item("forbidden", k, language) for k in LIBRARY["forbidden"]]
        for key, entry in LIBRARY["intents"].items():
            for phrase in entry[language].get("phrases", []):
                hits = {f.id for f in forbidden if evaluate_item(phrase, f, language).matched}
                assert not hits, f"{key} {phrase!r} triggers {hits}"


def test_every_intent_example_is_heard_by_its_own_constructions():
    """The constructions are at least as broad as the worked examples they generalise."""
    for language in ("zh-CN", "en-US"):
        for key, entry in LIBRARY["intents"].items():
            block = entry[language]
            if not block.get("patterns"):
                continue
            constructions = RubricItem(key, "intent", 1, patterns=tuple(block["patterns"]),
                                       slots={k: tuple(v) for k, v in (block.get("slots") or {}).items()})
            missed = [p for p in block.get("phrases", []) if not evaluate_item(p, constructions, language).matched]
            assert not missed, (key, language, missed)


def test_closing_elements_need_thanks_and_goodbye():
    block = LIBRARY["intents"]["closing"]["zh-CN"]
    item = RubricItem("closing", "intent", 2, elements=tuple(tuple(g) for g in block["elements"]))
    assert evaluate_item("好的，谢谢，再见", item, "zh-CN").matched
    assert not evaluate_item("好的，再见", item, "zh-CN").matched


# --- phrasebook -----------------------------------------------------------------------

PAIRS = PHRASEBOOK_DATA["pairs"]
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")

# Every 习惯用语 → 专业表达 pair in the source handbook (seed 003), by its habitual wording.
HANDBOOK_HABITUAL = [
    "很抱歉让你久等", "我不想再让您重蹈覆辙", "这并不比上次那个问题差", "你的问题确实严重",
    "问题是那个产品都卖完了", "你怎么对我们公司的产品老是有问题", "我不能给你他的手机号码",
    "我不想给您错误的建议", "你没有必要担心这次修后又坏", "你的名字叫什么", "你必须",
    "你错了，不是那样的", "如果你需要我的帮助，你必须", "你做的不正确",
    "听着，那没有坏，所有系统都是那样工作的", "注意，你必须今天做好", "当然你会收到，但你必须把名字和地址给我",
    "你没有弄明白，这次听好了", "你说得不错，这个部门表现很差劲", "我没办法", "我试试看吧", "我不能，除非",
    "这是公司的政策", "对不起，这事我不管", "好，好",
]


def test_phrasebook_shape():
    assert set(PHRASEBOOK_DATA) == {"pairs"}
    ids = [p["id"] for p in PAIRS]
    assert len(ids) == len(set(ids))
    for pair in PAIRS:
        assert set(pair) == {"id", "language", "habitual", "professional", "note"}
        assert SLUG.match(pair["id"]), pair["id"]
        assert pair["language"] in {"zh-CN", "en-US"}
        assert pair["habitual"] and all(isinstance(h, str) and h.strip() for h in pair["habitual"])
        assert pair["professional"].strip()
        assert pair["note"]["zh-CN"].strip() and pair["note"]["en"].strip()


@pytest.mark.parametrize("habitual", HANDBOOK_HABITUAL)
def test_every_handbook_pair_is_in_the_phrasebook(habitual):
    assert any(habitual in pair["habitual"] for pair in PAIRS if pair["language"] == "zh-CN")


def test_every_habitual_form_is_found_and_maps_to_its_own_pair():
    book = load_phrasebook(PHRASEBOOK_DATA)
    for pair in book.pairs:
        for form in pair.habitual:
            hits = book.find_habitual(form, pair.language)
            assert pair.professional in [h.professional for h in hits], (pair.id, form, hits)


def test_professional_versions_are_not_themselves_habitual():
    book = load_phrasebook(PHRASEBOOK_DATA)
    for pair in book.pairs:
        assert book.find_habitual(pair.professional, pair.language) == [], pair.id


def _shipped():
    from content_schema import load_content
    return load_content(ROLEPLAYS.parent)


def test_a_calm_callers_node_accepts_a_courteous_answer_and_an_angry_ones_does_not():
    from content_schema.rubrics import CALM_ANGER
    from grading.pipeline import TurnContext, grade_turn

    bundle = _shipped()
    for scenario in bundle.scenarios.values():
        for node in scenario.nodes.values():
            assert ("courtesy" in [item.id for item in node.rubric]) == (node.anger <= CALM_ANGER), \
                (scenario.slug, node.id, node.anger)
    billing = bundle.scenarios["double-billing"]
    reply = "好的李女士，号码对上了，这两笔我这就帮您查。"

    def responds(node_id):
        node = billing.nodes[node_id]
        return grade_turn(TurnContext(reply, "zh-CN", node.rubric, billing.rules)).judgements["responds"].held

    assert billing.nodes["verify-charge"].anger <= CALM_ANGER < billing.nodes["suspicious"].anger
    assert responds("verify-charge")          # she is giving her number calmly
    assert not responds("suspicious")         # she thinks she is being cheated: courtesy is not enough


def test_every_warm_transfer_item_hears_the_shared_ways_to_put_a_caller_through():
    from grading.rubric import evaluate_item

    bundle = _shipped()
    said = {"zh-CN": "您稍等，我现在把您的情况写清楚一起转过去，您不用再从头说一遍。",
            "en-US": "I'm putting you through to my supervisor now, and I'll brief them first."}
    for scenario in bundle.scenarios.values():
        language = scenario.spec.language
        for node in scenario.nodes.values():
            for item in node.rubric:
                if item.id == "warm-transfer":
                    assert item.source == "warm_transfer", (scenario.slug, node.id)
                    assert evaluate_item(said[language], item, language).matched, (scenario.slug, node.id)
