/**
 * The work ops do on incidents and problems, as rules: where an incident's stage may move, when
 * its post-incident review is due, and how a problem moves from open to a known error to resolved.
 */
import type { Severity } from './severity';
import type { RouteCounter } from './detection';
import { NO_TOPOLOGY, Scope, Topology, scopeMatchesRoute } from './scope';

/** Statuspage's and PagerDuty's vocabulary. `resolved` comes with the downtime's close; `reviewed` with the review. */
export type IncidentStage = 'investigating' | 'identified' | 'monitoring' | 'resolved' | 'reviewed';
/** The stages an incident manager sets while the downtime is open. */
export const OPEN_STAGES = ['investigating', 'identified', 'monitoring'] as const;

export type ProblemStatus = 'open' | 'investigating' | 'known_error' | 'resolved';
export const PROBLEM_STATUSES: readonly ProblemStatus[] = ['open', 'investigating', 'known_error', 'resolved'];

/** Why a request is refused: the record's state (409), or a field of the request (400). */
export type WorkRefusal = { kind: 'conflict'; message: string } | { kind: 'invalid'; field: string; message: string };

/** An incident manager moves an open incident's stage (back too: monitoring can return to investigating). */
export function refuseStage(status: 'open' | 'resolved'): WorkRefusal | undefined {
  return status === 'open' ? undefined : { kind: 'conflict', message: 'the incident is resolved; its stage follows the review now' };
}

/** A review is written once, after the downtime has closed. */
export function refuseReview(i: { status: 'open' | 'resolved'; reviewed: boolean }): WorkRefusal | undefined {
  if (i.status === 'open') return { kind: 'conflict', message: 'the incident is still open; review it once it is resolved' };
  if (i.reviewed) return { kind: 'conflict', message: 'the incident is already reviewed' };
  return undefined;
}

/** SEV1 and SEV2 need a review: due `dueAfterMs` after they resolve. A planned maintenance that ran its course needs none. */
export function reviewDueAt(severity: Severity, resolvedAt: number, dueAfterMs: number, endReason?: string): number | undefined {
  if (endReason === 'completed' || endReason === 'cancelled') return undefined;
  return severity === 'SEV1' || severity === 'SEV2' ? resolvedAt + dueAfterMs : undefined;
}

export function isReviewOverdue(i: { reviewDueAt?: number; reviewed: boolean }, now: number): boolean {
  return i.reviewDueAt !== undefined && !i.reviewed && now >= i.reviewDueAt;
}

export interface ProblemUpdate {
  status?: ProblemStatus;
  workaround?: string;
  rootCause?: string;
}

/**
 * A problem's update: a known error states its workaround, a resolved problem its root cause;
 * a resolved problem reopens only by coming back (a new downtime of its scope), not by hand.
 */
export function refuseProblemUpdate(current: { status: ProblemStatus; workaround?: string }, u: ProblemUpdate): WorkRefusal | undefined {
  if (current.status === 'resolved') return { kind: 'conflict', message: 'the problem is resolved; it reopens when its scope goes down again' };
  if (u.status === 'known_error' && !(u.workaround ?? current.workaround)) return { kind: 'invalid', field: 'workaround', message: 'workaround: a known error states its workaround' };
  if (u.status === 'resolved' && !u.rootCause) return { kind: 'invalid', field: 'rootCause', message: 'rootCause: a resolved problem states its root cause' };
  return undefined;
}

/** A downtime of a resolved problem's scope after it was resolved: the problem is back. */
export function reopensProblem(p: { status: ProblemStatus; resolvedAt?: number }, downtimeOpenedAt: number): boolean {
  return p.status === 'resolved' && p.resolvedAt !== undefined && downtimeOpenedAt > p.resolvedAt;
}

/** What a downtime cost, from the per-route counters: attempts on its routes while it was open, and those that failed for the system's reasons. */
export function downtimeImpact(counters: readonly RouteCounter[], scope: Scope, from: number, to: number, topo: Topology = NO_TOPOLOGY): { attempts: number; failed: number } {
  let attempts = 0;
  let failed = 0;
  for (const c of counters) {
    if (c.bucketStart < from || c.bucketStart > to || !scopeMatchesRoute(scope, c, topo)) continue;
    attempts += c.success + c.systemFailure + c.userFailure;
    failed += c.systemFailure;
  }
  return { attempts, failed };
}
