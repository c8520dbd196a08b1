// Microphone samples at the audio context's rate → 16 kHz for the server (pure: no DOM, no Web Audio).

export const RATE = 16000;

// Box-filter decimation: each output sample is the mean of the input samples it covers.
// Below 16 kHz input samples are repeated instead. State carries over between blocks, so a
// stream cut into blocks of any size gives the same output as one long block.
export class Downsampler {
  constructor(inRate, outRate = RATE) {
    this.ratio = inRate / outRate;
    this.pos = 0;
    this.sum = 0;
    this.count = 0;
  }

  push(input) {
    const out = [];
    if (this.ratio <= 1) {
      for (let j = 0; j < input.length; j++) {
        this.pos += 1 / this.ratio;
        while (this.pos >= 1) { out.push(input[j]); this.pos -= 1; }
      }
      return out;
    }
    for (let i = 0; i < input.length; i++) {
      this.sum += input[i];
      this.count += 1;
      this.pos += 1;
      if (this.pos >= this.ratio) {
        out.push(this.sum / this.count);
        this.sum = 0;
        this.count = 0;
        this.pos -= this.ratio;
      }
    }
    return out;
  }
}
