import assert from "node:assert/strict";
import { test } from "node:test";

import {
  END_FRAMES, FRAME, MAX_FRAMES, MIN_MANUAL_FRAMES, PREROLL_FRAMES, SpeechDetector, TAIL_FRAMES, frameLevel,
} from "../../../static/js/drill/detector.js";
import { run, script, silence, tone } from "./signals.mjs";

const isSilent = (pcm) => pcm.every((s) => s === 0);

function listening() {
  const detector = new SpeechDetector();
  detector.listen();
  return detector;
}

test("silence starts nothing", () => {
  const detector = listening();
  const frames = script("s200");
  let speaking = false;
  frames.forEach((frame) => { speaking ||= detector.process(frame).speaking; });
  assert.deepEqual(run(detector, frames), []);
  assert.equal(speaking, false);
  assert.equal(detector.recording, false);
});

test("a tone burst is one utterance from its pre-roll to 300 ms after it", () => {
  const detector = listening();
  // frames 0-19 quiet (arms the detector), 20-69 tone, 70- quiet
  const events = run(detector, script("s20 t50 s60"));
  // 90 ms of speech starts it; ~1 s of quiet after the tone ends it.
  assert.deepEqual(events, [{ event: "start", at: 22 }, { event: "silence", at: 69 + END_FRAMES }]);
  const frames = detector.finish("silence");
  assert.equal(detector.active, false);
  // Kept: the 300 ms before the start was detected (frames 13-22) through 300 ms of the closing
  // quiet (frames 70-79): frames 13-79.
  assert.equal(frames.length, 79 - 13 + 1);
  assert.equal(PREROLL_FRAMES, 10);
  assert.equal(TAIL_FRAMES, 10);
  const firstTone = frames.findIndex((pcm) => !isSilent(pcm));
  assert.equal(firstTone, 20 - 13);
  assert.deepEqual(Array.from(frames[firstTone]), Array.from(frameLevel(tone(20)).pcm));
  const lastTone = frames.findLastIndex((pcm) => !isSilent(pcm));
  assert.equal(lastTone, 69 - 13);
  assert.equal(frames.length - 1 - lastTone, TAIL_FRAMES);
});

test("a pause shorter than the hang-over does not split the utterance", () => {
  const detector = listening();
  const pause = END_FRAMES - 4;
  const events = run(detector, script(`s20 t30 s${pause} t30 s60`));
  const secondEnds = 20 + 30 + pause + 30 - 1;
  assert.deepEqual(events, [{ event: "start", at: 22 }, { event: "silence", at: secondEnds + END_FRAMES }]);
  const frames = detector.finish("silence");
  const voiced = frames.filter((pcm) => !isSilent(pcm)).length;
  assert.equal(voiced, 60);  // both bursts in one reply
});

test("a pause as long as the hang-over ends the utterance", () => {
  const detector = listening();
  const events = run(detector, script(`s20 t30 s${END_FRAMES}`));
  assert.deepEqual(events.map((e) => e.event), ["start", "silence"]);
});

test("speech already going when listening starts is not cut in the middle", () => {
  const detector = listening();
  assert.deepEqual(run(detector, script("t100")), []);
  // once 300 ms of quiet armed it, the next speech starts an utterance
  assert.deepEqual(run(detector, script("s10 t3"), 100), [{ event: "start", at: 112 }]);
});

test("only 300 ms of unbroken quiet arms the detector", () => {
  const detector = listening();
  // 150 ms quiet, a click, 150 ms quiet: not yet armed, so the speech after it is not a start
  assert.deepEqual(run(detector, script("s5 t1 s5 t5")), []);
  assert.deepEqual(run(detector, script("s10 t3"), 16), [{ event: "start", at: 28 }]);
});

test("an utterance stops at 60 s", () => {
  const detector = listening();
  const frames = script(`s20 t${MAX_FRAMES + 100}`);
  const events = run(detector, frames);
  // the pre-roll counts: 10 frames were kept at the start (frame 22)
  assert.deepEqual(events[0], { event: "start", at: 22 });
  assert.equal(events[1].event, "limit");
  assert.equal(events[1].at, 22 + MAX_FRAMES - PREROLL_FRAMES);
  assert.equal(detector.finish("limit").length, MAX_FRAMES);
});

test("not listening: frames are measured but start nothing", () => {
  const detector = new SpeechDetector();
  const results = script("s20 t20").map((frame) => detector.process(frame));
  assert.ok(results.every((r) => r.event === null));
  assert.equal(results.at(-1).speaking, true);
  assert.equal(results[0].speaking, false);
});

test("push-to-talk records silence until released, with the pre-roll", () => {
  const detector = listening();
  run(detector, script("s12"));
  assert.equal(detector.press(), "started");
  assert.equal(detector.manual, true);
  assert.deepEqual(run(detector, script(`s${END_FRAMES + 20}`)), []);  // no end of speech while held
  assert.equal(detector.finish("release").length, PREROLL_FRAMES + END_FRAMES + 20);
});

test("push-to-talk shorter than 300 ms is a slip", () => {
  const detector = listening();
  detector.press();
  run(detector, script(`s${MIN_MANUAL_FRAMES - 1}`));
  assert.equal(detector.finish("release"), null);
  assert.equal(detector.active, false);
  detector.listen();
  detector.press();
  run(detector, script(`s${MIN_MANUAL_FRAMES}`));
  assert.equal(detector.finish("release").length, MIN_MANUAL_FRAMES);
});

test("pressing during an utterance keeps it and only the release ends it", () => {
  const detector = listening();
  run(detector, script("s20 t10"));
  assert.equal(detector.recording, true);
  assert.equal(detector.press(), "held");
  assert.deepEqual(run(detector, script(`s${END_FRAMES * 2}`)), []);
  const frames = detector.finish("release");
  assert.equal(frames.length, PREROLL_FRAMES + 7 + END_FRAMES * 2);  // untrimmed
});

test("frame levels: PCM16 conversion with clipping, and dBFS", () => {
  const frame = new Float32Array(FRAME);
  frame.set([1, -1, 0.5, -0.5, 1.5, -1.5]);
  const { pcm } = frameLevel(frame);
  assert.deepEqual(Array.from(pcm.slice(0, 6)), [32767, -32768, 16383, -16384, 32767, -32768]);
  assert.equal(frameLevel(silence()).db, -100);
  assert.equal(frameLevel(new Float32Array(FRAME).fill(0.5)).db.toFixed(2), (20 * Math.log10(0.5)).toFixed(2));
});

test("a steady background hum raises the threshold: it is not speech, a louder voice is", () => {
  const detector = listening();
  const hum = () => tone(0, 0.003);          // about -53 dBFS
  for (let i = 0; i < 300; i++) assert.equal(detector.process(hum()).event, null);
  assert.equal(detector.process(tone(0, 0.003)).speech, false);
  assert.equal(detector.process(tone(0, 0.3)).speech, true);
});
