/* The call screen's small helpers, kept apart from drill/main.js:
   - the customer record (case facts) opens as a side panel on wide screens and stays a
     collapsible block on phones;
   - an unsent typed reply is kept in sessionStorage per attempt and reply number, restored
     after a reload and forgotten once that reply is sent (it appears in the conversation log). */
(function () {
  "use strict";
  var root = document.getElementById("drill");
  if (!root) return;

  var facts = document.getElementById("drill-facts");
  var wide = window.matchMedia ? window.matchMedia("(min-width: 1100px)") : null;
  function placeFacts() { if (facts && wide) facts.open = wide.matches; }
  if (wide) {
    placeFacts();
    if (wide.addEventListener) wide.addEventListener("change", placeFacts);
  }

  var text = document.getElementById("drill-text");
  var log = document.getElementById("drill-log");
  var note = document.getElementById("drill-draft-note");
  var store = null;
  try { store = window.sessionStorage; store.getItem("drill-draft"); } catch (e) { store = null; }
  if (!text || !log || !store) return;

  var prefix = "drill-draft:" + root.getAttribute("data-attempt-id") + ":";
  function replies() { return log.querySelectorAll("li.drill-log-agent").length; }
  function key() { return prefix + (replies() + 1); }

  text.addEventListener("input", function () {
    if (text.value.trim()) store.setItem(key(), text.value);
    else store.removeItem(key());
    if (note) note.hidden = true;
  });

  function restore() {
    var saved = store.getItem(key());
    if (saved && !text.value) {
      text.value = saved;
      if (note) note.hidden = false;
    }
  }

  var seen = replies();
  new MutationObserver(function () {
    var now = replies();
    if (now > seen) {
      for (var n = seen + 1; n <= now; n++) store.removeItem(prefix + n);  // sent: forget it
      seen = now;
      if (note) note.hidden = true;
    }
    restore();
  }).observe(log, { childList: true });
  restore();
})();
