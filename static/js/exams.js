// Exam attempt page: autosave per question (with a local draft until the server confirms), "flag for
// review" marks, the question navigator, ordering by drag and drop (mouse and touch through Pointer
// Events), keyboard and buttons, countdown display. Listen-and-type timing needs nothing here: the
// server starts the clock when it first sends the recording.
// The server keeps the real clock and refuses late saves; everything here only mirrors it.
// Without JavaScript the page still works: the Save/Submit buttons post the whole sheet.
(function () {
  "use strict";
  var form = document.getElementById("exam-form");
  if (!form) { return; }
  var status = document.getElementById("autosave-status");
  var timer = document.getElementById("exam-timer");
  var unanswered = document.getElementById("unanswered");
  var submitButton = document.getElementById("submit-attempt");
  var confirmField = document.getElementById("confirm-submit");
  var live = document.getElementById("ordering-live");
  var nav = document.getElementById("exam-nav");
  var msg = form.dataset;
  var DRAFT_PREFIX = "exam-draft:" + msg.attempt + ":";
  var SAVE_DELAY_MS = 800;   // typing pause before a text answer is sent
  var RETRY_MS = 5000;

  var pending = {};    // question id -> debounce timer
  var inFlight = {};   // question id -> true while a save is on its way
  var dirty = {};      // question id -> changed since the last successful save
  var closed = false;  // the server closed the attempt: stop sending
  var baseline = {};   // question id -> the server's saved_at this page knows of

  // --- local drafts ------------------------------------------------------------------
  // Every change is kept in localStorage (per attempt and question) until the server confirms it,
  // so a reload while a save is still on its way never shows less than was typed.
  var storage = (function () {
    try {
      window.localStorage.setItem("exam-draft-probe", "1");
      window.localStorage.removeItem("exam-draft-probe");
      return window.localStorage;
    } catch (e) { return null; }
  }());

  function readDraft(questionId) {
    if (!storage) { return null; }
    try { return JSON.parse(storage.getItem(DRAFT_PREFIX + questionId) || "null"); } catch (e) { return null; }
  }

  function writeDraft(questionId) {
    if (!storage) { return; }
    try {
      storage.setItem(DRAFT_PREFIX + questionId, JSON.stringify(
        {v: responseOf(fieldsetOf(questionId)), t: Date.now(), base: baseline[questionId] || ""}));
    } catch (e) { /* storage full or refused: the server copy is all there is */ }
  }

  function dropDraft(questionId, confirmedValue) {
    var draft = readDraft(questionId);
    if (draft && (confirmedValue === undefined || same(draft.v, confirmedValue))) {
      storage.removeItem(DRAFT_PREFIX + questionId);
    }
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function url(template, questionId) {
    return template.replace("__QUESTION__", encodeURIComponent(questionId));
  }

  function say(text, kind) {
    status.textContent = text;
    status.className = "autosave-status" + (kind ? " autosave-" + kind : "");
  }

  function sayWithLink(text, href, label, kind) {
    say(text + " ", kind);
    var link = document.createElement("a");
    link.href = href;
    link.textContent = label;
    status.appendChild(link);
  }

  function responseOf(fieldset) {
    var type = fieldset.dataset.type;
    var name = "q-" + fieldset.dataset.question;
    var inputs = fieldset.querySelectorAll('[name="' + name + '"]');
    var i, values = [];
    if (type === "single" || type === "true_false") {
      for (i = 0; i < inputs.length; i++) {
        if (inputs[i].checked) { return type === "true_false" ? inputs[i].value === "true" : inputs[i].value; }
      }
      return null;
    }
    if (type === "multiple" || type === "ordering") {
      for (i = 0; i < inputs.length; i++) {
        if (type === "ordering" || inputs[i].checked) { values.push(inputs[i].value); }
      }
      return values;
    }
    return inputs[0].value;
  }

  function fieldsetOf(questionId) {
    return form.querySelector('fieldset[data-question="' + questionId + '"]');
  }

  // Puts a response (from a local draft) back on the page.
  function applyResponse(fieldset, value) {
    var type = fieldset.dataset.type;
    var name = "q-" + fieldset.dataset.question;
    var inputs = fieldset.querySelectorAll('[name="' + name + '"]');
    var i;
    if (type === "single" || type === "true_false" || type === "multiple") {
      var wanted = type === "multiple" ? (value || []).map(String) : [value === null ? null : String(value)];
      for (i = 0; i < inputs.length; i++) { inputs[i].checked = wanted.indexOf(inputs[i].value) >= 0; }
    } else if (type === "ordering") {
      var list = fieldset.querySelector("ol.ordering");
      if (!Array.isArray(value) || value.length !== list.children.length) { return false; }
      value.forEach(function (itemId) {
        var item = list.querySelector('li[data-item="' + itemId + '"]');
        if (item) { list.appendChild(item); }
      });
      markTouched(fieldset);
      refreshMoveButtons(list);
    } else if (typeof value === "string") {
      inputs[0].value = value;
    } else {
      return false;
    }
    return true;
  }

  function isAnsweredHere(fieldset) {
    var type = fieldset.dataset.type;
    var value = responseOf(fieldset);
    if (type === "ordering") {
      var touched = fieldset.querySelector(".ordering-touched");
      return !!(touched && touched.value === "1");
    }
    if (typeof value === "string") { return value.trim() !== ""; }
    return value !== null && !(Array.isArray(value) && value.length === 0);
  }

  // --- the question navigator --------------------------------------------------------
  function refreshNav(questionId) {
    if (!nav) { return; }
    var link = nav.querySelector('a[data-nav="' + questionId + '"]');
    var fieldset = fieldsetOf(questionId);
    if (!link || !fieldset) { return; }
    var answered = isAnsweredHere(fieldset);
    var flag = fieldset.querySelector(".flag-input");
    var flagged = !!(flag && flag.checked);
    link.classList.toggle("answered", answered);
    link.classList.toggle("flagged", flagged);
    var state = link.querySelector(".nav-state");
    if (state) {
      state.textContent = ", " + (answered ? nav.dataset.msgAnswered : nav.dataset.msgUnanswered) +
        (flagged ? ", " + nav.dataset.msgFlagged : "");
    }
  }

  function closeAttempt(body) {
    closed = true;
    sayWithLink(body.message, body.result_url || msg.resultUrl, msg.msgResult, "error");
    Array.prototype.forEach.call(form.querySelectorAll("input, textarea, button"), function (el) {
      el.disabled = true;
    });
  }

  function sessionLost() {
    sayWithLink(msg.msgSession, msg.loginUrl, msg.msgLogin, "error");
  }

  function save(questionId) {
    delete pending[questionId];
    if (closed) { return; }
    if (inFlight[questionId]) { dirty[questionId] = true; return; }
    var fieldset = fieldsetOf(questionId);
    var sent = responseOf(fieldset);
    inFlight[questionId] = true;
    dirty[questionId] = false;
    say(msg.msgSaving, "saving");
    // keepalive: a save started as the page goes away (reload, leaving) still reaches the server,
    // with the CSRF header academyFetch adds.
    academyFetch(url(msg.autosaveUrl, questionId), {
      method: "PUT",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({response: sent}),
      keepalive: true
    }).then(function (response) {
      // A lost login session answers 401: keep the answer dirty and ask the learner to log in again.
      if (response.status === 401) {
        dirty[questionId] = true;
        sessionLost();
        return null;
      }
      return response.json().then(function (body) { return {ok: response.ok, status: response.status, body: body}; });
    }).then(function (result) {
      inFlight[questionId] = false;
      if (!result) { return; }
      if (result.status === 409) { closeAttempt(result.body); return; }
      // A refused CSRF token (not one of this page's own error codes) means the session cookie is gone.
      if (result.status === 400 && result.body.error !== "invalid" && result.body.error !== "bad_request") {
        dirty[questionId] = true;
        sessionLost();
        return;
      }
      if (!result.ok) { say(result.body.message || msg.msgOffline, "error"); return; }
      if (result.body.saved_at) { baseline[questionId] = result.body.saved_at; }
      dropDraft(questionId, sent);  // the server has it now
      if (unanswered && typeof result.body.unanswered === "number") {
        unanswered.textContent = msg.msgUnanswered.replace("__N__", result.body.unanswered);
      }
      if (dirty[questionId]) { save(questionId); return; }
      if (!anythingPending()) { say(msg.msgSaved, "saved"); }
    }).catch(function () {
      inFlight[questionId] = false;
      dirty[questionId] = true;
      say(msg.msgOffline, "error");
      schedule(questionId, RETRY_MS);
    });
  }

  function anythingPending() {
    return Object.keys(pending).length > 0 || Object.keys(inFlight).some(function (id) { return inFlight[id]; });
  }

  function schedule(questionId, delay) {
    if (pending[questionId]) { clearTimeout(pending[questionId]); }
    pending[questionId] = setTimeout(function () { save(questionId); }, delay);
  }

  // A change is unsaved from the moment it is made: the status leaves "saved" at once, not only
  // when its (debounced) save starts, so "saved" never shows while an answer is still unsent.
  function changed(questionId, delay) {
    if (!closed) { say(msg.msgSaving, "saving"); }
    schedule(questionId, delay);
  }

  function flushAll() {
    Object.keys(pending).forEach(function (questionId) {
      clearTimeout(pending[questionId]);
      save(questionId);
    });
  }

  function saveFlag(questionId, flagged) {
    if (closed) { return; }
    academyFetch(url(msg.autosaveUrl, questionId), {
      method: "PUT",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({flagged: flagged}),
      keepalive: true
    }).then(function (response) {
      if (response.status === 401) { sessionLost(); return; }
      if (response.status === 409) { response.json().then(closeAttempt); return; }
      if (!response.ok) { say(msg.msgOffline, "error"); }
    }).catch(function () { say(msg.msgOffline, "error"); });
  }

  function answerChanged(questionId, delay) {
    writeDraft(questionId);
    refreshNav(questionId);
    changed(questionId, delay);
  }

  form.addEventListener("input", function (event) {
    var fieldset = event.target.closest("fieldset[data-question]");
    if (!fieldset || event.target.classList.contains("flag-input")) { return; }
    var isText = event.target.tagName === "TEXTAREA";
    answerChanged(fieldset.dataset.question, isText ? SAVE_DELAY_MS : 0);
  });
  form.addEventListener("change", function (event) {
    var fieldset = event.target.closest("fieldset[data-question]");
    if (!fieldset) { return; }
    if (event.target.classList.contains("flag-input")) {
      refreshNav(fieldset.dataset.question);
      saveFlag(fieldset.dataset.question, event.target.checked);
    } else if (event.target.tagName === "TEXTAREA") {
      changed(fieldset.dataset.question, 0);
    }
  });

  // --- ordering ----------------------------------------------------------------------
  // The up/down buttons are form buttons (they work without JavaScript); here they, the arrow
  // keys on a focused step and dragging (Pointer Events: mouse, touch, pen) move the step in place
  // and save at once. The first move marks the question touched: its shuffled starting order is
  // not an answer.
  function refreshMoveButtons(list) {
    var items = list.children;
    for (var i = 0; i < items.length; i++) {
      items[i].querySelector(".move-up").disabled = i === 0;
      items[i].querySelector(".move-down").disabled = i === items.length - 1;
    }
  }

  function markTouched(fieldset) {
    var touched = fieldset.querySelector(".ordering-touched");
    if (touched) { touched.value = "1"; }
    var notice = fieldset.querySelector(".ordering-untouched");
    if (notice) { notice.hidden = true; }
  }

  function announce(text) {
    if (!live) { return; }
    live.textContent = "";
    // A fresh text node each time, so the same position said twice is still announced.
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  function moved(item) {
    var list = item.parentNode;
    var fieldset = item.closest("fieldset");
    refreshMoveButtons(list);
    markTouched(fieldset);
    var position = Array.prototype.indexOf.call(list.children, item) + 1;
    var text = msg.msgMoved.replace("__N__", position).replace("__TOTAL__", list.children.length);
    answerChanged(fieldset.dataset.question, 0);
    announce(text);
  }

  function moveBy(item, steps) {
    var list = item.parentNode;
    var items = Array.prototype.slice.call(list.children);
    var from = items.indexOf(item);
    var to = Math.max(0, Math.min(items.length - 1, from + steps));
    if (to === from) { return false; }
    items.splice(from, 1);
    list.insertBefore(item, items[to] || null);
    return true;
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button.move");
    if (!button) { return; }
    event.preventDefault();
    var item = button.closest("li");
    var up = button.classList.contains("move-up");
    if (!moveBy(item, up ? -1 : 1)) { return; }
    moved(item);
    (button.disabled ? item.querySelector(up ? ".move-down" : ".move-up") : button).focus();
  });

  form.addEventListener("keydown", function (event) {
    var item = event.target;
    if (!item.classList || !item.classList.contains("ordering-item") || closed) { return; }
    var count = item.parentNode.children.length;
    var steps = {ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1, Home: -count, End: count}[event.key];
    if (!steps) { return; }
    event.preventDefault();
    if (moveBy(item, steps)) {
      moved(item);
      item.focus();
    }
  });

  var drag = null;
  form.addEventListener("pointerdown", function (event) {
    var item = event.target.closest(".ordering-item");
    if (!item || closed || event.target.closest("button")) { return; }
    if (event.pointerType === "mouse" && event.button !== 0) { return; }
    // A finger or pen drags by the handle only, so swiping over the list still scrolls the page.
    if (event.pointerType !== "mouse" && !event.target.closest(".ordering-handle")) { return; }
    event.preventDefault();
    drag = {item: item, pointerId: event.pointerId, startY: event.clientY, active: false,
            order: Array.prototype.indexOf.call(item.parentNode.children, item)};
    try { item.setPointerCapture(event.pointerId); } catch (e) { /* moves still bubble to the form */ }
  });

  form.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.pointerId) { return; }
    if (!drag.active) {
      if (Math.abs(event.clientY - drag.startY) < 4) { return; }
      drag.active = true;
      drag.item.classList.add("dragging");
    }
    event.preventDefault();
    var list = drag.item.parentNode;
    var before = null;
    var items = list.children;
    for (var i = 0; i < items.length; i++) {
      if (items[i] === drag.item) { continue; }
      var box = items[i].getBoundingClientRect();
      if (event.clientY < box.top + box.height / 2) { before = items[i]; break; }
    }
    if (before !== drag.item.nextElementSibling) { list.insertBefore(drag.item, before); }
  });

  function endDrag(event) {
    if (!drag || event.pointerId !== drag.pointerId) { return; }
    var item = drag.item;
    var wasActive = drag.active;
    var changedPlace = Array.prototype.indexOf.call(item.parentNode.children, item) !== drag.order;
    drag = null;
    item.classList.remove("dragging");
    try { item.releasePointerCapture(event.pointerId); } catch (e) { /* not captured */ }
    item.focus();
    if (wasActive && changedPlace) { moved(item); }
  }
  form.addEventListener("pointerup", endDrag);
  form.addEventListener("pointercancel", endDrag);

  form.addEventListener("submit", function () {
    Object.keys(pending).forEach(function (questionId) { clearTimeout(pending[questionId]); });
    pending = {};
  });

  // Leaving or hiding the page (reload, another tab, a phone's app switcher) sends what is pending
  // at once; the local draft covers a save still on its way.
  window.addEventListener("pagehide", flushAll);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flushAll(); }
  });

  // Drafts other attempts left behind (submitted elsewhere, or closed by the clock) go after a day.
  if (storage) {
    try {
      var stale = [];
      for (var k = 0; k < storage.length; k++) {
        var key = storage.key(k);
        if (key && key.indexOf("exam-draft:") === 0 && key.indexOf(DRAFT_PREFIX) !== 0) {
          var old = JSON.parse(storage.getItem(key) || "null");
          if (!old || !(Date.now() - old.t < 86400000)) { stale.push(key); }
        }
      }
      stale.forEach(function (key) { storage.removeItem(key); });
    } catch (e) { /* unreadable storage: nothing to tidy */ }
  }

  // On load: a local draft the server does not have yet (the page was reloaded before its save
  // arrived) is put back and saved; one the server already has is dropped.
  Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-question]"), function (fieldset) {
    var questionId = fieldset.dataset.question;
    var savedAt = fieldset.dataset.savedAt || "";
    baseline[questionId] = savedAt;
    var draft = readDraft(questionId);
    if (!draft) { return; }
    if (same(draft.v, responseOf(fieldset))) { dropDraft(questionId); return; }
    var serverTime = savedAt ? Date.parse(savedAt) : 0;
    var newer = draft.base === savedAt || !(serverTime >= draft.t);
    if (newer && applyResponse(fieldset, draft.v)) {
      refreshNav(questionId);
      say(msg.msgRestored, "saving");
      schedule(questionId, 0);
    } else {
      dropDraft(questionId);
    }
  });

  // Countdown display, counted from the server's figure at page load (not the device clock).
  if (timer) {
    var secondsAtLoad = parseInt(timer.dataset.secondsLeft, 10) || 0;
    var loadedAt = Date.now();
    var timeUp = false;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var tick = function () {
      var left = Math.max(0, secondsAtLoad - Math.floor((Date.now() - loadedAt) / 1000));
      var hours = Math.floor(left / 3600), minutes = Math.floor((left % 3600) / 60), seconds = left % 60;
      timer.textContent = (hours ? hours + ":" + pad(minutes) : minutes) + ":" + pad(seconds);
      timer.classList.toggle("exam-timer-low", left <= 60);
      if (left === 0 && !timeUp && !closed) {
        timeUp = true;
        say(msg.msgTimeUp, "error");
        if (confirmField) { confirmField.value = "1"; }  // no summary page: there is no time left
        // Posting the sheet lets the server save what is still in time and grade.
        if (form.requestSubmit) { form.requestSubmit(submitButton); } else { submitButton.click(); }
      }
    };
    tick();
    setInterval(tick, 1000);
  }
})();
