// Shared helpers for every page. No inline scripts are allowed (CSP), so page scripts live in static/js.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // fetch() wrapper that sends the CSRF token header the server requires on state-changing requests.
  window.academyFetch = function (url, options) {
    options = options || {};
    options.headers = options.headers || {};
    options.headers["X-CSRFToken"] = meta ? meta.content : "";
    options.credentials = "same-origin";
    return fetch(url, options);
  };
  var toggle = document.querySelector(".menu-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // The account menu (a <details>) closes on a click elsewhere or Escape, like any menu.
  var accountMenu = document.getElementById("account-menu");
  if (accountMenu) {
    document.addEventListener("click", function (event) {
      if (accountMenu.open && !accountMenu.contains(event.target)) { accountMenu.open = false; }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && accountMenu.open) {
        accountMenu.open = false;
        accountMenu.querySelector("summary").focus();
      }
    });
  }
})();
