"""Is a reply something said to a caller, or a list of keywords?

Keyword stuffing ("理解 抱歉 宽带账号 是多少", "understand sorry account number") can hit every
intent without saying anything to anybody. What it never has is the glue of speech addressed to
a person: a pronoun or a polite form (我/您/请/麻烦…, I/you/we/please/let…). Spacing cannot be
the test: Vosk writes Chinese with a space between words.
"""
from __future__ import annotations

import re

from grading.text import family, tokenize

_ZH_ADDRESS = frozenset("我您你咱请")
_ZH_ADDRESS_WORDS = ("麻烦", "谢谢", "感谢", "多谢", "劳驾", "不好意思", "对不起")
_EN_ADDRESS = frozenset({"i", "you", "we", "me", "my", "your", "our", "us", "let", "please", "thank", "thanks",
                         "sir", "ma'am", "madam", "mr", "mrs", "ms"})
_KO_ADDRESS_ENDINGS = ("니다", "세요", "어요", "아요", "해요", "까요")
# A run of short Chinese phrases joined by 、 ("非常抱歉、理解您的心情、感谢您的耐心、换机申请…") is a
# checklist read out, even when its phrases contain 您: five or more, making up most of the reply.
_ZH_LIST_ITEM = r"[\u4e00-\u9fff]{2,7}"
_ZH_LIST = re.compile(rf"{_ZH_LIST_ITEM}(?:、{_ZH_LIST_ITEM}){{4,}}")


def looks_like_sentence(text: str, language: str) -> bool:
    fam = family(language)
    units = tokenize(text, language)
    if not units:
        return False
    if fam == "en":
        return any(u.text in _EN_ADDRESS for u in units)
    if fam == "ko":
        return any(ending in text for ending in _KO_ADDRESS_ENDINGS) or len(units) >= 4
    joined = "".join(u.text for u in units)
    listed = sum(len(m.group()) for m in _ZH_LIST.finditer(text))
    if listed >= 0.7 * len(re.sub(r"[\s\W]", "", text)):
        return False
    return any(u.text in _ZH_ADDRESS for u in units) or any(w in joined for w in _ZH_ADDRESS_WORDS)
