/**
 * Incident severity as a pure function of what a downtime costs: how much it covers, how
 * much traffic it touches, how long it has lasted, whether anyone is on it, and whether it
 * falls in a freeze window. It only rises while the downtime is open, so a page is never
 * silently downgraded by a lull in traffic.
 */
import { Scope, scopeBreadth } from './scope';

export type Severity = 'SEV1' | 'SEV2' | 'SEV3' | 'SEV4';

export interface SeverityInput {
  scope: Scope;
  trafficShare: number;
  openedAt: number;
  now: number;
  acknowledged: boolean;
  inFreeze: boolean;
  /** Manual escalation: never below this. */
  floor?: Severity;
  /** Severity so far: never below this. */
  previous?: Severity;
}

export interface SeveritySettings {
  unackedAfterMs: number;
  longAfterMs: number;
  veryLongAfterMs: number;
}

const BY_RANK: readonly Severity[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];

/** SEV1 -> 1 ... SEV4 -> 4 (lower is more severe). */
export function severityRank(s: Severity): number {
  return BY_RANK.indexOf(s) + 1;
}

function fromRank(rank: number): Severity {
  return BY_RANK[Math.min(4, Math.max(1, Math.round(rank))) - 1]!;
}

/** The more severe of two. */
export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) <= severityRank(b) ? a : b;
}

/** `steps` levels more severe (negative: less), clamped to SEV1..SEV4. */
export function raiseSeverity(s: Severity, steps: number): Severity {
  return fromRank(severityRank(s) - steps);
}

function severityOfPoints(points: number): Severity {
  if (points >= 4) return 'SEV1';
  if (points >= 2) return 'SEV2';
  if (points >= 1) return 'SEV3';
  return 'SEV4';
}

/**
 * Points: breadth (route 0, method/mode-gateway 1, mode/gateway 2), traffic share
 * (>= 5% +1, >= 20% +2), duration (>= long +1, >= very long +2), unacknowledged past
 * `unackedAfterMs` +1. 0 -> SEV4, 1 -> SEV3, 2-3 -> SEV2, 4+ -> SEV1; a freeze adds one level.
 */
export function computeSeverity(i: SeverityInput, s: SeveritySettings): Severity {
  const age = i.now - i.openedAt;
  let points = scopeBreadth(i.scope) - 1;
  if (i.trafficShare >= 0.2) points += 2;
  else if (i.trafficShare >= 0.05) points += 1;
  if (age >= s.veryLongAfterMs) points += 2;
  else if (age >= s.longAfterMs) points += 1;
  if (!i.acknowledged && age >= s.unackedAfterMs) points += 1;

  let sev = severityOfPoints(points);
  if (i.inFreeze) sev = raiseSeverity(sev, 1);
  if (i.floor) sev = maxSeverity(sev, i.floor);
  if (i.previous) sev = maxSeverity(sev, i.previous);
  return sev;
}
