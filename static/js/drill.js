// The drill call screen (app/roleplays/templates/roleplays/call.html).
//
// Ringing → answer → the customer speaks (audio, optional caption) → the trainee replies by voice
// (microphone → 16 kHz mono PCM16, streamed to the server in 240 ms chunks while the trainee speaks, so
// recognition keeps up; the reply ends after ~1 s of silence or when push-to-talk is released; if the
// stream breaks the whole recording is sent as a WAV instead) or by typing → feedback → the next customer line … until the call ends.
// The server owns the call: every step comes from the JSON API and a reload resumes from state_url.
// All text shown here comes from the server-rendered #drill-i18n element (no UI strings in this file).
(function () {
  "use strict";

  var root = document.getElementById("drill");
  if (!root) return;

  // ---- configuration and strings -------------------------------------------------------------
  var cfg = root.dataset;
  var uiLang = document.documentElement.lang === "en" ? "en" : "zh-CN";
  var STRINGS = {};
  Array.prototype.forEach.call(document.querySelectorAll("#drill-i18n [data-key]"), function (node) {
    STRINGS[node.getAttribute("data-key")] = node.textContent.trim();
  });
  function t(key, vars) {
    var text = STRINGS[key] || "";
    Object.keys(vars || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(vars[name]));
    });
    return text;
  }
  function byId(id) { return document.getElementById(id); }

  var el = {
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
  var state = null;          // last state from the server
  var voiceMode = cfg.mode === "voice";
  var micUsable = false;     // voice mode with a working microphone
  // loading | ringing | answering | customer (line playing) | reply (trainee's turn) | sending | pending | ended
  var phase = "loading";

  function setPhase(next) {
    phase = next;
    root.setAttribute("data-phase", next);
    var busy = next === "sending";
    el.send.disabled = busy || next === "pending" || next === "ended";
    el.talk.disabled = !(next === "reply" || next === "customer");
    el.replay.disabled = busy || next === "loading";
  }
  function setStatus(text) { el.status.textContent = text; }
  function setVoiceState(text) { el.voiceState.textContent = text; }

  // ---- server calls --------------------------------------------------------------------------
  function api(url, options) {
    return window.academyFetch(url, options || {}).then(function (response) {
      return response.json().then(function (data) {
        return { status: response.status, data: data };
      }, function () {
        return { status: response.status, data: null };
      });
    }, function () {
      return { status: 0, data: null };
    });
  }
  function postJson(url, body) {
    return api(url, { method: "POST", headers: { "Content-Type": "application/json", "Accept": "application/json" },
                      body: JSON.stringify(body || {}) });
  }
  function reloadState() {
    return api(cfg.stateUrl, { headers: { "Accept": "application/json" } }).then(function (result) {
      if (result.status === 200 && result.data) {
        applyState(result.data, { initial: false });
      } else {
        setStatus(t(result.status === 0 ? "network" : "error"));
      }
    });
  }

  // ---- shared audio context: the ring tone and the microphone ----------------------------------
  var audioCtx = null;
  function audioContext() {
    if (!audioCtx) {
      var Ctor = window.AudioContext || window.webkitAudioContext;
      if (!Ctor) return null;
      audioCtx = new Ctor();
    }
    return audioCtx;
  }

  // ---- ringing ------------------------------------------------------------------------------
  var RING_PERIOD_MS = 3000;   // one ring: a double burst of ring tone, then quiet (the server's period wins)
  var ringTimer = null;
  var rings = 0;

  function ringTone() {
    var ctx = audioContext();
    // Before any user gesture the context is suspended: the ring stays visible only.
    if (!ctx || ctx.state !== "running") return;
    var now = ctx.currentTime;
    var gain = ctx.createGain();
    gain.gain.setValueAtTime(0, now);
    gain.connect(ctx.destination);
    [440, 480].forEach(function (frequency) {
      var osc = ctx.createOscillator();
      osc.type = "sine";
      osc.frequency.value = frequency;
      osc.connect(gain);
      osc.start(now);
      osc.stop(now + 1.05);
    });
    [[0, 0.4], [0.6, 1.0]].forEach(function (burst) {
      gain.gain.setValueAtTime(0, now + burst[0]);
      gain.gain.linearRampToValueAtTime(0.12, now + burst[0] + 0.02);
      gain.gain.setValueAtTime(0.12, now + burst[1] - 0.02);
      gain.gain.linearRampToValueAtTime(0, now + burst[1]);
    });
  }
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
    if (state.ring_period_ms) RING_PERIOD_MS = state.ring_period_ms;
    rings = Math.max(0, (state.ring || 1) - 1);
    ring();
    ringTimer = window.setInterval(ring, RING_PERIOD_MS);
  }
  // Browsers keep audio off until the page is touched: any tap or key while ringing turns the ring tone on.
  function unlockAudio() {
    var ctx = audioContext();
    if (ctx && ctx.state !== "running") ctx.resume().catch(function () {});
  }
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });

  function stopRinging() {
    if (ringTimer) window.clearInterval(ringTimer);
    ringTimer = null;
  }

  el.answer.addEventListener("click", function () {
    if (phase !== "ringing") return;
    var answeredAt = Math.max(1, rings);
    stopRinging();
    setPhase("answering");
    el.answer.disabled = true;
    setStatus(t("answering"));
    var ctx = audioContext();
    if (ctx && ctx.state !== "running") ctx.resume().catch(function () {});
    // Ask for the microphone inside the click, where browsers allow the prompt and audio.
    var micReady = voiceMode ? startMic() : Promise.resolve(false);
    var answered = postJson(cfg.answerUrl, { rings: answeredAt });
    Promise.all([micReady, answered]).then(function (results) {
      var result = results[1];
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
    var item = document.createElement("li");
    item.className = "drill-log-" + kind;
    var name = document.createElement("strong");
    name.textContent = who;
    item.appendChild(name);
    var words = document.createElement("span");
    words.className = "drill-log-text";
    words.lang = cfg.language;
    words.textContent = text;
    item.appendChild(words);
    (extra || []).forEach(function (node) { item.appendChild(node); });
    el.log.appendChild(item);
    el.log.scrollTop = el.log.scrollHeight;  // the log scrolls, not the page
    return item;
  }
  function badge(text, className) {
    var span = document.createElement("span");
    span.className = "badge" + (className ? " " + className : "");
    span.textContent = text;
    return span;
  }
  // A reply's percentage: the server's figure (turn.percent), the same the report shows.
  function turnPercent(turn) {
    return typeof turn.percent === "number" ? turn.percent : Math.floor(turn.score_fraction * 100 + 0.5);
  }
  function scoreClass(fraction) { return fraction >= 0.7 ? "ok" : fraction >= 0.4 ? "warn" : "bad"; }

  function logAgentTurn(turn, typed) {
    var extra = [];
    if (typed) extra.push(badge(t("typed"), "warn"));
    if (turn.status && turn.status !== "graded") {
      extra.push(badge(t("pending_turn"), "warn"));
    } else if (typeof turn.score_fraction === "number") {
      extra.push(badge(turnPercent(turn) + "%", scoreClass(turn.score_fraction)));
    }
    logEntry("agent", t("you"), turn.transcript || "…", extra).setAttribute("data-turn-id", String(turn.id));
  }

  var currentNodeId = null;
  function showLine(node) {
    el.customer.setAttribute("data-node-id", node.id || "");
    // The customer's last line (node.closing) has no recording: it is always shown.
    var caption = node.line && (node.closing || (state && state.show_caption)) ? node.line : "";
    el.line.textContent = caption ? node.line : "";
    show(el.line, !!caption);
    show(el.noCaption, !caption);
    show(el.replay, !!node.audio_url);
    if (node.id !== currentNodeId) {
      currentNodeId = node.id;
      logEntry("customer", t("customer"), caption ? node.line : t("caption_hidden"));
    }
  }

  // Play the customer's line; the trainee's turn starts when it ends (or cannot play).
  var playToken = 0;
  function playLine(node) {
    setPhase("customer");
    stopListening();
    var token = ++playToken;
    var done = function () {
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
    var playing = el.audio.play();
    if (playing && playing.catch) {
      playing.catch(function () {
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
  el.replay.addEventListener("click", function () {
    if (!state || !state.node || phase === "sending" || (listen.active && listen.recording)) return;
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
  function show(node, visible) { node.hidden = !visible; }

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
      (next.turns || []).forEach(function (turn) { logAgentTurn(turn, turn.mode === "typed"); });
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

  el.resume.addEventListener("click", function () {
    show(el.resume, false);
    el.talk.hidden = false;
    var ctx = audioContext();
    if (ctx && ctx.state !== "running") ctx.resume().catch(function () {});
    startMic().then(function () {
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
    var key = final.status === "abandoned" ? "ending_abandoned"
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

  // ---- feedback for one reply ---------------------------------------------------------------
  function localText(value) {
    if (!value) return "";
    if (typeof value === "string") return value;
    return value[uiLang] || value["zh-CN"] || value.en || "";
  }
  function heading(text) {
    var h = document.createElement("h3");
    h.textContent = text;
    return h;
  }
  function list(className) {
    var ul = document.createElement("ul");
    ul.className = className;
    return ul;
  }
  function isForbidden(item) {
    return item.kind === "forbidden" || String(item.rule || "").indexOf("forbidden") === 0;
  }
  function points(value) { return String(Math.round(value * 10) / 10); }

  // Graded items: met / missed (avoided / said for forbidden ones), why it matters, points, the words behind it.
  function renderItems(box, title, className, items, evidenceLabel) {
    if (!items.length) return;
    box.appendChild(heading(title));
    var ul = list(className);
    items.forEach(function (item) {
      var forbidden = isForbidden(item);
      var good = forbidden ? !item.matched : item.matched;
      var li = document.createElement("li");
      // Another item of the same judgement was met: this one was an alternative, not a miss.
      li.className = good ? "ok" : (item.alternative ? "alt" : "bad");
      li.setAttribute("data-item-id", item.item_id);
      li.appendChild(badge(forbidden ? (good ? t("avoided") : t("said_forbidden"))
                           : (good ? t("met") : (item.alternative ? t("not_needed") : t("missed"))),
                           good ? "ok" : (item.alternative ? "" : "bad")));
      var label = document.createElement("span");
      label.className = "drill-item-label";
      label.textContent = item.label || localText(item.explanation) || item.item_id;
      li.appendChild(label);
      var pts = document.createElement("span");
      pts.className = "drill-item-points";
      pts.textContent = forbidden ? t("points", { x: points(item.points_awarded || 0) })
        : points(item.points_awarded || 0) + "/" + points(item.points_possible || 0);
      li.appendChild(pts);
      var evidence = (item.evidence || []).filter(Boolean);
      if (evidence.length) {
        var words = document.createElement("div");
        words.className = "drill-evidence";
        words.textContent = t(evidenceLabel || "evidence") + " ";
        evidence.forEach(function (word) {
          var q = document.createElement("q");
          if (!evidenceLabel) q.lang = cfg.language;
          q.textContent = word;
          words.appendChild(q);
          words.appendChild(document.createTextNode(" "));
        });
        li.appendChild(words);
      }
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  // The QA lead's verdict on the reply: the three judgements, each with the words behind it.
  function renderJudgements(box, turn) {
    var judgements = (turn.judgements || []).filter(function (j) { return j.applies; });
    if (!judgements.length) return;
    var verdict = document.createElement("p");
    verdict.className = "drill-verdict";
    verdict.appendChild(badge(turn.passed ? t("reply_passed") : t("reply_not_passed"), turn.passed ? "ok" : "bad"));
    box.appendChild(verdict);
    var ul = list("drill-judgements");
    judgements.forEach(function (j) {
      var li = document.createElement("li");
      li.className = j.held ? "ok" : "bad";
      li.setAttribute("data-judgement", j.name);
      li.appendChild(badge(j.held ? "✓" : "✗", j.held ? "ok" : "bad"));
      li.appendChild(document.createTextNode(" " + j.label));
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  function renderFeedback(data) {
    var turn = data.turn || {};
    var box = el.feedback;
    box.textContent = "";
    var title = document.createElement("h2");
    var fraction = typeof turn.score_fraction === "number" ? turn.score_fraction : 0;
    title.textContent = t("turn_score", { n: turnPercent({ percent: turn.percent, score_fraction: fraction }) });
    title.className = "drill-score " + scoreClass(fraction);
    box.appendChild(title);
    if (data.outcome) {
      var outcome = document.createElement("p");
      outcome.className = "drill-outcome drill-outcome-" + data.outcome;
      outcome.textContent = t("outcome_" + data.outcome);
      box.appendChild(outcome);
    }

    renderJudgements(box, turn);
    renderItems(box, t("items"), "drill-items", turn.items || []);
    var tips = (turn.tips || []).map(localText).filter(Boolean);
    if (tips.length) {
      box.appendChild(heading(t("tips")));
      var tipList = list("drill-tips");
      tips.forEach(function (tip) {
        var li = document.createElement("li");
        li.textContent = tip;
        tipList.appendChild(li);
      });
      box.appendChild(tipList);
    }

    var habitual = turn.habitual || [];
    if (habitual.length) {
      box.appendChild(heading(t("habitual")));
      var pairs = list("drill-habitual");
      habitual.forEach(function (pair) {
        var li = document.createElement("li");
        var main = document.createElement("span");
        main.lang = cfg.language;
        main.textContent = t("habitual_pair", { x: pair.habitual, n: pair.professional });
        li.appendChild(main);
        var note = localText(pair.note);
        if (note) {
          var small = document.createElement("div");
          small.className = "muted";
          small.textContent = note;
          li.appendChild(small);
        }
        pairs.appendChild(li);
      });
      box.appendChild(pairs);
    }

    renderItems(box, t("delivery"), "drill-items drill-delivery", turn.delivery || [], "measured");
    show(box, true);
  }

  // ---- sending a reply and reading the answer --------------------------------------------------
  function handleTurnResult(result, typed, resend) {
    var data = result.data || {};
    showPartial("");
    if (resend && (result.status === 401 || (result.status === 400 && data.reason === "csrf"))) {
      sessionLost(resend);
      return;
    }
    if (result.status === 200 && data.turn) {
      logAgentTurn(data.turn, typed || data.turn.mode === "typed");
      renderFeedback(data);
      if (typeof data.anger === "number") setAnger(data.anger);
      if (typed) el.text.value = "";
      var next = data.state;
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
    var message = data.message || data.error || t(result.status === 0 ? "network" : "error");
    setPhase("customer");
    beginReply(true);
    setStatus(message + " " + t("retry"));
    if (micUsable) setVoiceState(message);
  }

  // Production mode: the reply was queued for a grading worker (202 "queued"). Poll the call state
  // every 500 ms until that turn is graded, then carry on exactly as after a 200; a turn that
  // could not be graded (or no answer within 3 minutes) shows the pending notice as a 202 does.
  var POLL_MS = 500;
  var POLL_LIMIT_MS = 180000;
  function waitForGrade(queued, typed) {
    var url = queued.state_url || (cfg.stateUrl + "?turn=" + encodeURIComponent(queued.turn_id));
    var giveUpAt = Date.now() + POLL_LIMIT_MS;
    var poll = function () {
      api(url, { headers: { "Accept": "application/json" } }).then(function (result) {
        var data = result.data || {};
        if (result.status === 200 && data.turn_result) { handleTurnResult({ status: 200, data: data.turn_result }, typed); return; }
        if ((result.status === 200 && data.turn_status === "pending") || Date.now() > giveUpAt) {
          handleTurnResult({ status: 202, data: { turn_id: queued.turn_id, status: "pending" } }, typed);
          return;
        }
        window.setTimeout(poll, POLL_MS);  // still queued or grading (or a network blip): ask again
      });
    };
    window.setTimeout(poll, POLL_MS);
  }

  function sendAudio(blob, speechEndedMs) {
    setPhase("sending");
    setStatus(t("recognising"));
    setVoiceState(t("recognising"));
    var send = function () {
      var form = new FormData();
      form.append("audio", blob, "reply.wav");
      form.append("speech_ended_ms", String(speechEndedMs));
      api(cfg.turnsUrl, { method: "POST", headers: { "Accept": "application/json" }, body: form })
        .then(function (result) { handleTurnResult(result, false, send); });
    };
    send();
  }

  // ---- the login session ended mid-call ---------------------------------------------------------
  // The server refused the reply unread (401, or a CSRF token from the old session), so the reply
  // exists only on this page: keep it until the trainee has logged in again (in another tab), then
  // send it with the new session's CSRF token, which the state endpoint hands out.
  var unsent = null;
  function sessionLost(resend) {
    unsent = resend;
    stopListening();
    show(el.session, true);
    el.resend.disabled = false;
    setStatus(t("session_lost"));
    setVoiceState(t("session_lost"));
  }
  el.resend.addEventListener("click", function () {
    if (!unsent) return;
    el.resend.disabled = true;
    api(cfg.stateUrl, { headers: { "Accept": "application/json" } }).then(function (result) {
      if (result.status !== 200 || !result.data || !result.data.csrf_token) {
        el.resend.disabled = false;
        setStatus(t(result.status === 401 ? "still_logged_out" : (result.status === 0 ? "network" : "error")));
        return;
      }
      var meta = document.querySelector('meta[name="csrf-token"]');
      if (meta) meta.content = result.data.csrf_token;
      var resend = unsent;
      unsent = null;
      show(el.session, false);
      setStatus(t("sending"));
      resend();
    });
  });

  el.typed.addEventListener("submit", function (event) {
    event.preventDefault();
    if (phase !== "reply" && phase !== "customer") return;
    var text = el.text.value.trim();
    if (!text) { setStatus(t("empty_text")); el.text.focus(); return; }
    stopAudio();
    setPhase("sending");
    setStatus(t("sending"));
    var send = function () {
      postJson(cfg.turnsUrl, { text: text }).then(function (result) { handleTurnResult(result, true, send); });
    };
    send();
  });
  el.text.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter is a new line; never while an input method is composing (Chinese, Korean).
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    if (el.typed.requestSubmit) el.typed.requestSubmit(); else el.send.click();
  });

  // ---- hanging up ---------------------------------------------------------------------------
  el.hangup.addEventListener("click", function () {
    if (phase === "ended" || phase === "pending") return;
    if (!window.confirm(t("confirm_hangup"))) return;
    stopRinging();
    stopAudio();
    stopListening();
    postJson(cfg.abandonUrl, {}).then(function (result) {
      if (result.status === 200 && result.data) {
        applyState(result.data, { initial: false });
      } else {
        reloadState();
      }
    });
  });

  // ---- the microphone: capture, downsample to 16 kHz, detect speech, build a WAV ------------------
  var RATE = 16000;
  var FRAME = 480;               // 30 ms at 16 kHz
  var START_FRAMES = 3;          // 90 ms above the threshold starts an utterance
  var ARM_FRAMES = 10;           // … but only after 300 ms of quiet (never start mid-sentence)
  var END_FRAMES = 34;           // ~1 s below the threshold ends it
  var PREROLL_FRAMES = 10;       // keep 300 ms before the detected start
  var TAIL_FRAMES = 10;          // keep 300 ms of the closing silence
  var MAX_FRAMES = 2000;         // 60 s at most
  var MIN_MANUAL_FRAMES = 10;    // push-to-talk shorter than 300 ms is a slip
  var CHUNK_FRAMES = 8;          // streamed in 240 ms chunks while the trainee speaks
  var HOLD_FRAMES = END_FRAMES - TAIL_FRAMES;  // the closing silence end-of-speech trims is never streamed

  var mic = null;
  var listen = { active: false };
  var noiseDb = -70;
  var recentSpeech = 0;

  function Downsampler(inRate) {
    this.ratio = inRate / RATE;
    this.pos = 0;
    this.sum = 0;
    this.count = 0;
  }
  // Box-filter decimation: each output sample is the mean of the input samples it covers.
  Downsampler.prototype.push = function (input) {
    var out = [];
    if (this.ratio <= 1) {
      for (var j = 0; j < input.length; j++) {
        this.pos += 1 / this.ratio;
        while (this.pos >= 1) { out.push(input[j]); this.pos -= 1; }
      }
      return out;
    }
    for (var i = 0; i < input.length; i++) {
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
  };

  function startMic() {
    if (mic) return Promise.resolve(true);
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { micFailed(); return Promise.resolve(false); }
    setVoiceState(t("mic_starting"));
    var ctx = audioContext();
    if (!ctx) { micFailed(); return Promise.resolve(false); }
    var constraints = { audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } };
    return navigator.mediaDevices.getUserMedia(constraints).then(function (stream) {
      return (ctx.state === "running" ? Promise.resolve() : ctx.resume()).then(function () {
        return captureNode(ctx);
      }).then(function (node) {
        var source = ctx.createMediaStreamSource(stream);
        var sink = ctx.createGain();
        sink.gain.value = 0;        // processors must reach the destination to run; keep it silent
        source.connect(node);
        node.connect(sink);
        sink.connect(ctx.destination);
        mic = { stream: stream, source: source, node: node, sink: sink, down: new Downsampler(ctx.sampleRate),
                pending: [] };
        micUsable = true;
        root.setAttribute("data-recorder", node.port ? "worklet" : "script-processor");
        setVoiceState("");
        return true;
      });
    }).catch(function () {
      micFailed();
      return false;
    });
  }

  function captureNode(ctx) {
    var fallback = function () {
      var processor = ctx.createScriptProcessor(4096, 1, 1);
      processor.onaudioprocess = function (event) { onSamples(event.inputBuffer.getChannelData(0)); };
      return processor;
    };
    if (!ctx.audioWorklet || !window.AudioWorkletNode) return Promise.resolve(fallback());
    return ctx.audioWorklet.addModule(cfg.workletUrl).then(function () {
      var node = new window.AudioWorkletNode(ctx, "drill-recorder",
        { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], channelCount: 1, channelCountMode: "explicit" });
      node.port.onmessage = function (event) { onSamples(event.data); };
      return node;
    }, fallback);
  }

  function micFailed() {
    micUsable = false;
    show(el.micFailed, voiceMode);
    setStatus(t("mic_failed"));
    if (phase !== "loading" && phase !== "ringing" && phase !== "answering") { show(el.voice, false); show(el.typed, true); }
  }

  function stopMic() {
    if (!mic) return;
    mic.stream.getTracks().forEach(function (track) { track.stop(); });
    try { mic.source.disconnect(); mic.node.disconnect(); mic.sink.disconnect(); } catch (e) { /* already gone */ }
    if (mic.node.port) mic.node.port.onmessage = null;
    mic = null;
    recentSpeech = 0;
    root.removeAttribute("data-speaking");
  }

  function onSamples(block) {
    if (!mic) return;
    var samples = mic.down.push(block);
    var pending = mic.pending;
    for (var i = 0; i < samples.length; i++) {
      pending.push(samples[i]);
      if (pending.length === FRAME) {
        onFrame(pending);
        pending.length = 0;
      }
    }
  }

  function onFrame(frame) {
    var sum = 0;
    var pcm = new Int16Array(FRAME);
    for (var i = 0; i < FRAME; i++) {
      var s = Math.max(-1, Math.min(1, frame[i]));
      sum += s * s;
      pcm[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
    }
    var rms = Math.sqrt(sum / FRAME);
    var db = rms > 0 ? Math.max(-100, 20 * Math.log10(rms)) : -100;
    var threshold = Math.min(-32, Math.max(-50, noiseDb + 15));
    var speech = db > threshold;
    el.levelBar.style.width = Math.max(0, Math.min(100, (db + 70) * 100 / 60)) + "%";
    // data-speaking: speech within the last 300 ms (styling, and what the browser tests wait on).
    recentSpeech = speech ? PREROLL_FRAMES : Math.max(0, recentSpeech - 1);
    if ((recentSpeech > 0) !== root.hasAttribute("data-speaking")) {
      if (recentSpeech > 0) root.setAttribute("data-speaking", ""); else root.removeAttribute("data-speaking");
    }
    if (!speech && !(listen.active && listen.recording)) {
      // Track the background level: follow quiet quickly, noise slowly.
      noiseDb = db < noiseDb ? (noiseDb + db) / 2 : noiseDb + 0.02 * (db - noiseDb);
    }
    if (!listen.active) return;
    if (listen.recording) {
      listen.chunks.push(pcm);
      streamPump();
      if (speech && !root.hasAttribute("data-heard")) root.setAttribute("data-heard", "");
      listen.silent = speech ? 0 : listen.silent + 1;
      if (!listen.manual && listen.silent >= END_FRAMES) finishUtterance("silence");
      else if (listen.chunks.length >= MAX_FRAMES) finishUtterance("limit");
      return;
    }
    listen.preroll.push(pcm);
    if (listen.preroll.length > PREROLL_FRAMES) listen.preroll.shift();
    if (speech) {
      listen.loud += 1;
      if (!listen.armed) listen.quiet = 0;
    } else {
      listen.loud = 0;
      listen.quiet += 1;
      if (listen.quiet >= ARM_FRAMES) listen.armed = true;
    }
    if (listen.armed && listen.loud >= START_FRAMES) startRecording(false);
  }

  function startListening() {
    listen = { active: true, recording: false, manual: false, armed: false, quiet: 0, loud: 0,
               preroll: [], chunks: [], silent: 0 };
    el.talk.disabled = false;
    setVoiceState(t("listening"));
  }
  function stopListening() {
    listen.active = false;
    listen.recording = false;
    listen.manual = false;
    el.talk.classList.remove("active");
    el.talk.setAttribute("aria-pressed", "false");
  }

  function startRecording(manual) {
    listen.recording = true;
    listen.manual = manual;
    listen.chunks = listen.preroll.slice();
    listen.silent = 0;
    listen.stream = cfg.streamUrl ? { nextSeq: 0, sentFrames: 0, queue: [], busy: false, failed: false,
                                      onFailed: null, onFinal: null } : null;
    showPartial("");
    root.setAttribute("data-recording", "");
    root.removeAttribute("data-heard");
    setVoiceState(t(manual ? "holding" : "hearing"));
  }

  function finishUtterance(reason) {
    var endedAt = Date.now();
    var chunks = listen.chunks;
    var manual = listen.manual;
    var stream = listen.stream;
    listen.stream = null;
    stopListening();
    root.removeAttribute("data-recording");
    if (reason === "silence") chunks = chunks.slice(0, Math.max(1, chunks.length - (END_FRAMES - TAIL_FRAMES)));
    if (manual && chunks.length < MIN_MANUAL_FRAMES) {
      setVoiceState(t("too_short"));
      startListening();
      setVoiceState(t("too_short"));
      return;
    }
    var blob = wavBlob(chunks);
    if (!stream || stream.failed || stream.nextSeq === 0) {  // nothing streamed yet: one upload is as quick
      sendAudio(blob, endedAt);
      return;
    }
    finishStream(stream, chunks, blob, endedAt);
  }

  // ---- streaming the reply while it is spoken ------------------------------------------------
  // Chunks go out one at a time, in order (?seq=N); the server appends each to the saved recording
  // and feeds it to the reply's recogniser, answering with the words heard so far. The last chunk
  // (&final=1) is answered like an uploaded recording. If any chunk fails, the whole recording (kept
  // here) is sent as a WAV instead: nothing the trainee said is lost.
  var STREAM_FALLBACK = { stream_ended: 1, out_of_order: 1, chunk_format: 1, chunk_too_long: 1, too_many_chunks: 1 };

  function pcmBody(frames) {
    var out = new Int16Array(frames.length * FRAME);
    frames.forEach(function (frame, i) { out.set(frame, i * FRAME); });
    return out.buffer;
  }
  function streamPump() {
    var stream = listen.stream;
    if (!stream || stream.failed) return;
    while (listen.chunks.length - stream.sentFrames >= CHUNK_FRAMES + HOLD_FRAMES) {
      streamEnqueue(stream, listen.chunks.slice(stream.sentFrames, stream.sentFrames + CHUNK_FRAMES), false);
      stream.sentFrames += CHUNK_FRAMES;
    }
  }
  function streamEnqueue(stream, frames, final, endedAt) {
    stream.queue.push({ seq: stream.nextSeq++, body: pcmBody(frames), final: final, endedAt: endedAt });
    streamNext(stream);
  }
  function streamNext(stream) {
    if (stream.busy || stream.failed || !stream.queue.length) return;
    var item = stream.queue.shift();
    stream.busy = true;
    var url = cfg.streamUrl + "?seq=" + item.seq + (item.final ? "&final=1&speech_ended_ms=" + item.endedAt : "");
    api(url, { method: "POST", headers: { "Content-Type": "audio/l16; rate=16000; channels=1", "Accept": "application/json" },
               body: item.body }).then(function (result) {
      stream.busy = false;
      if (item.final) { stream.onFinal(result); return; }
      if (result.status === 200 && result.data) {
        if (!stream.onFinal) showPartial(result.data.partial);
        streamNext(stream);
        return;
      }
      stream.failed = true;
      stream.queue = [];
      if (stream.onFailed) stream.onFailed();
    });
  }
  function finishStream(stream, chunks, blob, endedAt) {
    setPhase("sending");
    setStatus(t("recognising"));
    setVoiceState(t("recognising"));
    var fallback = function () { sendAudio(blob, endedAt); };
    stream.onFailed = fallback;
    stream.onFinal = function (result) {
      var data = result.data || {};
      if (result.status === 0 || result.status >= 500 || STREAM_FALLBACK[data.error]) { fallback(); return; }
      handleTurnResult(result, false, fallback);
    };
    var rest = chunks.slice(Math.min(stream.sentFrames, chunks.length));
    streamEnqueue(stream, rest, true, endedAt);
  }
  function showPartial(text) {
    var visible = !!(text && state && state.show_caption);
    el.partialText.textContent = visible ? text : "";
    show(el.partial, visible);
  }

  function wavBlob(chunks) {
    var samples = chunks.length * FRAME;
    var buffer = new ArrayBuffer(44 + samples * 2);
    var view = new DataView(buffer);
    var text = function (offset, value) {
      for (var i = 0; i < value.length; i++) view.setUint8(offset + i, value.charCodeAt(i));
    };
    text(0, "RIFF");
    view.setUint32(4, 36 + samples * 2, true);
    text(8, "WAVE");
    text(12, "fmt ");
    view.setUint32(16, 16, true);        // fmt chunk size
    view.setUint16(20, 1, true);         // PCM
    view.setUint16(22, 1, true);         // mono
    view.setUint32(24, RATE, true);
    view.setUint32(28, RATE * 2, true);  // byte rate
    view.setUint16(32, 2, true);         // block align
    view.setUint16(34, 16, true);        // bits per sample
    text(36, "data");
    view.setUint32(40, samples * 2, true);
    var offset = 44;
    chunks.forEach(function (chunk) {
      for (var i = 0; i < chunk.length; i++, offset += 2) view.setInt16(offset, chunk[i], true);
    });
    return new Blob([buffer], { type: "audio/wav" });
  }

  // ---- push-to-talk: hold the big button or the space bar -------------------------------------
  function talkDown() {
    if (!micUsable || !mic) return;
    if (phase === "customer") { stopAudio(); setPhase("reply"); startListening(); }
    if (phase !== "reply") return;
    if (!listen.active) startListening();
    if (listen.recording) listen.manual = true; else startRecording(true);
    setVoiceState(t("holding"));
    el.talk.classList.add("active");
    el.talk.setAttribute("aria-pressed", "true");
  }
  function talkUp() {
    if (!listen.active || !listen.manual) return;
    el.talk.classList.remove("active");
    el.talk.setAttribute("aria-pressed", "false");
    finishUtterance("release");
  }
  el.talk.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    if (el.talk.setPointerCapture) {
      try { el.talk.setPointerCapture(event.pointerId); } catch (e) { /* synthetic pointer */ }
    }
    talkDown();
  });
  ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (type) {
    el.talk.addEventListener(type, talkUp);
  });
  el.talk.addEventListener("contextmenu", function (event) { event.preventDefault(); });

  function spaceIsOurs(event) {
    if (event.key !== " " && event.code !== "Space") return false;
    if (!micUsable || el.voice.hidden) return false;
    var target = event.target;
    if (target === el.talk) return true;
    return !(target.closest && target.closest("button, a, input, textarea, select, summary, [contenteditable]"));
  }
  document.addEventListener("keydown", function (event) {
    if (!spaceIsOurs(event)) return;
    event.preventDefault();
    if (!event.repeat) talkDown();
  });
  document.addEventListener("keyup", function (event) {
    if (!spaceIsOurs(event)) return;
    event.preventDefault();
    talkUp();
  });
  window.addEventListener("pagehide", function () { stopMic(); });

  // ---- start: whatever the server says the call is doing ---------------------------------------
  setPhase("loading");
  setStatus(t("connecting"));
  api(cfg.stateUrl, { headers: { "Accept": "application/json" } }).then(function (result) {
    if (result.status === 200 && result.data) {
      applyState(result.data, { initial: true });
    } else {
      setStatus(t(result.status === 0 ? "network" : "error"));
    }
  });
})();
