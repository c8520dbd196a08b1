import assert from "node:assert/strict";
import { test } from "node:test";

import { Downsampler } from "../../../static/js/drill/downsample.js";

function sine(frequency, rate, seconds, amplitude = 0.5) {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin(2 * Math.PI * frequency * i / rate);
  return out;
}

// Blocks as the microphone delivers them (the worklet posts 2048 samples, a ScriptProcessor 4096).
function inBlocks(down, input, size) {
  const out = [];
  for (let i = 0; i < input.length; i += size) out.push(...down.push(input.subarray(i, i + size)));
  return out;
}

function zeroCrossings(samples) {
  let n = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1] < 0) !== (samples[i] < 0)) n++;
  return n;
}

test("48 kHz becomes 16 kHz: one second in, one second out, whatever the block size", () => {
  const input = sine(440, 48000, 1);
  const whole = new Downsampler(48000).push(input);
  assert.equal(whole.length, 16000);
  for (const size of [2048, 4096, 333]) {
    assert.deepEqual(inBlocks(new Downsampler(48000), input, size), whole, `blocks of ${size}`);
  }
});

test("44.1 kHz becomes 16 kHz", () => {
  const out = inBlocks(new Downsampler(44100), sine(440, 44100, 2), 2048);
  assert.ok(Math.abs(out.length - 32000) <= 1, out.length);
});

test("a tone keeps its pitch: zero crossings of 440 Hz and 1 kHz at 16 kHz", () => {
  for (const [frequency, rate] of [[440, 48000], [1000, 48000], [440, 44100]]) {
    const out = inBlocks(new Downsampler(rate), sine(frequency, rate, 1), 2048);
    const crossings = zeroCrossings(out);
    // two per period, over one second
    assert.ok(Math.abs(crossings - 2 * frequency) <= 0.02 * 2 * frequency, `${frequency} Hz at ${rate}: ${crossings}`);
  }
});

test("each output sample is the mean of the input samples it covers", () => {
  const out = new Downsampler(48000).push(Float32Array.from([0, 0.3, 0.6, 0.9, 0.9, 0.9]));
  assert.equal(out.length, 2);
  assert.ok(Math.abs(out[0] - 0.3) < 1e-6 && Math.abs(out[1] - 0.9) < 1e-6, String(out));
});

test("below 16 kHz samples are repeated", () => {
  const out = new Downsampler(8000).push(Float32Array.from([0.1, 0.2, 0.3]));
  assert.equal(out.length, 6);
  assert.ok(Math.abs(out[0] - 0.1) < 1e-6 && Math.abs(out[1] - 0.1) < 1e-6 && Math.abs(out[5] - 0.3) < 1e-6);
});
