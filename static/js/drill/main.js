// The drill call screen (app/roleplays/templates/roleplays/call.html).
//
// Ringing → answer → the customer speaks (audio, optional caption) → the trainee replies by voice
// (microphone → 16 kHz mono PCM16, streamed to the server in 240 ms chunks while the trainee speaks, so
// recognition keeps up; the reply ends after ~1 s of silence or when push-to-talk is released; if the
// stream breaks the whole recording is sent as a WAV instead) or by typing → feedback → the next customer line … until the call ends.
// The server owns the call: every step comes from the JSON API and a reload resumes from state_url.
// All text shown comes from the server-rendered #drill-i18n element (strings.js).
// This module wires the page; the audio work without DOM lives in downsample.js, detector.js,
// wav.js and stream.js, the queued-reply polling in poll.js, the reading of graded items in
// verdict.js (unit-tested in tests/static/drill).

import { api, getJson, postJson } from "./api.js";
import { audioContext, resumeAudio, ringTone } from "./audio.js";
import { FRAME, SpeechDetector } from "./detector.js";
import { Downsampler } from "./downsample.js";
import { badge, renderFeedback, scoreClass, turnPercent } from "./feedback.js";
import { closeMic, micAvailable, openMic } from "./mic.js";
import { pollUntilGraded } from "./poll.js";
import { ReplyStream, shouldUploadInstead } from "./stream.js";
import { t } from "./strings.js";
import { encodeWav } from "./wav.js";

const root = document.getElementById("drill");
if (root) start(root);

function start(root) {
  // ---- configuration ---------------------------------------------------------------------------
  const cfg = root.dataset;
  const byId = (id) => document.getElementById(id);

  const el = {
    status: byId("drill-status"),
    ringing: byId("drill-ringing"), ringCount: byId("drill-ring-count"), ringLimit: byId("drill-ring-limit"), answer: byId("drill-answer"),
    call: byId("drill-call"), meter: byId("drill-anger-meter"), angerValue: byId("drill-anger-value"),
    customer: byId("drill-customer"), line: byId("drill-line"), noCaption: byId("drill-no-caption"), audio: byId("drill-audio"),
    replay: byId("drill-replay"), feedback: byId("drill-feedback"),
    voice: byId("drill-voice"), voiceState: byId("drill-voice-state"), resume: byId("drill-resume"),
    levelBar: byId("drill-level-bar"), talk: byId("drill-talk"),
    partial: byId("drill-partial"), partialText: byId("drill-partial-text"),
    typed: byId("drill-typed"), micFailed: byId("drill-mic-failed"), text: byId("drill-text"), send: byId("drill-send"),
    log: byId("drill-log"), actions: byId("drill-actions"), hangup: byId("drill-hangup"),
    pending: byId("drill-pending"), pendingMessage: byId("drill-pending-message"), pendingReport: byId("drill-pending-report"),
    ended: byId("drill-ended"), ending: byId("drill-ending"), report: byId("drill-report"),
    session: byId("drill-session"), resend: byId("drill-resend")
  };

  // ---- call state ----------------------------------------------------------------------------
  let state = null;          // last state from the server
  const voiceMode = cfg.mode === "voice";
  let micUsable = false;     // voice mode with a working microphone
  // loading | ringing | answering | customer (line playing) | reply (trainee's turn) | sending | pending | ended
  let phase = "loading";

  function setPhase(next) {
    phase = next;
    root.setAttribute("data-phase", next);
    const busy = next === "sending";
    el.send.disabled = busy || next === "pending" || next === "ended";
    el.talk.disabled = !(next === "reply" || next === "customer");
    el.replay.disabled = busy || next === "loading";
  }
  function setStatus(text) { el.status.textContent = text; }
  function setVoiceState(text) { el.voiceState.textContent = text; }
  function show(node, visible) { node.hidden = !visible; }

  function reloadState() {
    return getJson(cfg.stateUrl).then((result) => {
      if (result.status === 200 && result.data) {
        applyState(result.data, { initial: false });
      } else {
        setStatus(t(result.status === 0 ? "network" : "error"));
      }
    });
  }

  // ---- ringing ------------------------------------------------------------------------------
  let ringPeriodMs = 3000;   // one ring: a double burst of ring tone, then quiet (the server's period wins)
  let ringTimer = null;
  let rings = 0;

  function ring() {
    rings += 1;
    el.ringCount.textContent = String(rings);
    el.ringing.classList.toggle("late", state && rings > (state.rings_allowed || 3));
    ringTone();
  }
  function startRinging() {
    setPhase("ringing");
    el.ringLimit.textContent = t("ring_limit", { n: state.rings_allowed || 3 });
    show(el.ringing, true);
    show(el.call, false);
    show(el.actions, true);
    el.answer.disabled = false;
    setStatus(t("ringing"));
    if (ringTimer) return;
    // The server measures the ring the call is answered on; start from its count (a reloaded page
    // does not start again at ring 1).
    if (state.ring_period_ms) ringPeriodMs = state.ring_period_ms;
    rings = Math.max(0, (state.ring || 1) - 1);
    ring();
    ringTimer = window.setInterval(ring, ringPeriodMs);
  }
  // Browsers keep audio off until the page is touched: any tap or key while ringing turns the ring tone on.
  document.addEventListener("pointerdown", resumeAudio, { once: true });
  document.addEventListener("keydown", resumeAudio, { once: true });

  function stopRinging() {
    if (ringTimer) window.clearInterval(ringTimer);
    ringTimer = null;
  }

  el.answer.addEventListener("click", () => {
    if (phase !== "ringing") return;
    const answeredAt = Math.max(1, rings);
    stopRinging();
    setPhase("answering");
    el.answer.disabled = true;
    setStatus(t("answering"));
    resumeAudio();
    // Ask for the microphone inside the click, where browsers allow the prompt and audio.
    const micReady = voiceMode ? startMic() : Promise.resolve(false);
    const answered = postJson(cfg.answerUrl, { rings: answeredAt });
    Promise.all([micReady, answered]).then((results) => {
      const result = results[1];
      if (result.status === 200 && result.data) {
        applyState(result.data, { initial: false });
      } else if (result.status === 409) {
        reloadState();
      } else {
        setStatus(result.data && result.data.message || t(result.status === 0 ? "network" : "error"));
        setPhase("ringing");
        el.answer.disabled = false;
      }
    });
  });

  // ---- anger meter, customer line, conversation log --------------------------------------------
  function setAnger(value) {
    if (typeof value !== "number") return;
    el.meter.value = value;
    el.angerValue.textContent = String(value);
  }

  function logEntry(kind, who, text, extra) {
    const item = document.createElement("li");
    item.className = "drill-log-" + kind;
    const name = document.createElement("strong");
    name.textContent = who;
    item.appendChild(name);
    const words = document.createElement("span");
    words.className = "drill-log-text";
    words.lang = cfg.language;
    words.textContent = text;
    item.appendChild(words);
    (extra || []).forEach((node) => { item.appendChild(node); });
    el.log.appendChild(item);
    el.log.scrollTop = el.log.scrollHeight;  // the log scrolls, not the page
    return item;
  }

  function logAgentTurn(turn, typed) {
    const extra = [];
    if (typed) extra.push(badge(t("typed"), "warn"));
    if (turn.status && turn.status !== "graded") {
      extra.push(badge(t("pending_turn"), "warn"));
    } else if (typeof turn.score_fraction === "number") {
      extra.push(badge(turnPercent(turn) + "%", scoreClass(turn.score_fraction)));
    }
    logEntry("agent", t("you"), turn.transcript || "…", extra).setAttribute("data-turn-id", String(turn.id));
  }

  let currentNodeId = null;
  function showLine(node) {
    el.customer.setAttribute("data-node-id", node.id || "");
    // The customer's last line (node.closing) has no recording: it is always shown.
    const caption = node.line && (node.closing || (state && state.show_caption)) ? node.line : "";
    el.line.textContent = caption ? node.line : "";
    show(el.line, !!caption);
    show(el.noCaption, !caption);
    show(el.replay, !!node.audio_url);
    if (node.id !== currentNodeId) {
      currentNodeId = node.id;
      logEntry("customer", t("customer"), caption ? node.line : t("caption_hidden"));
    }
  }

  // ---- playing the customer's line -------------------------------------------------------------
  // The trainee's turn starts when it ends (or cannot play).
  let playToken = 0;
  function playLine(node) {
    setPhase("customer");
    stopListening();
    const token = ++playToken;
    const done = () => {
      if (token === playToken && phase === "customer") beginReply();
    };
    setVoiceState("");
    if (!node || !node.audio_url) { done(); return; }
    if (el.audio.getAttribute("src") !== node.audio_url) el.audio.src = node.audio_url;
    el.audio.onended = done;
    el.audio.onerror = done;
    try { el.audio.currentTime = 0; } catch (e) { /* not loaded yet */ }
    setStatus(t("customer_speaking"));
    setVoiceState(t("customer_speaking"));
    const playing = el.audio.play();
    if (playing && playing.catch) {
      playing.catch(() => {
        if (token !== playToken) return;
        setStatus(t("play_blocked"));
        el.replay.classList.add("attention");
        beginReply(true);
      });
    }
  }
  function stopAudio() {
    playToken += 1;
    el.audio.onended = null;
    el.audio.onerror = null;
    el.audio.pause();
  }
  el.replay.addEventListener("click", () => {
    if (!state || !state.node || phase === "sending" || detector.recording) return;
    el.replay.classList.remove("attention");
    playLine(state.node);
  });

  function beginReply(keepStatus) {
    setPhase("reply");
    if (micUsable) {
      startListening();
      if (!keepStatus) setStatus(t("your_turn_voice"));
    } else {
      if (!keepStatus) setStatus(t("your_turn_typed"));
    }
    // After the customer's last line: the closing turn (thanks and goodbye).
    if (!keepStatus && state && state.node && state.node.closing) setStatus(t("your_turn_closing"));
  }

  // ---- rendering the whole state ------------------------------------------------------------
  function showCall() {
    show(el.ringing, false);
    show(el.call, true);
    show(el.actions, true);
    show(el.voice, micUsable);
    show(el.typed, !micUsable);
  }

  function applyState(next, options) {
    state = next;
    setAnger(next.anger);
    if (next.status === "pending") { showPending(null); return; }
    if (next.ended || next.status === "ended" || next.status === "abandoned") { showEnded(next); return; }
    if (next.status === "ringing") { startRinging(); return; }
    // In the call.
    stopRinging();
    if (options.initial) {
      (next.turns || []).forEach((turn) => { logAgentTurn(turn, turn.mode === "typed"); });
    }
    showCall();
    if (next.node) showLine(next.node);
    if (options.initial && voiceMode) {
      // A reload mid-call: the microphone and sound need a tap before they may start again.
      show(el.voice, true);
      show(el.typed, false);
      show(el.resume, true);
      el.talk.hidden = true;
      setPhase("loading");
      setStatus(t("resume"));
      return;
    }
    playLine(next.node);
  }

  el.resume.addEventListener("click", () => {
    show(el.resume, false);
    el.talk.hidden = false;
    resumeAudio();
    startMic().then(() => {
      showCall();
      playLine(state.node);
    });
  });

  function stopEverything() {
    stopRinging();
    stopAudio();
    stopListening();
    stopMic();
    show(el.voice, false);
    show(el.typed, false);
    show(el.actions, false);
    show(el.ringing, false);
    el.replay.hidden = true;
  }

  function showEnded(final) {
    setPhase("ended");
    stopEverything();
    show(el.call, el.log.children.length > 0);
    const key = final.status === "abandoned" ? "ending_abandoned"
      : ({ resolved: "ending_resolved", transferred: "ending_transferred", hangup: "ending_hangup" })[final.ending]
        || "ending_other";
    el.ending.textContent = t(key);
    el.ended.setAttribute("data-ending", final.status === "abandoned" ? "abandoned" : (final.ending || ""));
    logLastLine(final);
    if (final.report_url) el.report.href = final.report_url;
    show(el.ended, true);
    setStatus(t(key));
    el.ending.focus();
  }

  // The customer's last words when the call ended without a closing turn (it was logged already
  // when the trainee had one: the closing node carries the same line).
  function logLastLine(final) {
    if (!final.last_line || currentNodeId === "end:" + final.ending || el.log.children.length === 0) return;
    currentNodeId = "end:" + final.ending;
    logEntry("customer", t("customer"), final.last_line);
  }

  function showPending(message) {
    setPhase("pending");
    stopEverything();
    show(el.call, el.log.children.length > 0);
    el.pendingMessage.textContent = message || "";
    show(el.pendingMessage, !!message);
    if (state && state.report_url) el.pendingReport.href = state.report_url;
    show(el.pending, true);
    setStatus("");
  }

  // ---- sending a reply and reading the answer --------------------------------------------------
  function handleTurnResult(result, typed, resend) {
    const data = result.data || {};
    showPartial("");
    if (resend && (result.status === 401 || (result.status === 400 && data.reason === "csrf"))) {
      sessionLost(resend);
      return;
    }
    if (result.status === 200 && data.turn) {
      logAgentTurn(data.turn, typed || data.turn.mode === "typed");
      renderFeedback(el.feedback, data, cfg.language);
      if (typeof data.anger === "number") setAnger(data.anger);
      if (typed) el.text.value = "";
      const next = data.state;
      if (!next) { reloadState(); return; }
      state = next;
      setAnger(typeof data.anger === "number" ? data.anger : next.anger);
      if (next.status === "pending") { showPending(null); return; }
      if (next.ended || next.status === "ended" || next.status === "abandoned") { showEnded(next); return; }
      showLine(next.node);
      playLine(next.node);
      return;
    }
    if (result.status === 202 && data.status === "queued") { waitForGrade(data, typed); return; }
    if (result.status === 202) {
      logAgentTurn({ id: data.turn_id, transcript: typed ? el.text.value.trim() : "", status: "pending" }, typed);
      showPending(data.message);
      return;
    }
    if (result.status === 409) { reloadState(); return; }
    // 400 (bad audio, empty text), network errors, server errors: the same turn again.
    const message = data.message || data.error || t(result.status === 0 ? "network" : "error");
    setPhase("customer");
    beginReply(true);
    setStatus(message + " " + t("retry"));
    if (micUsable) setVoiceState(message);
  }

  // Production mode: the reply was queued for a grading worker; carry on exactly as after a 200
  // once it is graded, or show the pending notice as a 202 does (poll.js).
  function waitForGrade(queued, typed) {
    pollUntilGraded({
      url: queued.state_url || (cfg.stateUrl + "?turn=" + encodeURIComponent(queued.turn_id)),
      fetchState: getJson,
      onGraded: (turnResult) => { handleTurnResult({ status: 200, data: turnResult }, typed); },
      onPending: () => { handleTurnResult({ status: 202, data: { turn_id: queued.turn_id, status: "pending" } }, typed); },
      schedule: (fn, ms) => window.setTimeout(fn, ms),
      now: () => Date.now()
    });
  }

  function sendAudio(blob, speechEndedMs) {
    setPhase("sending");
    setStatus(t("recognising"));
    setVoiceState(t("recognising"));
    const send = () => {
      const form = new FormData();
      form.append("audio", blob, "reply.wav");
      form.append("speech_ended_ms", String(speechEndedMs));
      api(cfg.turnsUrl, { method: "POST", headers: { "Accept": "application/json" }, body: form })
        .then((result) => { handleTurnResult(result, false, send); });
    };
    send();
  }

  // ---- the login session ended mid-call ---------------------------------------------------------
  // The server refused the reply unread (401, or a CSRF token from the old session), so the reply
  // exists only on this page: keep it until the trainee has logged in again (in another tab), then
  // send it with the new session's CSRF token, which the state endpoint hands out.
  let unsent = null;
  function sessionLost(resend) {
    unsent = resend;
    stopListening();
    show(el.session, true);
    el.resend.disabled = false;
    setStatus(t("session_lost"));
    setVoiceState(t("session_lost"));
  }
  el.resend.addEventListener("click", () => {
    if (!unsent) return;
    el.resend.disabled = true;
    getJson(cfg.stateUrl).then((result) => {
      if (result.status !== 200 || !result.data || !result.data.csrf_token) {
        el.resend.disabled = false;
        setStatus(t(result.status === 401 ? "still_logged_out" : (result.status === 0 ? "network" : "error")));
        return;
      }
      const meta = document.querySelector('meta[name="csrf-token"]');
      if (meta) meta.content = result.data.csrf_token;
      const resend = unsent;
      unsent = null;
      show(el.session, false);
      setStatus(t("sending"));
      resend();
    });
  });

  el.typed.addEventListener("submit", (event) => {
    event.preventDefault();
    if (phase !== "reply" && phase !== "customer") return;
    const text = el.text.value.trim();
    if (!text) { setStatus(t("empty_text")); el.text.focus(); return; }
    stopAudio();
    setPhase("sending");
    setStatus(t("sending"));
    const send = () => {
      postJson(cfg.turnsUrl, { text }).then((result) => { handleTurnResult(result, true, send); });
    };
    send();
  });
  el.text.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter is a new line; never while an input method is composing (Chinese, Korean).
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    if (el.typed.requestSubmit) el.typed.requestSubmit(); else el.send.click();
  });

  // ---- hanging up ---------------------------------------------------------------------------
  el.hangup.addEventListener("click", () => {
    if (phase === "ended" || phase === "pending") return;
    if (!window.confirm(t("confirm_hangup"))) return;
    stopRinging();
    stopAudio();
    stopListening();
    postJson(cfg.abandonUrl, {}).then((result) => {
      if (result.status === 200 && result.data) {
        applyState(result.data, { initial: false });
      } else {
        reloadState();
      }
    });
  });

  // ---- the microphone: capture → 16 kHz frames → speech detection (detector.js) ---------------------
  let mic = null;           // the open microphone (mic.js) with its downsampler and partial frame
  const detector = new SpeechDetector();
  let stream = null;        // the reply being streamed (stream.js), while one is recorded

  function startMic() {
    if (mic) return Promise.resolve(true);
    if (!micAvailable()) { micFailed(); return Promise.resolve(false); }
    setVoiceState(t("mic_starting"));
    const ctx = audioContext();
    if (!ctx) { micFailed(); return Promise.resolve(false); }
    return openMic(ctx, cfg.workletUrl, onSamples).then((opened) => {
      mic = Object.assign(opened, { down: new Downsampler(opened.sampleRate), pending: [] });
      micUsable = true;
      root.setAttribute("data-recorder", opened.recorder);
      setVoiceState("");
      return true;
    }).catch(() => {
      micFailed();
      return false;
    });
  }

  function micFailed() {
    micUsable = false;
    show(el.micFailed, voiceMode);
    setStatus(t("mic_failed"));
    if (phase !== "loading" && phase !== "ringing" && phase !== "answering") { show(el.voice, false); show(el.typed, true); }
  }

  function stopMic() {
    if (!mic) return;
    closeMic(mic);
    mic = null;
    detector.quiet();
    root.removeAttribute("data-speaking");
  }

  function onSamples(block) {
    if (!mic) return;
    const samples = mic.down.push(block);
    const pending = mic.pending;
    for (let i = 0; i < samples.length; i++) {
      pending.push(samples[i]);
      if (pending.length === FRAME) {
        onFrame(pending);
        pending.length = 0;
      }
    }
  }

  function onFrame(frame) {
    const heard = detector.process(frame);
    el.levelBar.style.width = Math.max(0, Math.min(100, (heard.db + 70) * 100 / 60)) + "%";
    // data-speaking: speech within the last 300 ms (styling, and what the browser tests wait on).
    if (heard.speaking !== root.hasAttribute("data-speaking")) {
      if (heard.speaking) root.setAttribute("data-speaking", ""); else root.removeAttribute("data-speaking");
    }
    if (heard.event === "start") { startRecording(false); return; }
    if (!detector.recording) return;
    if (stream) stream.pump(detector.frames);
    if (heard.speech && !root.hasAttribute("data-heard")) root.setAttribute("data-heard", "");
    if (heard.event) finishUtterance(heard.event);
  }

  function startListening() {
    detector.listen();
    el.talk.disabled = false;
    setVoiceState(t("listening"));
  }
  function stopListening() {
    detector.stop();
    el.talk.classList.remove("active");
    el.talk.setAttribute("aria-pressed", "false");
  }

  // The detector has started recording an utterance (manual: push-to-talk).
  function startRecording(manual) {
    stream = cfg.streamUrl ? new ReplyStream(sendChunk, showPartial) : null;
    showPartial("");
    root.setAttribute("data-recording", "");
    root.removeAttribute("data-heard");
    setVoiceState(t(manual ? "holding" : "hearing"));
  }

  function finishUtterance(reason) {
    const endedAt = Date.now();
    const replyStream = stream;
    stream = null;
    const frames = detector.finish(reason);
    stopListening();
    root.removeAttribute("data-recording");
    if (!frames) {  // a push-to-talk slip: listen again
      setVoiceState(t("too_short"));
      startListening();
      setVoiceState(t("too_short"));
      return;
    }
    const blob = new Blob([encodeWav(frames)], { type: "audio/wav" });
    if (!replyStream || replyStream.failed || replyStream.nextSeq === 0) {  // nothing streamed yet: one upload is as quick
      sendAudio(blob, endedAt);
      return;
    }
    finishStream(replyStream, frames, blob, endedAt);
  }

  // ---- streaming the reply while it is spoken (stream.js) -----------------------------------------
  function sendChunk(item) {
    const url = cfg.streamUrl + "?seq=" + item.seq + (item.final ? "&final=1&speech_ended_ms=" + item.endedAt : "");
    return api(url, { method: "POST", headers: { "Content-Type": "audio/l16; rate=16000; channels=1", "Accept": "application/json" },
                      body: item.body });
  }
  function finishStream(replyStream, frames, blob, endedAt) {
    setPhase("sending");
    setStatus(t("recognising"));
    setVoiceState(t("recognising"));
    const fallback = () => { sendAudio(blob, endedAt); };
    replyStream.finish(frames, endedAt, (result) => {
      if (shouldUploadInstead(result)) { fallback(); return; }
      handleTurnResult(result, false, fallback);
    }, fallback);
  }
  function showPartial(text) {
    const visible = !!(text && state && state.show_caption);
    el.partialText.textContent = visible ? text : "";
    show(el.partial, visible);
  }

  // ---- push-to-talk: hold the big button or the space bar -------------------------------------
  function talkDown() {
    if (!micUsable || !mic) return;
    if (phase === "customer") { stopAudio(); setPhase("reply"); startListening(); }
    if (phase !== "reply") return;
    if (!detector.active) startListening();
    if (detector.press() === "started") startRecording(true);
    setVoiceState(t("holding"));
    el.talk.classList.add("active");
    el.talk.setAttribute("aria-pressed", "true");
  }
  function talkUp() {
    if (!detector.active || !detector.manual) return;
    el.talk.classList.remove("active");
    el.talk.setAttribute("aria-pressed", "false");
    finishUtterance("release");
  }
  el.talk.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    if (el.talk.setPointerCapture) {
      try { el.talk.setPointerCapture(event.pointerId); } catch (e) { /* synthetic pointer */ }
    }
    talkDown();
  });
  ["pointerup", "pointercancel", "lostpointercapture"].forEach((type) => {
    el.talk.addEventListener(type, talkUp);
  });
  el.talk.addEventListener("contextmenu", (event) => { event.preventDefault(); });

  function spaceIsOurs(event) {
    if (event.key !== " " && event.code !== "Space") return false;
    if (!micUsable || el.voice.hidden) return false;
    const target = event.target;
    if (target === el.talk) return true;
    return !(target.closest && target.closest("button, a, input, textarea, select, summary, [contenteditable]"));
  }
  document.addEventListener("keydown", (event) => {
    if (!spaceIsOurs(event)) return;
    event.preventDefault();
    if (!event.repeat) talkDown();
  });
  document.addEventListener("keyup", (event) => {
    if (!spaceIsOurs(event)) return;
    event.preventDefault();
    talkUp();
  });
  window.addEventListener("pagehide", () => { stopMic(); });

  // ---- start: whatever the server says the call is doing ---------------------------------------
  setPhase("loading");
  setStatus(t("connecting"));
  getJson(cfg.stateUrl).then((result) => {
    if (result.status === 200 && result.data) {
      applyState(result.data, { initial: true });
    } else {
      setStatus(t(result.status === 0 ? "network" : "error"));
    }
  });
}
