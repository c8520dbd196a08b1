import assert from "node:assert/strict";
import { test } from "node:test";

import { POLL_LIMIT_MS, POLL_MS, pollUntilGraded } from "../../../static/js/drill/poll.js";

// A fake clock and timer, and a state endpoint answering from a list.
function harness(answers) {
  const h = { clock: 0, timers: [], asked: [], graded: [], pending: 0 };
  h.options = {
    url: "/api/roleplays/attempts/1/state?turn=5",
    fetchState: (url) => {
      h.asked.push({ url, at: h.clock });
      return Promise.resolve(answers.length > 1 ? answers.shift() : answers[0]);
    },
    onGraded: (result) => h.graded.push(result),
    onPending: () => { h.pending += 1; },
    schedule: (fn, ms) => h.timers.push({ fn, ms }),
    now: () => h.clock,
  };
  // Let every timer run, one at a time, until none is left (or a bound is reached).
  h.runTimers = async (limit = 1000) => {
    for (let n = 0; h.timers.length && n < limit; n++) {
      const { fn, ms } = h.timers.shift();
      h.clock += ms;
      fn();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return h;
}

const queued = { status: 200, data: { turn_status: "received" } };

test("a queued reply is asked about every 500 ms until it is graded, then shown once", async () => {
  const result = { turn: { id: 5 }, state: { status: "in_call" } };
  const h = harness([queued, { status: 200, data: { turn_status: "grading" } },
                     { status: 200, data: { turn_status: "graded", turn_result: result } }]);
  pollUntilGraded(h.options);
  assert.equal(h.asked.length, 0);  // the first question waits one interval
  await h.runTimers();
  assert.deepEqual(h.asked.map((a) => a.at), [POLL_MS, 2 * POLL_MS, 3 * POLL_MS]);
  assert.ok(h.asked.every((a) => a.url === "/api/roleplays/attempts/1/state?turn=5"));
  assert.deepEqual(h.graded, [result]);
  assert.equal(h.pending, 0);
});

test("a network blip does not end the wait", async () => {
  const result = { turn: { id: 5 } };
  const h = harness([{ status: 0, data: null }, { status: 500, data: null },
                     { status: 200, data: { turn_result: result } }]);
  pollUntilGraded(h.options);
  await h.runTimers();
  assert.equal(h.asked.length, 3);
  assert.deepEqual(h.graded, [result]);
});

test("a turn that could not be graded shows the pending notice", async () => {
  const h = harness([queued, { status: 200, data: { turn_status: "pending" } }]);
  pollUntilGraded(h.options);
  await h.runTimers();
  assert.equal(h.pending, 1);
  assert.deepEqual(h.graded, []);
  assert.equal(h.asked.length, 2);  // at once, not after waiting out the limit
  assert.equal(h.timers.length, 0);
});

test("no grade within 3 minutes: pending, and the polling stops", async () => {
  const h = harness([queued]);
  pollUntilGraded(h.options);
  await h.runTimers();
  assert.equal(h.pending, 1);
  assert.equal(h.timers.length, 0);
  assert.equal(POLL_LIMIT_MS, 180000);
  assert.equal(h.asked.length, POLL_LIMIT_MS / POLL_MS + 1);
});
