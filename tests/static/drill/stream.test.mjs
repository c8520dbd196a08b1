import assert from "node:assert/strict";
import { test } from "node:test";

import { FRAME } from "../../../static/js/drill/detector.js";
import { CHUNK_FRAMES, HOLD_FRAMES, ReplyStream, pcmBody, shouldUploadInstead } from "../../../static/js/drill/stream.js";

// Frame n holds the sample value n: a chunk's body tells which frames it carries.
const frames = (n) => Array.from({ length: n }, (_, i) => new Int16Array(FRAME).fill(i));
const framesIn = (body) => {
  const samples = new Int16Array(body);
  return Array.from({ length: samples.length / FRAME }, (_, i) => samples[i * FRAME]);
};
const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);
const settle = () => new Promise((resolve) => setImmediate(resolve));

// A server the test answers by hand: every request waits until answer() is called.
function fakeServer() {
  const server = { sent: [], waiting: [] };
  server.send = (item) => new Promise((resolve) => {
    server.sent.push(item);
    server.waiting.push(resolve);
  });
  server.answer = async (result) => {
    server.waiting.shift()(result);
    await settle();
  };
  return server;
}
const ok = (partial) => ({ status: 200, data: { partial } });

test("chunks of 240 ms go out while speaking, holding back the silence end-of-speech trims", async () => {
  assert.equal(CHUNK_FRAMES, 8);
  assert.equal(HOLD_FRAMES, 24);
  const server = fakeServer();
  const partials = [];
  const stream = new ReplyStream(server.send, (words) => partials.push(words));
  const recording = frames(HOLD_FRAMES + CHUNK_FRAMES - 1);
  stream.pump(recording);
  assert.equal(server.sent.length, 0);   // not a whole chunk beyond the held-back frames
  recording.push(...frames(1));
  stream.pump(recording);
  assert.equal(server.sent.length, 1);
  assert.deepEqual(framesIn(server.sent[0].body), range(0, 8));
  // Three more chunks' worth: still one request at a time, in order.
  recording.push(...frames(3 * CHUNK_FRAMES));
  stream.pump(recording);
  assert.equal(server.sent.length, 1);
  await server.answer(ok("안녕"));
  assert.equal(server.sent.length, 2);
  await server.answer(ok("안녕하세요"));
  await server.answer(ok("안녕하세요"));
  assert.deepEqual(server.sent.map((item) => item.seq), [0, 1, 2, 3]);
  assert.ok(server.sent.every((item) => !item.final));
  assert.equal(stream.sentFrames, 4 * CHUNK_FRAMES);
  assert.deepEqual(partials, ["안녕", "안녕하세요", "안녕하세요"]);
});

test("the final chunk carries the rest of the reply and its answer goes to onFinal", async () => {
  const server = fakeServer();
  const stream = new ReplyStream(server.send, () => {});
  const recording = frames(HOLD_FRAMES + 2 * CHUNK_FRAMES + 3);
  stream.pump(recording);
  await server.answer(ok(""));
  await server.answer(ok(""));
  const finals = [];
  let failed = 0;
  const trimmed = recording.slice(0, recording.length - 5);  // end of speech trims the closing quiet
  stream.finish(trimmed, 1234567, (result) => finals.push(result), () => { failed += 1; });
  const last = server.sent.at(-1);
  assert.equal(last.seq, 2);
  assert.equal(last.final, true);
  assert.equal(last.endedAt, 1234567);
  assert.deepEqual(framesIn(last.body), range(2 * CHUNK_FRAMES, trimmed.length));
  await server.answer({ status: 200, data: { turn: { id: 7 } } });
  assert.deepEqual(finals, [{ status: 200, data: { turn: { id: 7 } } }]);
  assert.equal(failed, 0);
});

test("no partial words are shown once the reply has ended", async () => {
  const server = fakeServer();
  const partials = [];
  const stream = new ReplyStream(server.send, (words) => partials.push(words));
  stream.pump(frames(HOLD_FRAMES + CHUNK_FRAMES));
  stream.finish(frames(HOLD_FRAMES + CHUNK_FRAMES), 1, () => {}, () => {});
  await server.answer(ok("late words"));
  assert.deepEqual(partials, []);
});

test("a chunk that fails stops the stream: nothing more is sent and the page uploads the whole reply", async () => {
  const server = fakeServer();
  const stream = new ReplyStream(server.send, () => {});
  const recording = frames(HOLD_FRAMES + 3 * CHUNK_FRAMES);
  stream.pump(recording);
  await server.answer(ok(""));
  let fellBack = 0;
  stream.onFailed = () => { fellBack += 1; };
  await server.answer({ status: 0, data: null });  // the connection was cut
  assert.equal(stream.failed, true);
  assert.equal(fellBack, 1);
  assert.equal(server.sent.length, 2);             // the third chunk was dropped, not sent
  assert.equal(stream.queue.length, 0);
  recording.push(...frames(4 * CHUNK_FRAMES));
  stream.pump(recording);
  assert.equal(server.sent.length, 2);
});

test("a chunk failing after the reply ended hands over to the whole-recording upload", async () => {
  const server = fakeServer();
  const stream = new ReplyStream(server.send, () => {});
  const recording = frames(HOLD_FRAMES + CHUNK_FRAMES);
  stream.pump(recording);
  const events = [];
  stream.finish(recording, 1, () => events.push("final"), () => events.push("upload"));
  await server.answer({ status: 409, data: { error: "stream_ended" } });
  assert.deepEqual(events, ["upload"]);
  assert.equal(server.sent.length, 1);  // the final chunk never went out
});

test("which answers to the final chunk make the page upload the whole recording instead", () => {
  assert.equal(shouldUploadInstead({ status: 0, data: null }), true);
  assert.equal(shouldUploadInstead({ status: 502, data: null }), true);
  for (const error of ["stream_ended", "out_of_order", "chunk_format", "chunk_too_long", "too_many_chunks"]) {
    assert.equal(shouldUploadInstead({ status: 409, data: { error } }), true, error);
  }
  // A graded reply, a queued one and a refusal of the audio itself are answers to show.
  assert.equal(shouldUploadInstead({ status: 200, data: { turn: {} } }), false);
  assert.equal(shouldUploadInstead({ status: 202, data: { status: "queued" } }), false);
  assert.equal(shouldUploadInstead({ status: 400, data: { error: "silence" } }), false);
});

test("a chunk's body is its frames' samples end to end", () => {
  const body = pcmBody([Int16Array.from({ length: FRAME }, (_, i) => i), new Int16Array(FRAME).fill(-7)]);
  const samples = new Int16Array(body);
  assert.equal(samples.length, 2 * FRAME);
  assert.equal(samples[FRAME - 1], FRAME - 1);
  assert.equal(samples[FRAME], -7);
});
