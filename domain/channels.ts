/**
 * Which channel hears which event of a downtime's life: the one rule the outbox follows.
 * Pages trigger PagerDuty; a paged downtime's acknowledgement and close acknowledge and resolve
 * it there; ops chat hears every step people act on; partners hear the start and the end.
 */
import type { Route, Scope, Topology } from './scope';
import { scopeMatchesRoute, scopesOverlap, NO_TOPOLOGY } from './scope';
import type { Severity } from './severity';

/** The step of a downtime's life a notice tells. */
export type NoticeEvent = 'started' | 'escalated' | 'acknowledged' | 'resolved' | 'scheduled' | 'cancelled' | 'review_overdue';

/** Ops chat hears these. */
export const CHAT_EVENTS: readonly NoticeEvent[] = ['scheduled', 'cancelled', 'started', 'escalated', 'acknowledged', 'resolved', 'review_overdue'];

/** Partners are mailed on these, with the evidence. */
export const PARTNER_EVENTS: readonly NoticeEvent[] = ['scheduled', 'cancelled', 'started', 'resolved'];

/** PagerDuty Events API v2 actions. */
export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

/** What PagerDuty hears of a notice about a downtime it was paged for (pages themselves trigger). */
export function pagerDutyAction(event: NoticeEvent): PagerDutyAction | undefined {
  if (event === 'acknowledged') return 'acknowledge';
  if (event === 'resolved') return 'resolve';
  return undefined;
}

/** PagerDuty's severity for ours. */
export const PAGERDUTY_SEVERITY: Readonly<Record<Severity, 'critical' | 'error' | 'warning' | 'info'>> = {
  SEV1: 'critical',
  SEV2: 'error',
  SEV3: 'warning',
  SEV4: 'info',
};

/**
 * The partners a downtime concerns: each whose scope shares a catalog route with the downtime's.
 * With no catalog routes known, each whose scope could share one.
 */
export function concernedPartners<P extends { scope: Scope }>(partners: readonly P[], scope: Scope, routes: readonly Route[], topo: Topology = NO_TOPOLOGY): P[] {
  if (routes.length === 0) return partners.filter((p) => scopesOverlap(p.scope, scope, topo));
  const affected = routes.filter((r) => scopeMatchesRoute(scope, r, topo));
  return partners.filter((p) => affected.some((r) => scopeMatchesRoute(p.scope, r, topo)));
}
