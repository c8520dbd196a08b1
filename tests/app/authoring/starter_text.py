"""The starters with their example text (refused at publish) replaced by real text, for tests that publish."""
from app.authoring.starters import STARTER_SCENARIO

SCENARIO_TEXT = {
    "  zh-CN: 新的情景\n": "  zh-CN: 包裹迟到\n",
    "  en: New scenario\n": "  en: A late parcel\n",
    "  zh-CN: 写下客户是谁、发生了什么、座席可以做什么。\n": "  zh-CN: 李女士的包裹晚到三天，座席可以查物流并承诺回电。\n",
    "  en: Who the caller is, what happened, and what the agent can do.\n":
        "  en: Ms Li's parcel is three days late; the agent can track it and promise a call back.\n",
}
BANK_TEXT = {"  zh-CN: 新的题库\n": "  zh-CN: 基础题库\n", "  en: New question bank\n": "  en: Basics\n"}


def real_text(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def starter_scenario(slug: str) -> str:
    """The starter scenario under ``slug``, ready to publish."""
    return real_text(STARTER_SCENARIO, SCENARIO_TEXT).replace("slug: new-scenario", f"slug: {slug}")
