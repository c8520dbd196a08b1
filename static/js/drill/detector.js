// Where a spoken reply starts and ends, from 30 ms frames of 16 kHz samples (pure: no DOM, no Web
// Audio). The page feeds every frame to process() and acts on what it answers; push-to-talk is
// press() / release().

export const FRAME = 480;               // 30 ms at 16 kHz
export const START_FRAMES = 3;          // 90 ms above the threshold starts an utterance
export const ARM_FRAMES = 10;           // … but only after 300 ms of quiet (never start mid-sentence)
export const END_FRAMES = 34;           // ~1 s below the threshold ends it
export const PREROLL_FRAMES = 10;       // keep 300 ms before the detected start
export const TAIL_FRAMES = 10;          // keep 300 ms of the closing silence
export const MAX_FRAMES = 2000;         // 60 s at most
export const MIN_MANUAL_FRAMES = 10;    // push-to-talk shorter than 300 ms is a slip

// One frame of float samples (-1…1) → its PCM16 samples and loudness in dBFS (-100 for silence).
export function frameLevel(frame) {
  let sum = 0;
  const pcm = new Int16Array(frame.length);
  for (let i = 0; i < frame.length; i++) {
    const s = Math.max(-1, Math.min(1, frame[i]));
    sum += s * s;
    pcm[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
  }
  const rms = Math.sqrt(sum / frame.length);
  return { pcm, db: rms > 0 ? Math.max(-100, 20 * Math.log10(rms)) : -100 };
}

export class SpeechDetector {
  constructor() {
    this.noiseDb = -70;      // the background level, learnt from frames without speech
    this.recentSpeech = 0;   // frames left of "speech within the last 300 ms"
    this.stop();
  }

  get active() { return this.state.active; }
  get recording() { return this.state.active && this.state.recording; }
  get manual() { return this.state.manual; }
  // The PCM frames of the utterance being recorded (with its pre-roll), in order.
  get frames() { return this.state.frames; }

  // Wait for the trainee to speak.
  listen() {
    this.state = { active: true, recording: false, manual: false, armed: false, quiet: 0, loud: 0,
                   preroll: [], frames: [], silent: 0 };
  }

  stop() {
    this.state = { active: false, recording: false, manual: false, frames: [] };
  }

  // Forget the speech level display (the microphone was turned off).
  quiet() { this.recentSpeech = 0; }

  // Push-to-talk pressed: record from now (with the pre-roll), or keep the utterance already being
  // recorded and let only the release end it. "started" or "held".
  press() {
    if (!this.state.active) this.listen();  // (the page normally listens already)
    if (this.state.recording) { this.state.manual = true; return "held"; }
    this.startRecording(true);
    return "started";
  }

  startRecording(manual) {
    const state = this.state;
    state.recording = true;
    state.manual = manual;
    state.frames = state.preroll.slice();
    state.silent = 0;
  }

  // One frame of float samples. The answer:
  //   pcm, db: the frame as PCM16 and its level; speech: louder than the threshold;
  //   speaking: speech within the last 300 ms (what the page shows);
  //   event: null, "start" (an utterance began), "silence" (it ended after ~1 s of quiet) or
  //   "limit" (it reached 60 s) — then call finish(event).
  process(frame) {
    const { pcm, db } = frameLevel(frame);
    const threshold = Math.min(-32, Math.max(-50, this.noiseDb + 15));
    const speech = db > threshold;
    this.recentSpeech = speech ? PREROLL_FRAMES : Math.max(0, this.recentSpeech - 1);
    const result = { pcm, db, speech, speaking: this.recentSpeech > 0, event: null };
    const state = this.state;
    if (!speech && !(state.active && state.recording)) {
      // Track the background level: follow quiet quickly, noise slowly.
      this.noiseDb = db < this.noiseDb ? (this.noiseDb + db) / 2 : this.noiseDb + 0.02 * (db - this.noiseDb);
    }
    if (!state.active) return result;
    if (state.recording) {
      state.frames.push(pcm);
      state.silent = speech ? 0 : state.silent + 1;
      if (!state.manual && state.silent >= END_FRAMES) result.event = "silence";
      else if (state.frames.length >= MAX_FRAMES) result.event = "limit";
      return result;
    }
    state.preroll.push(pcm);
    if (state.preroll.length > PREROLL_FRAMES) state.preroll.shift();
    if (speech) {
      state.loud += 1;
      if (!state.armed) state.quiet = 0;
    } else {
      state.loud = 0;
      state.quiet += 1;
      if (state.quiet >= ARM_FRAMES) state.armed = true;
    }
    if (state.armed && state.loud >= START_FRAMES) {
      this.startRecording(false);
      result.event = "start";
    }
    return result;
  }

  // End the utterance ("silence", "limit" or "release") and stop listening. The frames to send
  // (after silence without most of the closing quiet), or null for a push-to-talk slip shorter
  // than 300 ms (the page then listens again).
  finish(reason) {
    let frames = this.state.frames;
    const manual = this.state.manual;
    this.stop();
    if (reason === "silence") frames = frames.slice(0, Math.max(1, frames.length - (END_FRAMES - TAIL_FRAMES)));
    return manual && frames.length < MIN_MANUAL_FRAMES ? null : frames;
  }
}
