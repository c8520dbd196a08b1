// Streaming a reply while it is spoken (pure: the page passes in how one chunk is sent).
//
// Chunks go out one at a time, in order (?seq=N); the server appends each to the saved recording
// and feeds it to the reply's recogniser, answering with the words heard so far. The last chunk
// (&final=1) is answered like an uploaded recording. If any chunk fails, the whole recording (kept
// by the page) is sent as a WAV instead: nothing the trainee said is lost.

import { END_FRAMES, FRAME, TAIL_FRAMES } from "./detector.js";

export const CHUNK_FRAMES = 8;                           // 240 ms chunks while the trainee speaks
export const HOLD_FRAMES = END_FRAMES - TAIL_FRAMES;     // the closing silence end-of-speech trims is never streamed

// Refusals of the final chunk after which the whole recording is uploaded instead.
const FALLBACK_ERRORS = new Set(["stream_ended", "out_of_order", "chunk_format", "chunk_too_long", "too_many_chunks"]);

export function shouldUploadInstead(result) {
  const data = result.data || {};
  return result.status === 0 || result.status >= 500 || FALLBACK_ERRORS.has(data.error);
}

// PCM16 frames → one chunk's body (their samples end to end).
export function pcmBody(frames) {
  const out = new Int16Array(frames.length * FRAME);
  frames.forEach((frame, i) => { out.set(frame, i * FRAME); });
  return out.buffer;
}

export class ReplyStream {
  // send({seq, body, final, endedAt}) → Promise of {status, data}; onPartial(words) for each
  // answered chunk while the reply is still being spoken.
  constructor(send, onPartial) {
    this.send = send;
    this.onPartial = onPartial || (() => {});
    this.nextSeq = 0;
    this.sentFrames = 0;
    this.queue = [];
    this.busy = false;
    this.failed = false;
    this.onFailed = null;
    this.onFinal = null;
  }

  // The frames recorded so far: send every whole chunk that is not held back.
  pump(frames) {
    if (this.failed) return;
    while (frames.length - this.sentFrames >= CHUNK_FRAMES + HOLD_FRAMES) {
      this.enqueue(frames.slice(this.sentFrames, this.sentFrames + CHUNK_FRAMES), false);
      this.sentFrames += CHUNK_FRAMES;
    }
  }

  // The reply ended: send the rest as the final chunk. onFinal(result) gets the server's answer;
  // onFailed() is called instead if an earlier chunk failed (or one fails before the final).
  finish(frames, endedAt, onFinal, onFailed) {
    this.onFinal = onFinal;
    this.onFailed = onFailed;
    this.enqueue(frames.slice(Math.min(this.sentFrames, frames.length)), true, endedAt);
  }

  enqueue(frames, final, endedAt) {
    this.queue.push({ seq: this.nextSeq++, body: pcmBody(frames), final, endedAt });
    this.next();
  }

  next() {
    if (this.busy || this.failed || !this.queue.length) return;
    const item = this.queue.shift();
    this.busy = true;
    this.send(item).then((result) => {
      this.busy = false;
      if (item.final) { this.onFinal(result); return; }
      if (result.status === 200 && result.data) {
        if (!this.onFinal) this.onPartial(result.data.partial);
        this.next();
        return;
      }
      this.failed = true;
      this.queue = [];
      if (this.onFailed) this.onFailed();
    });
  }
}
