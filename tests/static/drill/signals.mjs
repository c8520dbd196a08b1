// Test signals for the drill's audio modules: 30 ms frames of float samples at 16 kHz.
import { FRAME } from "../../../static/js/drill/detector.js";

export const silence = () => new Float32Array(FRAME);

// A 440 Hz tone at amplitude 0.3 (about -13.5 dBFS: speech by any threshold).
export function tone(index = 0, amplitude = 0.3, frequency = 440, rate = 16000) {
  const frame = new Float32Array(FRAME);
  for (let i = 0; i < FRAME; i++) frame[i] = amplitude * Math.sin(2 * Math.PI * frequency * (index * FRAME + i) / rate);
  return frame;
}

// "s20 t50 s60" → 20 silent frames, 50 tone frames, 60 silent frames.
export function script(text) {
  const frames = [];
  for (const part of text.trim().split(/\s+/)) {
    const n = Number(part.slice(1));
    for (let i = 0; i < n; i++) frames.push(part[0] === "t" ? tone(frames.length) : silence());
  }
  return frames;
}

// Feed frames to a detector as the page does, up to an utterance's end ("silence" or "limit": the
// page then calls finish); the events with the index of the frame that caused them.
export function run(detector, frames, from = 0) {
  const events = [];
  for (let i = 0; i < frames.length; i++) {
    const heard = detector.process(frames[i]);
    if (heard.event) events.push({ event: heard.event, at: from + i });
    if (heard.event === "silence" || heard.event === "limit") break;
  }
  return events;
}
