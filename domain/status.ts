/**
 * The public status page: how each component (a gateway, mode or method) is doing, derived
 * from the open downtimes that touch it.
 */
import type { DowntimeState } from './lifecycle';
import { NO_TOPOLOGY, Scope, Topology, scopeCovers, scopesOverlap } from './scope';
import type { Severity } from './severity';

export type ComponentStatus = 'operational' | 'degraded' | 'partial_outage' | 'major_outage';

const ORDER: readonly ComponentStatus[] = ['operational', 'degraded', 'partial_outage', 'major_outage'];

/** The worse of two statuses. */
export function worseStatus(a: ComponentStatus, b: ComponentStatus): ComponentStatus {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/**
 * The worst status any open downtime gives the component: covering all of it is a major
 * outage (partial once its probe shows recovery, probeRate >= 0.5); covering part of it is a
 * partial outage when SEV1/SEV2, otherwise degraded.
 */
export function componentStatus(
  openDowntimes: { scope: Scope; severity: Severity; state: DowntimeState; probeRate?: number }[],
  component: Scope,
  topo: Topology = NO_TOPOLOGY,
): ComponentStatus {
  let status: ComponentStatus = 'operational';
  for (const d of openDowntimes) {
    if (d.state === 'resolved' || !scopesOverlap(d.scope, component, topo)) continue;
    let s: ComponentStatus;
    if (scopeCovers(d.scope, component, topo)) s = d.probeRate !== undefined && d.probeRate >= 0.5 ? 'partial_outage' : 'major_outage';
    else s = d.severity === 'SEV1' || d.severity === 'SEV2' ? 'partial_outage' : 'degraded';
    status = worseStatus(status, s);
  }
  return status;
}
