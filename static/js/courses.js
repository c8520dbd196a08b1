// Lesson reading time: report the page as opened, then the seconds it was visible, every 30 s and when
// the page is left.
// The server credits each report at most the time since the previous one, so this is a measure, not a trust.
(function () {
  "use strict";
  var article = document.querySelector("[data-time-url]");
  if (!article || !window.academyFetch) {
    return;
  }
  var url = article.getAttribute("data-time-url");
  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  var pendingMs = 0;

  function collect() {
    if (visibleSince !== null) {
      var now = Date.now();
      pendingMs += now - visibleSince;
      visibleSince = now;
    }
  }

  function send(leaving) {
    collect();
    var seconds = Math.floor(pendingMs / 1000);
    if (seconds < 1) {
      return;
    }
    pendingMs -= seconds * 1000;
    // keepalive lets the request finish after the page is gone.
    window.academyFetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({seconds: seconds}),
      keepalive: leaving
    }).catch(function () { /* a lost report only loses reading time */ });
  }

  // The page tells the server it is open (a report of 0 seconds): that records the visit — the
  // resume point on the home page and 我的学习 — since serving the page (a GET) records nothing.
  window.academyFetch(url, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({seconds: 0})
  }).catch(function () { /* the visit is recorded again by the next report or "mark as done" */ });

  setInterval(function () {
    if (document.visibilityState === "visible") {
      send(false);
    }
  }, 30000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      send(true);
      visibleSince = null;
    } else {
      visibleSince = Date.now();
    }
  });
  window.addEventListener("pagehide", function () {
    send(true);
  });
})();
