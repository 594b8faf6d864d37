/**
 * The downtime state machine's clock decisions, used by the downtime workflow on every
 * probe tick. Kept pure so the workflow stays a thin, replay-safe shell around it.
 */
import type { ProbeDecision } from './probe';

export type DowntimeState = 'disabled' | 'probing' | 'resolved';
/** How a downtime ended; `completed` is a planned maintenance's window over, `cancelled` one called off before it began. */
export type EndReason = 'recovered' | 'expired' | 'manual' | 'superseded' | 'completed' | 'cancelled';
export type ProbeTick =
  | { kind: 'continue'; reason: string }
  | { kind: 'extend'; reason: string; expiresAt: number }
  | { kind: 'close'; reason: 'recovered' | 'expired' };

/**
 * - held (flap guard): a downtime that reopens one re-enabled shortly before must stay proven
 *   healthy for `holdMs` from the first 'recovered' verdict (`recoveredSince`; the caller clears
 *   it on a 'failing' one) before it closes as recovered; until then it continues, whatever the
 *   expiry says, since the latest evidence is that it is healthy;
 * - recovered: close as recovered, but never before an operator's `extendedUntil`;
 * - insufficient at or after max(expiresAt, extendedUntil): close as expired (the probe saw
 *   too little traffic to prove anything, and a scope must not stay hidden forever);
 * - failing at expiry, or insufficient at expiry while the probe concluded "still failing"
 *   within the last expiry period: extend by one expiry period, since the latest evidence says
 *   the scope is still down (the sequential test restarts after each "failing" conclusion, so
 *   the current run of outcomes may be short although the evidence is recent);
 * - otherwise: continue.
 */
export function decideTick(p: {
  decision: ProbeDecision;
  now: number;
  expiresAt: number;
  extendedUntil?: number;
  expiryMs: number;
  /** When the probe last concluded "still failing". */
  lastFailingAt?: number;
  /** Flap guard: how long a recovery must hold before it counts (0 or absent: at once). */
  holdMs?: number;
  /** The first 'recovered' verdict since the last 'failing' one. */
  recoveredSince?: number;
}): ProbeTick {
  const { decision, now, expiresAt, extendedUntil, expiryMs, lastFailingAt } = p;
  const stillDown = { kind: 'extend' as const, reason: 'still failing at expiry', expiresAt: now + expiryMs };
  const extended = extendedUntil !== undefined && now < extendedUntil;
  const deadline = Math.max(expiresAt, extendedUntil ?? expiresAt);
  const holdMs = p.holdMs ?? 0;
  if (holdMs > 0 && decision.verdict !== 'failing' && p.recoveredSince !== undefined) {
    if (now - p.recoveredSince < holdMs) return { kind: 'continue', reason: 'recovered, held by the flap guard' };
    return extended ? { kind: 'continue', reason: 'recovered, held until the extension ends' } : { kind: 'close', reason: 'recovered' };
  }
  switch (decision.verdict) {
    case 'recovered':
      return extended ? { kind: 'continue', reason: 'recovered, held until the extension ends' } : { kind: 'close', reason: 'recovered' };
    case 'failing':
      return now >= deadline ? stillDown : { kind: 'continue', reason: 'still failing' };
    case 'insufficient':
      if (now < deadline) return { kind: 'continue', reason: 'waiting for probe samples' };
      return lastFailingAt !== undefined && now - lastFailingAt < expiryMs ? stillDown : { kind: 'close', reason: 'expired' };
  }
}
