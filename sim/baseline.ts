/**
 * The seed's baseline policy, simulated offline over the same checkouts as the product: per
 * route, every DETECTION_INTERVAL, the success rate over a fixed window (every failure counted,
 * a minimum of attempts) below a fixed threshold disables that route for everyone; it is
 * re-enabled after a fixed expiry. A checkout uses its preferred method's first enabled
 * gateway, otherwise the first enabled option in catalog order.
 */
import type { Scope } from '../domain/scope';
import { BASELINE_POLICY } from './profile';
import { Checkout, SimRoute, World, outcomeOf } from './truth';

/** A downtime as the report reads it, for either policy. Times in seconds since the start. */
export interface PolicyDowntime {
  id: string;
  scopeKey: string;
  scope: Scope;
  origin: string;
  openedAt: number;
  disabledAt?: number;
  resolvedAt?: number;
  endReason?: string;
  reopensId?: string;
  supersededBy?: string;
}

/** What a policy did with each checkout (indexed like the checkout list). */
export interface PolicyRun {
  policy: 'product' | 'baseline' | 'oracle';
  /** Route index the checkout paid through, -1 when nothing was offered. */
  route: Int32Array;
  /** 1 when the preferred method was not offered (hidden). */
  hidden: Uint8Array;
  /** 1 when the route was offered as a probe (bucket B of an open downtime). */
  probe: Uint8Array;
  /** 1 when the payment succeeded. */
  success: Uint8Array;
  downtimes: PolicyDowntime[];
}

export function emptyRun(policy: PolicyRun['policy'], n: number): PolicyRun {
  return { policy, route: new Int32Array(n).fill(-1), hidden: new Uint8Array(n), probe: new Uint8Array(n), success: new Uint8Array(n), downtimes: [] };
}

export type BaselineSettings = typeof BASELINE_POLICY;

/**
 * A checkout under a policy that hides routes for everyone: its preferred method's first enabled
 * gateway, otherwise (the method hidden) the first enabled option in catalog order. Records the
 * route and the outcome in `run`; undefined when nothing was enabled.
 */
export function serveCheckout(world: World, run: PolicyRun, c: Checkout, enabled: (route: number) => boolean): SimRoute | undefined {
  let route = world.methodRoutes[c.preferred]!.find((r) => enabled(r.index));
  if (!route) {
    run.hidden[c.index] = 1;
    for (const routes of world.methodRoutes) {
      route = routes.find((r) => enabled(r.index));
      if (route) break;
    }
  }
  if (!route) return undefined;
  run.route[c.index] = route.index;
  run.success[c.index] = outcomeOf(world, route.index, c).status === 'success' ? 1 : 0;
  return route;
}

/**
 * Runs the baseline over `checkouts` (sorted by time) up to `durationSec`. `history` is the
 * healthy traffic before time 0 (the product's backfill): it fills the baseline's window too,
 * through each method's first gateway, so both policies start warm.
 */
export function runBaseline(
  world: World,
  checkouts: readonly Checkout[],
  durationSec: number,
  s: BaselineSettings = BASELINE_POLICY,
  history: readonly Checkout[] = [],
): PolicyRun {
  const run = emptyRun('baseline', checkouts.length);
  const nRoutes = world.routes.length;
  /** Per route: outcome times and results in the window, oldest first (a queue with a head index). */
  const times: number[][] = Array.from({ length: nRoutes }, () => []);
  const oks: boolean[][] = Array.from({ length: nRoutes }, () => []);
  const head = new Array<number>(nRoutes).fill(0);
  const okCount = new Array<number>(nRoutes).fill(0);
  /** Open downtime per route (index into run.downtimes), and when it expires. */
  const open = new Array<number>(nRoutes).fill(-1);
  const until = new Array<number>(nRoutes).fill(-Infinity);

  const evaluate = (now: number) => {
    for (let r = 0; r < nRoutes; r += 1) {
      if (open[r]! >= 0 && until[r]! <= now) {
        const d = run.downtimes[open[r]!]!;
        d.resolvedAt = until[r]!;
        d.endReason = 'expired';
        open[r] = -1;
      }
      const ts = times[r]!;
      while (head[r]! < ts.length && ts[head[r]!]! < now - s.windowSec) {
        if (oks[r]![head[r]!]) okCount[r] = okCount[r]! - 1;
        head[r] = head[r]! + 1;
      }
      const attempts = ts.length - head[r]!;
      if (open[r]! < 0 && attempts >= s.minAttempts && okCount[r]! / attempts < s.threshold) {
        const route = world.routes[r]!;
        open[r] = run.downtimes.length;
        until[r] = now + s.expirySec;
        run.downtimes.push({
          id: `baseline-${run.downtimes.length + 1}`,
          scopeKey: route.key,
          scope: { mode: route.method.split(':')[0], method: route.method, gateway: route.gateway },
          origin: 'detected',
          openedAt: now,
          disabledAt: now,
        });
      }
    }
  };

  for (const c of history) {
    if (c.t >= 0 || c.t < -s.windowSec) continue;
    const route = world.methodRoutes[c.preferred]![0]!.index;
    const ok = outcomeOf(world, route, c).status === 'success';
    times[route]!.push(c.t);
    oks[route]!.push(ok);
    if (ok) okCount[route] = okCount[route]! + 1;
  }

  const enabled = (r: number) => open[r]! < 0;
  let nextTick = s.intervalSec;
  for (const c of checkouts) {
    while (nextTick <= c.t) {
      evaluate(nextTick);
      nextTick += s.intervalSec;
    }
    const route = serveCheckout(world, run, c, enabled);
    if (!route) continue;
    const ok = run.success[c.index] === 1;
    times[route.index]!.push(c.t);
    oks[route.index]!.push(ok);
    if (ok) okCount[route.index] = okCount[route.index]! + 1;
  }
  while (nextTick <= durationSec) {
    evaluate(nextTick);
    nextTick += s.intervalSec;
  }
  return run;
}
