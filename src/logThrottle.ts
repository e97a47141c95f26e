// Coalesces a warning that repeats while something stays broken (the database during an outage
// is hit by every request): the first occurrence is logged at once, the ones within the next
// interval are only counted, and the next line logged says how many were left out. An outage
// then costs one line per interval instead of one per request.

/** How often a repeated warning is logged at most. */
export const LOG_THROTTLE_INTERVAL_MS = 10_000;

/** Returns `(log) => void`: calls `log(suppressedSinceLastLine)` at most once per interval. */
export function throttledLog(
  intervalMs = LOG_THROTTLE_INTERVAL_MS,
  now: () => number = Date.now,
): (log: (suppressed: number) => void) => void {
  let lastLogged = -Infinity;
  let suppressed = 0;
  return (log) => {
    const at = now();
    if (at - lastLogged < intervalMs) {
      suppressed++;
      return;
    }
    lastLogged = at;
    const left = suppressed;
    suppressed = 0;
    log(left);
  };
}
