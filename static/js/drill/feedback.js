// The feedback for one reply: its score, the customer's reaction, the judgements, the graded items
// with the words behind them, tips, habitual phrasings and delivery.

import { t, uiLang } from "./strings.js";
import { isForbidden, itemVerdict } from "./verdict.js";

export function badge(text, className) {
  const span = document.createElement("span");
  span.className = "badge" + (className ? " " + className : "");
  span.textContent = text;
  return span;
}

// A reply's percentage: the server's figure (turn.percent), the same the report shows.
export function turnPercent(turn) {
  return typeof turn.percent === "number" ? turn.percent : Math.floor(turn.score_fraction * 100 + 0.5);
}

export function scoreClass(fraction) { return fraction >= 0.7 ? "ok" : fraction >= 0.4 ? "warn" : "bad"; }

function localText(value) {
  if (!value) return "";
  if (typeof value === "string") return value;
  return value[uiLang] || value["zh-CN"] || value.en || "";
}
function heading(text) {
  const h = document.createElement("h3");
  h.textContent = text;
  return h;
}
function list(className) {
  const ul = document.createElement("ul");
  ul.className = className;
  return ul;
}
function points(value) { return String(Math.round(value * 10) / 10); }

// Graded items: met / missed (avoided / said for forbidden ones), why it matters, points, the words behind it.
function renderItems(box, title, className, items, language, evidenceLabel) {
  if (!items.length) return;
  box.appendChild(heading(title));
  const ul = list(className);
  items.forEach((item) => {
    const forbidden = isForbidden(item);
    const verdict = itemVerdict(item);
    const li = document.createElement("li");
    li.className = verdict.className;
    li.setAttribute("data-item-id", item.item_id);
    li.appendChild(badge(t(verdict.label), verdict.badgeClass));
    const label = document.createElement("span");
    label.className = "drill-item-label";
    label.textContent = item.label || localText(item.explanation) || item.item_id;
    li.appendChild(label);
    const pts = document.createElement("span");
    pts.className = "drill-item-points";
    pts.textContent = forbidden ? t("points", { x: points(item.points_awarded || 0) })
      : points(item.points_awarded || 0) + "/" + points(item.points_possible || 0);
    li.appendChild(pts);
    const evidence = (item.evidence || []).filter(Boolean);
    if (evidence.length) {
      const words = document.createElement("div");
      words.className = "drill-evidence";
      words.textContent = t(evidenceLabel || "evidence") + " ";
      evidence.forEach((word) => {
        const q = document.createElement("q");
        if (!evidenceLabel) q.lang = language;
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
  const judgements = (turn.judgements || []).filter((j) => j.applies);
  if (!judgements.length) return;
  const verdict = document.createElement("p");
  verdict.className = "drill-verdict";
  verdict.appendChild(badge(turn.passed ? t("reply_passed") : t("reply_not_passed"), turn.passed ? "ok" : "bad"));
  box.appendChild(verdict);
  const ul = list("drill-judgements");
  judgements.forEach((j) => {
    const li = document.createElement("li");
    li.className = j.held ? "ok" : "bad";
    li.setAttribute("data-judgement", j.name);
    li.appendChild(badge(j.held ? "✓" : "✗", j.held ? "ok" : "bad"));
    li.appendChild(document.createTextNode(" " + j.label));
    ul.appendChild(li);
  });
  box.appendChild(ul);
}

// data: the turns endpoint's answer; language: the scenario's language (for the trainee's words).
export function renderFeedback(box, data, language) {
  const turn = data.turn || {};
  box.textContent = "";
  const title = document.createElement("h2");
  const fraction = typeof turn.score_fraction === "number" ? turn.score_fraction : 0;
  title.textContent = t("turn_score", { n: turnPercent({ percent: turn.percent, score_fraction: fraction }) });
  title.className = "drill-score " + scoreClass(fraction);
  box.appendChild(title);
  if (data.outcome) {
    const outcome = document.createElement("p");
    outcome.className = "drill-outcome drill-outcome-" + data.outcome;
    outcome.textContent = t("outcome_" + data.outcome);
    box.appendChild(outcome);
  }

  renderJudgements(box, turn);
  renderItems(box, t("items"), "drill-items", turn.items || [], language);
  const tips = (turn.tips || []).map(localText).filter(Boolean);
  if (tips.length) {
    box.appendChild(heading(t("tips")));
    const tipList = list("drill-tips");
    tips.forEach((tip) => {
      const li = document.createElement("li");
      li.textContent = tip;
      tipList.appendChild(li);
    });
    box.appendChild(tipList);
  }

  const habitual = turn.habitual || [];
  if (habitual.length) {
    box.appendChild(heading(t("habitual")));
    const pairs = list("drill-habitual");
    habitual.forEach((pair) => {
      const li = document.createElement("li");
      const main = document.createElement("span");
      main.lang = language;
      main.textContent = t("habitual_pair", { x: pair.habitual, n: pair.professional });
      li.appendChild(main);
      const note = localText(pair.note);
      if (note) {
        const small = document.createElement("div");
        small.className = "muted";
        small.textContent = note;
        li.appendChild(small);
      }
      pairs.appendChild(li);
    });
    box.appendChild(pairs);
  }

  renderItems(box, t("delivery"), "drill-items drill-delivery", turn.delivery || [], language, "measured");
  box.hidden = false;
}
