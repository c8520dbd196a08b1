import assert from "node:assert/strict";
import { test } from "node:test";

import { encodeWav } from "../../../static/js/drill/wav.js";

const ascii = (view, offset, length) =>
  String.fromCharCode(...Array.from({ length }, (_, i) => view.getUint8(offset + i)));

test("the RIFF header describes 16 kHz mono 16-bit PCM and the data that follows", () => {
  const frames = [Int16Array.from([0, 1, -1]), Int16Array.from([32767, -32768, 1234])];
  const bytes = encodeWav(frames);
  const view = new DataView(bytes);
  assert.equal(bytes.byteLength, 44 + 6 * 2);
  assert.equal(ascii(view, 0, 4), "RIFF");
  assert.equal(view.getUint32(4, true), bytes.byteLength - 8);
  assert.equal(ascii(view, 8, 4), "WAVE");
  assert.equal(ascii(view, 12, 4), "fmt ");
  assert.equal(view.getUint32(16, true), 16);      // fmt chunk size
  assert.equal(view.getUint16(20, true), 1);       // PCM
  assert.equal(view.getUint16(22, true), 1);       // mono
  assert.equal(view.getUint32(24, true), 16000);   // sample rate
  assert.equal(view.getUint32(28, true), 32000);   // byte rate
  assert.equal(view.getUint16(32, true), 2);       // block align
  assert.equal(view.getUint16(34, true), 16);      // bits per sample
  assert.equal(ascii(view, 36, 4), "data");
  assert.equal(view.getUint32(40, true), 12);      // data length in bytes
});

test("samples follow the header in order, little-endian", () => {
  const frames = [Int16Array.from([0, 1, -1]), Int16Array.from([32767, -32768, 1234])];
  const view = new DataView(encodeWav(frames));
  const samples = Array.from({ length: 6 }, (_, i) => view.getInt16(44 + 2 * i, true));
  assert.deepEqual(samples, [0, 1, -1, 32767, -32768, 1234]);
  assert.equal(view.getUint8(44 + 2 * 4), 0x00);   // -32768 = 0x8000, low byte first
  assert.equal(view.getUint8(44 + 2 * 4 + 1), 0x80);
});

test("a 30 ms frame count gives the right data length and duration", () => {
  const frames = Array.from({ length: 100 }, () => new Int16Array(480));
  const view = new DataView(encodeWav(frames));
  const dataBytes = view.getUint32(40, true);
  assert.equal(dataBytes, 100 * 480 * 2);
  assert.equal(dataBytes / view.getUint32(28, true), 3);  // seconds
});

test("no frames: a valid empty recording", () => {
  const view = new DataView(encodeWav([]));
  assert.equal(view.byteLength, 44);
  assert.equal(view.getUint32(4, true), 36);
  assert.equal(view.getUint32(40, true), 0);
});
