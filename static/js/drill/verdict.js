// How one graded item of a reply reads in the feedback (pure: no DOM, no strings; feedback.js
// renders it): met / missed / not needed (another item of the same judgement was met), and for
// forbidden items avoided / said.

export function isForbidden(item) {
  return item.kind === "forbidden" || String(item.rule || "").indexOf("forbidden") === 0;
}

// {good, className (of the list item), label (a #drill-i18n key), badgeClass}
export function itemVerdict(item) {
  const forbidden = isForbidden(item);
  const good = forbidden ? !item.matched : item.matched;
  const label = forbidden ? (good ? "avoided" : "said_forbidden")
    : (good ? "met" : (item.alternative ? "not_needed" : "missed"));
  return {
    good,
    className: good ? "ok" : (item.alternative ? "alt" : "bad"),
    label,
    badgeClass: good ? "ok" : (item.alternative ? "" : "bad"),
  };
}
