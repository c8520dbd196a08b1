// The microphone through Web Audio: getUserMedia → an AudioWorklet (static/js/drill-recorder-worklet.js)
// or, where there is none, a ScriptProcessor → onSamples(Float32Array at the context's rate).

export function micAvailable() {
  return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

// Resolves to the open microphone {stream, source, node, sink, sampleRate, recorder}; rejects
// when there is no permission or no device.
export function openMic(ctx, workletUrl, onSamples) {
  const constraints = { audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } };
  return navigator.mediaDevices.getUserMedia(constraints).then((stream) =>
    (ctx.state === "running" ? Promise.resolve() : ctx.resume())
      .then(() => captureNode(ctx, workletUrl, onSamples))
      .then((node) => {
        const source = ctx.createMediaStreamSource(stream);
        const sink = ctx.createGain();
        sink.gain.value = 0;        // processors must reach the destination to run; keep it silent
        source.connect(node);
        node.connect(sink);
        sink.connect(ctx.destination);
        return { stream, source, node, sink, sampleRate: ctx.sampleRate,
                 recorder: node.port ? "worklet" : "script-processor" };
      }));
}

function captureNode(ctx, workletUrl, onSamples) {
  const fallback = () => {
    const processor = ctx.createScriptProcessor(4096, 1, 1);
    processor.onaudioprocess = (event) => { onSamples(event.inputBuffer.getChannelData(0)); };
    return processor;
  };
  if (!ctx.audioWorklet || !window.AudioWorkletNode) return Promise.resolve(fallback());
  return ctx.audioWorklet.addModule(workletUrl).then(() => {
    const node = new window.AudioWorkletNode(ctx, "drill-recorder",
      { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], channelCount: 1, channelCountMode: "explicit" });
    node.port.onmessage = (event) => { onSamples(event.data); };
    return node;
  }, fallback);
}

export function closeMic(mic) {
  mic.stream.getTracks().forEach((track) => { track.stop(); });
  try { mic.source.disconnect(); mic.node.disconnect(); mic.sink.disconnect(); } catch (e) { /* already gone */ }
  if (mic.node.port) mic.node.port.onmessage = null;
}
