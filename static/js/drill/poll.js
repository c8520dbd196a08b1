// Production mode: a reply queued for a grading worker (202 "queued"). Ask for the call state
// every 500 ms until that turn is graded; a turn that could not be graded (or no answer within
// 3 minutes) is pending. Pure: the page passes in the request, the timer and the clock.

export const POLL_MS = 500;
export const POLL_LIMIT_MS = 180000;

// fetchState(url) → Promise of {status, data}; onGraded(turnResult); onPending().
export function pollUntilGraded({ url, fetchState, onGraded, onPending, schedule, now,
                                  intervalMs = POLL_MS, limitMs = POLL_LIMIT_MS }) {
  const giveUpAt = now() + limitMs;
  const poll = () => {
    fetchState(url).then((result) => {
      const data = result.data || {};
      if (result.status === 200 && data.turn_result) { onGraded(data.turn_result); return; }
      if ((result.status === 200 && data.turn_status === "pending") || now() > giveUpAt) { onPending(); return; }
      schedule(poll, intervalMs);  // still queued or grading (or a network blip): ask again
    });
  };
  schedule(poll, intervalMs);
}
