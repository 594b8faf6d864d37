/**
 * Flap guard: a scope that fails again soon after it was re-enabled was probably never
 * healthy. Reopening it linked to the previous downtime with a longer expiry stops it
 * oscillating between disabled and enabled, each cycle costing real failed payments.
 */

export interface FlapSettings {
  /** How soon after re-enable a new failure counts as the same problem. */
  windowMs: number;
  /** Expiry growth per reopen. */
  multiplier: number;
  maxExpiryMs: number;
}

export interface PreviousDowntime {
  id: string;
  resolvedAt: number;
  expiryMs: number;
}

/**
 * Within `windowMs` of the previous re-enable: reopen it with expiry
 * min(maxExpiryMs, previous expiry x multiplier), never below the base expiry.
 * Otherwise a fresh downtime with the base expiry.
 */
export function reopenPlan(
  prev: PreviousDowntime | undefined,
  now: number,
  baseExpiryMs: number,
  s: FlapSettings,
): { expiryMs: number; reopensId?: string } {
  if (!prev || Math.max(0, now - prev.resolvedAt) > s.windowMs) return { expiryMs: baseExpiryMs };
  const grown = Math.min(s.maxExpiryMs, prev.expiryMs * s.multiplier);
  return { expiryMs: Math.max(baseExpiryMs, grown), reopensId: prev.id };
}
