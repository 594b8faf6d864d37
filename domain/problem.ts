/**
 * Problems: a scope that keeps going down needs a permanent fix, not another automatic
 * recovery. K downtimes within D days turns the pattern into a Problem record.
 */

export interface ProblemSettings {
  /** K: downtimes needed. */
  threshold: number;
  /** D: look-back window. */
  windowMs: number;
}

/** Whether at least `threshold` downtimes started in (now - windowMs, now]. */
export function isRecurring(downtimeStarts: number[], now: number, s: ProblemSettings): boolean {
  const since = now - s.windowMs;
  return downtimeStarts.filter((t) => t > since && t <= now).length >= s.threshold;
}
