"""Writes the noisy variant of the grading development set (grading/devset/).

Each reply is rewritten the way a recogniser or a hurried typist would hand it to the grader,
with the same labels (the noise does not change what was meant):
- zh-CN: punctuation gone; about one Han character in twelve replaced by a common homophone
  (same toneless pinyin); one reply in three written with spaces between words as Vosk does,
  one in six with a space between every character; now and then one character dropped.
- en-US: lower case, no punctuation, contractions spelled out or run together, common
  homophones swapped (your/you're, to/too, there/their, for/four), now and then a short
  word dropped.
Deterministic (seeded by the reply id), so the file only changes when the clean set does.

Run: .venv/bin/python bench/noisy_devset.py
"""
from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
from pathlib import Path

from pypinyin import lazy_pinyin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from grading.text import is_han  # noqa: E402

FIXTURES = ROOT / "grading" / "devset"
_EN_SWAPS = {"your": "you're", "you're": "your", "to": "too", "there": "their", "their": "there",
             "for": "four", "right": "write", "know": "no", "hear": "here", "would": "wood"}
_EN_CONTRACT = {"i am": "im", "do not": "dont", "can not": "cant", "it is": "its", "that is": "thats",
                "i will": "ill", "we will": "well", "you are": "youre", "i'm": "i am", "don't": "do not",
                "can't": "cannot", "it's": "it is", "i'll": "i will", "we'll": "we will"}


def _common_homophones() -> dict[str, list[str]]:
    """Toneless syllable -> the level-1 GB2312 characters (the 3,755 most common) that have it."""
    by_sound: dict[str, list[str]] = {}
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                char = bytes((high, low)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            by_sound.setdefault(lazy_pinyin(char)[0], []).append(char)
    return by_sound


def noisy_zh(text: str, rng: random.Random, homophones: dict[str, list[str]]) -> str:
    chars = [c for c in text if not unicodedata.category(c).startswith("P") and not c.isspace()]
    out: list[str] = []
    for char in chars:
        if is_han(char) and rng.random() < 1 / 12:
            options = [c for c in homophones.get(lazy_pinyin(char)[0], []) if c != char]
            if options:
                char = rng.choice(options)
        if is_han(char) and rng.random() < 1 / 40:
            continue   # a dropped character
        out.append(char)
    style = rng.random()
    if style < 1 / 6:
        return " ".join(out)
    if style < 1 / 2:
        # Vosk-like: a space every one to three characters.
        pieces, index = [], 0
        while index < len(out):
            step = rng.choice((1, 2, 2, 3))
            pieces.append("".join(out[index:index + step]))
            index += step
        return " ".join(pieces)
    return "".join(out)


def noisy_en(text: str, rng: random.Random) -> str:
    text = text.lower().replace("\u2019", "'")
    for long, short in _EN_CONTRACT.items():
        if long in text and rng.random() < 0.5:
            text = text.replace(long, short)
    words = re.findall(r"[a-z0-9']+", text)
    out: list[str] = []
    for word in words:
        if word in _EN_SWAPS and rng.random() < 0.3:
            word = _EN_SWAPS[word]
        if len(word) <= 2 and word not in ("i", "no") and rng.random() < 0.05:
            continue
        out.append(word)
    return " ".join(out)


def main() -> None:
    homophones = _common_homophones()
    rows = [json.loads(line) for line in (FIXTURES / "devset.jsonl").read_text("utf-8").splitlines() if line.strip()]
    with open(FIXTURES / "devset-noisy.jsonl", "w", encoding="utf-8") as out:
        for row in rows:
            rng = random.Random(row["id"])
            text = row["text"]
            row = dict(row, text=noisy_en(text, rng) if row["language"] == "en-US" else noisy_zh(text, rng, homophones))
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} noisy replies to {FIXTURES / 'devset-noisy.jsonl'}")


if __name__ == "__main__":
    main()
