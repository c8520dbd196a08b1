// Exam attempt page: autosave per question, ordering buttons, countdown display. Listen-and-type
// timing needs nothing here: the server starts the clock when it first sends the recording.
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
  var msg = form.dataset;
  var SAVE_DELAY_MS = 800;   // typing pause before a text answer is sent
  var RETRY_MS = 5000;

  var pending = {};    // question id -> debounce timer
  var inFlight = {};   // question id -> true while a save is on its way
  var dirty = {};      // question id -> changed since the last successful save
  var closed = false;  // the server closed the attempt: stop sending

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
    inFlight[questionId] = true;
    dirty[questionId] = false;
    say(msg.msgSaving, "saving");
    academyFetch(url(msg.autosaveUrl, questionId), {
      method: "PUT",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({response: responseOf(fieldset)}),
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

  form.addEventListener("input", function (event) {
    var fieldset = event.target.closest("fieldset[data-question]");
    if (!fieldset) { return; }
    var isText = event.target.tagName === "TEXTAREA";
    changed(fieldset.dataset.question, isText ? SAVE_DELAY_MS : 0);
  });
  form.addEventListener("change", function (event) {
    var fieldset = event.target.closest("fieldset[data-question]");
    if (fieldset && event.target.tagName === "TEXTAREA") { changed(fieldset.dataset.question, 0); }
  });

  // Ordering: the up/down buttons are form buttons (they work without JavaScript); here
  // they move the item in place, keep focus on it and save at once.
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button.move");
    if (!button) { return; }
    event.preventDefault();
    var item = button.closest("li");
    var list = item.parentNode;
    var up = button.classList.contains("move-up");
    var sibling = up ? item.previousElementSibling : item.nextElementSibling;
    if (!sibling) { return; }
    list.insertBefore(item, up ? sibling : sibling.nextElementSibling);
    var items = list.children;
    for (var i = 0; i < items.length; i++) {
      items[i].querySelector(".move-up").disabled = i === 0;
      items[i].querySelector(".move-down").disabled = i === items.length - 1;
    }
    var position = Array.prototype.indexOf.call(items, item) + 1;
    (button.disabled ? item.querySelector(up ? ".move-down" : ".move-up") : button).focus();
    changed(item.closest("fieldset").dataset.question, 0);
    say(msg.msgMoved.replace("__N__", position).replace("__TOTAL__", items.length), "saving");
  });

  form.addEventListener("submit", function () {
    Object.keys(pending).forEach(function (questionId) { clearTimeout(pending[questionId]); });
    pending = {};
  });

  window.addEventListener("pagehide", flushAll);

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
        // Posting the sheet lets the server save what is still in time and grade.
        if (form.requestSubmit) { form.requestSubmit(submitButton); } else { submitButton.click(); }
      }
    };
    tick();
    setInterval(tick, 1000);
  }
})();
