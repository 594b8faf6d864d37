/**
 * The oracle: the information limit of any detector, run over the same checkouts as the
 * product and the naive policy. It knows the ground truth but acts only on what a detector could
 * have seen: an outage is hidden from the end of the counter bucket in which a checkout first
 * tried one of its routes while it failed (no detector acts before its first failing bucket is
 * counted), and it is shown again the moment the outage ends. It hides exactly the outage's
 * routes, for everyone, and routes checkouts as the naive policy does (failover to the method's
 * next gateway, else the first option offered). It opens no false downtime.
 */
import { PolicyRun, emptyRun, serveCheckout } from './baseline';
import { Checkout, World, isFailing } from './truth';

export function runOracle(world: World, checkouts: readonly Checkout[], bucketSec: number): PolicyRun {
  const run = emptyRun('oracle', checkouts.length);
  const outages = world.scenario.outages;
  /** When each outage is hidden from (seconds); Infinity until a failing attempt was seen. */
  const hiddenFrom = outages.map(() => Infinity);
  const hidden = (route: number, t: number) => world.routeOutages[route]!.some((k) => hiddenFrom[k]! <= t && t < outages[k]!.endSec);
  for (const c of checkouts) {
    const route = serveCheckout(world, run, c, (r) => !hidden(r, c.t));
    if (!route || !isFailing(world, route.index, c.t)) continue;
    for (const k of world.routeOutages[route.index]!) {
      const o = outages[k]!;
      if (hiddenFrom[k] === Infinity && c.t >= o.startSec && c.t < o.endSec) hiddenFrom[k] = Math.min(o.endSec, (Math.floor(c.t / bucketSec) + 1) * bucketSec);
    }
  }
  outages.forEach((o, k) => {
    if (hiddenFrom[k] === Infinity || hiddenFrom[k]! >= o.endSec) return;
    run.downtimes.push({ id: `oracle-${k + 1}`, scopeKey: `outage-${k + 1}`, scope: o.scope, origin: 'detected', openedAt: hiddenFrom[k]!, disabledAt: hiddenFrom[k]!, resolvedAt: o.endSec, endReason: 'recovered' });
  });
  return run;
}
