import assert from "node:assert/strict";
import { test } from "node:test";

import { itemVerdict } from "../../../static/js/drill/verdict.js";

const pick = ({ className, label, badgeClass }) => ({ className, label, badgeClass });

test("a met item is ok, a missed one bad", () => {
  assert.deepEqual(pick(itemVerdict({ item_id: "hello", kind: "element", matched: true })),
                   { className: "ok", label: "met", badgeClass: "ok" });
  // The apology the trainee left out: shown as missed.
  assert.deepEqual(pick(itemVerdict({ item_id: "sorry", kind: "element", matched: false })),
                   { className: "bad", label: "missed", badgeClass: "bad" });
});

test("an item not needed because another of its judgement was met is not a miss", () => {
  assert.deepEqual(pick(itemVerdict({ item_id: "x", kind: "intent", matched: false, alternative: true })),
                   { className: "alt", label: "not_needed", badgeClass: "" });
});

test("forbidden items: avoided is good, said is bad", () => {
  assert.deepEqual(pick(itemVerdict({ item_id: "f", kind: "forbidden", matched: false })),
                   { className: "ok", label: "avoided", badgeClass: "ok" });
  assert.deepEqual(pick(itemVerdict({ item_id: "f", rule: "forbidden:blame", matched: true })),
                   { className: "bad", label: "said_forbidden", badgeClass: "bad" });
});
