// Authoring pages: "try a reply" without a page reload, question-type fields, jump to a YAML error line.
// Progressive enhancement only: every form also works without JavaScript.
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function points(value) {
    return String(Math.round(value * 100) / 100);
  }

  var labels = document.getElementById("try-labels");
  function label(name) {
    return labels ? labels.getAttribute("data-" + name) : name;
  }

  function renderResult(box, result) {
    box.textContent = "";
    var summary = el("div", "try-summary");
    summary.appendChild(el("strong", null, label("score") + ": " + points(result.earned) + "/" + points(result.possible)));
    summary.appendChild(document.createTextNode(" · " + label("outcome") + ": "));
    summary.appendChild(el("span", "badge outcome-" + result.transition.outcome, result.outcome_label || result.transition.outcome));
    summary.appendChild(document.createTextNode(" · " + label("next") + ": "));
    summary.appendChild(el("code", null, result.transition.next));
    summary.appendChild(document.createTextNode(" · " + label("anger") + " " + result.transition.anger_before + " → " + result.transition.anger_after));
    box.appendChild(summary);
    // The score counts judgements: list them, and say how each item counted (item.status).
    var judged = el("ul", "try-judgements");
    Object.keys(result.judgements || {}).forEach(function (name) {
      var j = result.judgements[name];
      if (!j.applies) return;
      var li = el("li");
      li.appendChild(el("span", "badge " + (j.held ? "ok" : "bad"), j.held ? "✓" : "✗"));
      li.appendChild(document.createTextNode(" " + j.label));
      judged.appendChild(li);
    });
    box.appendChild(judged);
    var list = el("ul", "try-items");
    var items = result.items.slice();
    if (result.greeting) { items.push(result.greeting); }
    items.forEach(function (item) {
      var li = el("li", (item.matched ? "hit" : "miss") + " kind-" + item.kind);
      var good = item.points_awarded > 0 || (item.kind === "forbidden" && !item.matched);
      var statusClass = { met: "ok", avoided: "ok", said: "bad", missed: "bad" }[item.status] || "";
      li.appendChild(item.status
        ? el("span", "badge " + statusClass, label(item.status))
        : el("span", "badge " + (good ? "ok" : (item.matched ? "bad" : "")),
             points(item.points_awarded) + "/" + points(item.points_possible)));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("code", null, item.item_id));
      if (item.evidence && item.evidence.length) {
        li.appendChild(document.createTextNode(" — " + label("heard") + ": " + item.evidence.join(", ")));
      }
      if (item.explanation) {
        li.appendChild(el("br"));
        li.appendChild(el("span", "muted", item.explanation));
      }
      list.appendChild(li);
    });
    box.appendChild(list);
    if (result.tips && result.tips.length) {
      box.appendChild(el("p", "try-tips-title", label("tips")));
      var tips = el("ul", "try-tips");
      result.tips.forEach(function (tip) { tips.appendChild(el("li", null, tip)); });
      box.appendChild(tips);
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.try-reply"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var box = form.querySelector(".try-result");
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      window.academyFetch(form.action, {
        method: "POST",
        headers: {"Content-Type": "application/json", "Accept": "application/json"},
        body: JSON.stringify({node: form.getAttribute("data-node"), text: form.querySelector("textarea").value})
      }).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (answer) {
        if (answer.ok) {
          renderResult(box, answer.body);
        } else {
          box.textContent = "";
          box.appendChild(el("p", "error", answer.body.message || label("failed")));
        }
      }).catch(function () {
        box.textContent = "";
        box.appendChild(el("p", "error", label("failed")));
      }).then(function () { button.disabled = false; });
    });
  });

  // Question banks: show only the fields of the chosen question type.
  Array.prototype.forEach.call(document.querySelectorAll("[data-question]"), function (question) {
    var select = question.querySelector("[data-type-select]");
    if (!select) { return; }
    function apply() {
      Array.prototype.forEach.call(question.querySelectorAll("[data-types]"), function (part) {
        part.hidden = part.getAttribute("data-types").split(" ").indexOf(select.value) < 0;
      });
    }
    select.addEventListener("change", apply);
    apply();
  });

  // YAML errors: clicking "Line N" selects that line in the text.
  var yaml = document.getElementById("f-text");
  Array.prototype.forEach.call(document.querySelectorAll(".goto-line"), function (link) {
    link.addEventListener("click", function (event) {
      if (!yaml) { return; }
      event.preventDefault();
      var lines = yaml.value.split("\n");
      var line = Math.max(1, Math.min(lines.length, parseInt(link.getAttribute("data-line"), 10)));
      var start = 0;
      for (var i = 0; i < line - 1; i++) { start += lines[i].length + 1; }
      yaml.focus();
      yaml.setSelectionRange(start, start + lines[line - 1].length);
      var lineHeight = yaml.scrollHeight / Math.max(1, lines.length);
      yaml.scrollTop = Math.max(0, (line - 3) * lineHeight);
    });
  });
})();
