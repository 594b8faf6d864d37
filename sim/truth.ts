/**
 * Ground truth: how every route of the scenario behaves at time t, and the checkout stream.
 *
 * A route (method@gateway) succeeds at its catalog rate (per-gateway override, ordinary
 * variance) unless an outage whose scope covers it is active; then at the outage's rate, and
 * every failure is the system's. Outside outages a failure carries a user code with probability
 * userFailureShare. Every checkout carries its own uniform draws, so the same checkout has the
 * same luck whichever route a policy sends it through.
 */
import { DEFAULT_SYSTEM_ERROR_CODES, DEFAULT_USER_ERROR_CODES } from '../domain/failures';
import { Route, Topology, scopeMatchesRoute, topologyOf } from '../domain/scope';
import { hashUniform, mulberry32, pickWeighted } from './random';
import type { Scenario } from './scenario';

export interface SimRoute extends Route {
  /** Index in World.routes. */
  index: number;
  /** Index of the method in the catalog. */
  methodIndex: number;
  key: string;
  baseRate: number;
  /** Phase of the ordinary variance, in radians. */
  phase: number;
}

export interface World {
  scenario: Scenario;
  /** The catalog's method attributes and gateway aggregators. */
  topology: Topology;
  routes: SimRoute[];
  /** For each catalog method, its routes in gateway order. */
  methodRoutes: SimRoute[][];
  /** For each outage, the indexes of the routes it covers. */
  outageRoutes: number[][];
  /** For each route, the outages covering it. */
  routeOutages: number[][];
  /** For each route, the user-error bursts covering it. */
  routeBursts: number[][];
}

export function buildWorld(scenario: Scenario): World {
  const routes: SimRoute[] = [];
  const methodRoutes = scenario.catalog.map((entry, methodIndex) =>
    entry.gateways.map((gateway) => {
      const route: SimRoute = {
        index: routes.length,
        methodIndex,
        method: entry.method,
        gateway,
        key: `${entry.method}@${gateway}`,
        baseRate: entry.gatewaySuccess?.[gateway] ?? entry.successRate,
        phase: 2 * Math.PI * hashUniform(`${scenario.seed}|phase|${entry.method}@${gateway}`),
      };
      routes.push(route);
      return route;
    }),
  );
  const topology = topologyOf({ methods: scenario.catalog, gateways: scenario.gateways ?? [] });
  const outageRoutes = scenario.outages.map((o) => routes.filter((r) => scopeMatchesRoute(o.scope, r, topology)).map((r) => r.index));
  const routeOutages = routes.map((r) => scenario.outages.flatMap((o, i) => (scopeMatchesRoute(o.scope, r, topology) ? [i] : [])));
  const routeBursts = routes.map((r) => (scenario.userErrorBursts ?? []).flatMap((b, i) => (scopeMatchesRoute(b.scope, r, topology) ? [i] : [])));
  return { scenario, topology, routes, methodRoutes, outageRoutes, routeOutages, routeBursts };
}

const active = (e: { startSec: number; endSec: number }, t: number) => t >= e.startSec && t < e.endSec;

/** The outage making the route fail at t, if any (the first listed when several overlap). */
export function outageAt(world: World, route: number, t: number): number | undefined {
  for (const i of world.routeOutages[route]!) if (active(world.scenario.outages[i]!, t)) return i;
  return undefined;
}

export function isFailing(world: World, route: number, t: number): boolean {
  return outageAt(world, route, t) !== undefined;
}

/** The route's true success rate at t. */
export function successRate(world: World, route: number, t: number): number {
  const outage = outageAt(world, route, t);
  if (outage !== undefined) return world.scenario.outages[outage]!.successRate;
  const r = world.routes[route]!;
  const v = world.scenario.variance;
  const wobble = v ? v.amplitude * Math.sin((2 * Math.PI * t) / v.periodSec + r.phase) : 0;
  return Math.min(1, Math.max(0, r.baseRate + wobble));
}

/** A method is healthy at t when at least one of its routes is not in an outage. */
export function methodHealthy(world: World, methodIndex: number, t: number): boolean {
  return world.methodRoutes[methodIndex]!.some((r) => !isFailing(world, r.index, t));
}

/** One simulated checkout: who, when, what they prefer, and their luck. */
export interface Checkout {
  index: number;
  /** Seconds since the start of the run. */
  t: number;
  user: number;
  /** The user's preferred method (catalog index). */
  preferred: number;
  /** Uniform draws: user-error burst, success, user-or-system failure, which code. */
  dBurst: number;
  dSuccess: number;
  dKind: number;
  dCode: number;
}

export const userId = (user: number) => `user-${String(user).padStart(6, '0')}`;

/** Each user's fixed preferred method, drawn by catalog share from the seed. */
export function preferences(scenario: Scenario): number[] {
  const shares = scenario.catalog.map((e) => e.share);
  return Array.from({ length: scenario.users }, (_, u) => pickWeighted(shares, hashUniform(`${scenario.seed}|pref|${u}`)));
}

/**
 * How much of `ratePerSec` arrives at time t: the scenario's traffic curve (a day compressed into
 * its period) times every active surge; 1 without one.
 */
export function trafficFactor(scenario: Scenario, t: number): number {
  const tr = scenario.traffic;
  if (!tr) return 1;
  let f = 1 + tr.swing * Math.sin(2 * Math.PI * (t / tr.periodSec + (tr.phase ?? 0)));
  for (const s of tr.surges ?? []) if (t >= s.startSec && t < s.endSec) f *= s.multiplier;
  return f;
}

/** The largest `trafficFactor` can be: the curve's top with every surge that lifts it. */
function peakFactor(scenario: Scenario): number {
  const tr = scenario.traffic;
  if (!tr) return 1;
  return (1 + tr.swing) * (tr.surges ?? []).reduce((m, s) => m * Math.max(1, s.multiplier), 1);
}

/**
 * The checkouts of [fromSec, toSec) at `ratePerSec` (Poisson arrivals; with the scenario's
 * traffic curve and surges, a time-varying Poisson process drawn by thinning), all draws from one
 * seeded stream: the same scenario and salt give the same list on every run.
 */
export function checkoutStream(scenario: Scenario, prefs: number[], fromSec: number, toSec: number, ratePerSec: number, salt: string): Checkout[] {
  const rand = mulberry32(Math.floor(hashUniform(`${scenario.seed}|${salt}`) * 4294967296));
  const peak = peakFactor(scenario);
  const out: Checkout[] = [];
  let t = fromSec;
  for (;;) {
    t += -Math.log(1 - rand()) / (ratePerSec * peak);
    if (t >= toSec) break;
    // Thinning: a candidate arrival is kept with the share of the peak rate that arrives at t.
    if (scenario.traffic && rand() * peak >= trafficFactor(scenario, t)) continue;
    const user = Math.floor(rand() * scenario.users);
    out.push({ index: out.length, t, user, preferred: prefs[user]!, dBurst: rand(), dSuccess: rand(), dKind: rand(), dCode: rand() });
  }
  return out;
}

export interface Outcome {
  status: 'success' | 'failure';
  errorCode?: string;
}

/** What happens when checkout `c` pays through `route`: the ground truth at c.t with c's draws. */
export function outcomeOf(world: World, route: number, c: Checkout): Outcome {
  const s = world.scenario;
  const pick = (codes: readonly string[]) => codes[Math.min(codes.length - 1, Math.floor(c.dCode * codes.length))]!;
  const burst = world.routeBursts[route]!.map((i) => s.userErrorBursts![i]!).find((b) => active(b, c.t));
  if (burst && c.dBurst < burst.failureShare) return { status: 'failure', errorCode: pick(DEFAULT_USER_ERROR_CODES) };
  if (c.dSuccess < successRate(world, route, c.t)) return { status: 'success' };
  if (isFailing(world, route, c.t)) return { status: 'failure', errorCode: pick(DEFAULT_SYSTEM_ERROR_CODES) };
  return { status: 'failure', errorCode: pick(c.dKind < s.userFailureShare ? DEFAULT_USER_ERROR_CODES : DEFAULT_SYSTEM_ERROR_CODES) };
}

/** Share of a route's ordinary attempts that speak to its health (successes and system failures). */
export function systemRelevantShare(rate: number, userFailureShare: number): number {
  return rate + (1 - rate) * (1 - userFailureShare);
}

/** Success rate among attempts that count for detection (user failures left out). */
export function systemSuccessRate(rate: number, userFailureShare: number): number {
  const relevant = systemRelevantShare(rate, userFailureShare);
  return relevant > 0 ? rate / relevant : 1;
}
