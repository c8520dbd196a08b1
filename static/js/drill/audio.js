// The page's one audio context (the ring tone and the microphone) and the ring tone.

let audioCtx = null;

export function audioContext() {
  if (!audioCtx) {
    const Ctor = window.AudioContext || window.webkitAudioContext;
    if (!Ctor) return null;
    audioCtx = new Ctor();
  }
  return audioCtx;
}

// Browsers keep audio off until the page is touched or clicked.
export function resumeAudio() {
  const ctx = audioContext();
  if (ctx && ctx.state !== "running") ctx.resume().catch(() => {});
}

// One ring: a double burst of 440 + 480 Hz.
export function ringTone() {
  const ctx = audioContext();
  // Before any user gesture the context is suspended: the ring stays visible only.
  if (!ctx || ctx.state !== "running") return;
  const now = ctx.currentTime;
  const gain = ctx.createGain();
  gain.gain.setValueAtTime(0, now);
  gain.connect(ctx.destination);
  [440, 480].forEach((frequency) => {
    const osc = ctx.createOscillator();
    osc.type = "sine";
    osc.frequency.value = frequency;
    osc.connect(gain);
    osc.start(now);
    osc.stop(now + 1.05);
  });
  [[0, 0.4], [0.6, 1.0]].forEach((burst) => {
    gain.gain.setValueAtTime(0, now + burst[0]);
    gain.gain.linearRampToValueAtTime(0.12, now + burst[0] + 0.02);
    gain.gain.setValueAtTime(0.12, now + burst[1] - 0.02);
    gain.gain.linearRampToValueAtTime(0, now + burst[1]);
  });
}
