/**
 * Detection: which scopes are failing right now, judged against each scope's own baseline.
 *
 * Counters are kept per route per time bucket at ingest, so one evaluation costs
 * O(counters + scopes x routes), never O(transactions). A scope fails on statistical
 * evidence, not a bare threshold: even the optimistic (upper) Wilson bound of its current
 * success rate must sit below `baseline * (1 - degradation)`. Then a roll-up reports the
 * broadest scopes that explain the failures, so one gateway outage opens one downtime, not
 * one per route.
 *
 * Three windows, as multi-window alerting does: the detection window catches a moderate
 * degradation once enough of it has accumulated; its recent half catches the same degradation
 * once the half holds enough of it, without waiting until it outweighs the healthy minutes
 * still in the older half; and a short window (a quarter by default) catches a severe drop
 * (twice the degradation) within seconds. All use the same test and minimum volume. A scope
 * too quiet to hold the minimum volume in the detection window is judged over a wide window (three
 * detection windows by default) instead, so a small bank or UPI app is not left undetected for
 * want of attempts; only while its few recent attempts are failing too, so an outage that ended
 * does not open a downtime on the older evidence still in the wide window.
 */
import { NO_TOPOLOGY, Route, Scope, Topology, candidateScopes, isValidRoute, modeOf, processorOf, scopeAttributes, scopeBreadth, scopeCovers, scopeKey, scopeKind, scopeMatchesRoute } from './scope';
import { RelapseWatch, relapses } from './relapse';
import { proportion, provenBelow, wilsonUpper } from './stats';
import type { Outcome } from './failures';

/** Outcomes of one route in one time bucket. */
export interface RouteCounter {
  method: string;
  gateway: string;
  bucketStart: number;
  success: number;
  systemFailure: number;
  userFailure: number;
  /** Outcomes of bucket-B (probe) users while covered; a subset of success/systemFailure. */
  probeSuccess: number;
  probeFailure: number;
  /** Attempts made while the route was under an open downtime; such buckets are not learned from. */
  covered: number;
}

export interface DetectionSettings {
  windowMs: number;
  baselineWindowMs: number;
  minAttempts: number;
  /** Prior success rate, used where a scope has little history (e.g. 0.95). */
  defaultBaseline: number;
  /** Weight of the prior, in pseudo-attempts (e.g. 50). */
  baselinePriorWeight: number;
  /** Relative drop from baseline that counts as failing (e.g. 0.15). */
  degradation: number;
  /** One-sided normal quantile of the test (e.g. Z_99_ONE_SIDED). */
  z: number;
  /** Share of a broad scope's traffic that must be in bad routes for the broad scope to explain it (e.g. 0.8). */
  coverage: number;
  /** The short window for severe drops; default a quarter of windowMs. 0 turns it off. */
  fastWindowMs?: number;
  /** Relative drop the short window must show; default twice `degradation` (at most 0.9). */
  fastDegradation?: number;
  /** The recent window, judged at `degradation`; default half of windowMs. 0 turns it off. */
  recentWindowMs?: number;
  /** The window a scope short of `minAttempts` in the detection window is judged over; default three detection windows. 0 turns it off. */
  wideWindowMs?: number;
}

/** A scope proven healthy at `at`: its downtime recovered through the probe, or an operator resolved it. */
export interface Recovery {
  scope: Scope;
  at: number;
}

/**
 * The counters without the evidence a recovery has overruled: outcomes of routes the recovered
 * scope covers, in detection-window buckets that start before the recovery (the bucket holding
 * it mixes both sides, so it goes too). Without this the outage's failures, still in the window,
 * reopen the scope the moment it is re-enabled; with it the scope is judged again on what
 * happened since, once there is enough of it. Older buckets (the baseline's) are kept.
 */
export function withoutOverruledEvidence(counters: RouteCounter[], recoveries: readonly Recovery[], now: number, windowMs: number, topo: Topology = NO_TOPOLOGY): RouteCounter[] {
  if (recoveries.length === 0) return counters;
  const windowStart = now - windowMs;
  return counters.filter(
    (c) => c.bucketStart < windowStart || !recoveries.some((r) => c.bucketStart < r.at && scopeMatchesRoute(r.scope, c, topo)),
  );
}

/**
 * A failing scope's window as it was counted: a scope a recovery covers lost the buckets before
 * that recovery (`withoutOverruledEvidence`), so its counts span only the buckets since, the
 * first starting at or after the recovery. Its `windowMs` says so, and what divides its attempts
 * into a rate (the probe's floor share, its prompt looks) is the scope's real traffic: a flap
 * that reopens eight seconds after its re-enable has eight seconds of counts, not twenty. Its
 * `trafficShare` (a severity input) is likewise its rate of attempts against the others' over
 * the window, not its few seconds of attempts against the whole window's total.
 */
export function countedWindow(health: ScopeHealth, recoveries: readonly Recovery[], now: number, bucketMs: number, topo: Topology = NO_TOPOLOGY): ScopeHealth {
  if (health.windowMs === undefined || !(bucketMs > 0)) return health;
  let countedFrom = -Infinity;
  for (const r of recoveries) {
    if (scopeCovers(r.scope, health.scope, topo)) countedFrom = Math.max(countedFrom, Math.ceil(r.at / bucketMs) * bucketMs);
  }
  const span = Math.max(bucketMs, now - countedFrom);
  if (span >= health.windowMs) return health;
  // The others' attempts span the whole window, the scope's only `span`: compare them as rates.
  const share = health.trafficShare;
  const trafficShare = share > 0 && share < 1 ? (share * health.windowMs) / (share * health.windowMs + span * (1 - share)) : share;
  return { ...health, windowMs: span, trafficShare };
}

/** The wide window's length, with its default (three detection windows); never shorter than the detection window. */
export function wideWindowOf(s: DetectionSettings): number {
  return Math.max(s.windowMs, s.wideWindowMs ?? 3 * s.windowMs);
}

/**
 * Detection's findings and the healthy scopes at `now`, from the counters since
 * `now - evidenceSpanOf(s)` (the windows and the baseline) and the recoveries in the wide window:
 * the evidence they overrule is dropped, and each failing scope's window is the one it was
 * counted over (see `withoutOverruledEvidence`, `countedWindow`). A watched scope (re-enabled in
 * the wide window, see domain/relapse.ts) that relapsed (`relapses`) is failing too, unless a
 * finding covers it; findings it covers give way to it, as a broader finding's roll-up would.
 */
export function judgeScopes(
  counters: RouteCounter[],
  recoveries: readonly Recovery[],
  now: number,
  s: DetectionSettings,
  bucketMs: number,
  topo: Topology = NO_TOPOLOGY,
  watches: readonly RelapseWatch[] = [],
): DetectionVerdict {
  const wide = wideWindowOf(s);
  const verdict = evaluateScopes(withoutOverruledEvidence(counters, recoveries, now, wide, topo), now, s, topo);
  const failing = verdict.failing.map((h) => countedWindow(h, recoveries, now, bucketMs, topo));
  const relapsed = relapses(counters, watches, now, s, wide, bucketMs, topo).filter((r) => !failing.some((f) => scopeCovers(f.scope, r.scope, topo)));
  if (relapsed.length === 0) return { ...verdict, failing };
  const keys = new Set(relapsed.map((r) => r.key));
  return {
    failing: [...failing.filter((f) => !relapsed.some((r) => scopeCovers(r.scope, f.scope, topo))), ...relapsed],
    healthy: verdict.healthy.filter((h) => !keys.has(h.key)),
  };
}

/**
 * Detection is also woken from the ingest, not only run every DETECTION_INTERVAL: a failure the
 * system caused on a route that no downtime covers wakes it at once. Between scheduled runs such
 * a failure waited for the next one, on average half an interval, while every checkout offering
 * the route kept failing. The judgement stays the scheduled run's (the same windows and tests on
 * the counters); only its moment moves. A user's failure says nothing about the route, and a
 * covered route's failures are its downtime's (its probe, or bucket A where the route still
 * shows), which the actor reads. A failure older than the detection window (a late batch) is
 * outside what the run judges.
 */
export function wakesDetection(outcome: Outcome, covered: boolean, ageMs: number, windowMs: number): boolean {
  return outcome === 'system_failure' && !covered && ageMs <= windowMs;
}

/**
 * The shortest time between two woken runs, as a fraction of DETECTION_INTERVAL (the default of
 * DETECTION_WAKE_GAP). A failure within the gap wakes the run at its end. Each run reads and
 * judges every scope, so the gap bounds the extra work to this many runs per interval; and each
 * run is one more look at the same evidence (docs/design/detection.md).
 */
export const DETECTION_WAKE_FRACTION = 0.25;

/** How far back detection reads: the wide window or the detection window with its baseline, whichever starts first. */
export function evidenceSpanOf(s: DetectionSettings): number {
  return Math.max(wideWindowOf(s), s.windowMs + s.baselineWindowMs);
}

/** The recent window's length, with its default (half the detection window). */
export function recentWindowOf(s: DetectionSettings): number {
  return Math.max(0, Math.min(s.windowMs, s.recentWindowMs ?? s.windowMs / 2));
}

/**
 * Where detection's finding on a failing scope goes among the open downtimes: to an open
 * downtime of another scope that covers it (fed as evidence); else to the scope's own downtime,
 * started or fed, which once started supersedes the open narrower downtimes it covers.
 */
export function placeFinding<D extends { scopeKey: string; scope: Scope }>(open: readonly D[], finding: { key: string; scope: Scope }, topo: Topology = NO_TOPOLOGY): { covering?: D; narrower: D[] } {
  const others = open.filter((d) => d.scopeKey !== finding.key);
  const covering = others.find((d) => scopeCovers(d.scope, finding.scope, topo));
  return covering ? { covering, narrower: [] } : { narrower: others.filter((d) => scopeCovers(finding.scope, d.scope, topo)) };
}

/**
 * The findings less those that would only widen open downtimes: a finding that no open downtime
 * covers or is, and that would supersede one (placeFinding's `narrower`), while every route whose
 * failures it explains (`badRoutes`) is already inside a disabled downtime. Such a finding hides
 * more without a failure of its own to hide: its evidence is the covered routes' failures from
 * before they were hidden, and its breadth rests on the few attempts its other routes had in the
 * window (after a downtime opens, its routes' users fail over, and the next runs judge a scope in
 * transition). A finding with a bad route of its own outside them widens as before (a bank seen
 * on one gateway first and then failing on its failover is the bank). Findings without
 * `badRoutes` (a relapse) are kept. `disabled` is the open downtimes that hide their scope now.
 */
export function withoutWidening<F extends { key: string; scope: Scope; badRoutes?: readonly Route[] }>(
  findings: readonly F[],
  disabled: readonly { scopeKey: string; scope: Scope }[],
  topo: Topology = NO_TOPOLOGY,
): F[] {
  if (disabled.length === 0) return [...findings];
  return findings.filter((f) => {
    if (!f.badRoutes || f.badRoutes.length === 0 || disabled.some((d) => d.scopeKey === f.key)) return true;
    const { covering, narrower } = placeFinding(disabled, f, topo);
    if (covering || narrower.length === 0) return true;
    return !f.badRoutes.every((r) => disabled.some((d) => scopeMatchesRoute(d.scope, r, topo)));
  });
}

/** The short window and the drop it needs, with their defaults. */
export function fastWindowOf(s: DetectionSettings): { windowMs: number; degradation: number } {
  return {
    windowMs: Math.max(0, Math.min(s.windowMs, s.fastWindowMs ?? s.windowMs / 4)),
    degradation: Math.min(0.9, Math.max(s.degradation, s.fastDegradation ?? 2 * s.degradation)),
  };
}

export interface ScopeHealth {
  scope: Scope;
  key: string;
  /** System-relevant attempts in the window: successes + system failures. */
  attempts: number;
  successes: number;
  /** successes / attempts, or the baseline when there were none. */
  rate: number;
  baseline: number;
  threshold: number;
  /** Upper Wilson bound of the rate. */
  upper: number;
  /**
   * Statistically failing: enough attempts and `upper < threshold` over the detection window or
   * its recent half, or enough attempts and `upper` below the severe level over the short window
   * (then the counts and rate are that window's).
   */
  failing: boolean;
  /** This scope's share of all attempts in the window. */
  trafficShare: number;
  /** The window the counts are over (the detection window, the recent or the short one); set on failing scopes. */
  windowMs?: number;
  /**
   * A scope failing on a shorter window only: its counts over the whole detection window. A
   * shorter window's counts are selected on a dip (it fails when a few seconds came out far
   * below the baseline), so they say the outage is worse than it is; these are not.
   */
  detectionWindow?: { attempts: number; successes: number };
  /** The routes whose failures a finding of the roll-up explains (its bad routes); absent on a relapse. */
  badRoutes?: Route[];
}

export interface DetectionVerdict {
  /** The roll-up: broadest scopes that explain the failures, none covered by another. */
  failing: ScopeHealth[];
  /** Every evaluated scope that is not statistically failing (for snapshots). */
  healthy: ScopeHealth[];
}

interface Tally {
  successes: number;
  attempts: number;
}

interface RouteAggregate {
  route: Route;
  /** Present only when the route has a counter in the current window. */
  window?: Tally;
  /** Present only when the route has a counter in the recent window. */
  recent?: Tally;
  /** Present only when the route has a counter in the short window. */
  fast?: Tally;
  /** Present only when the route has a counter in the wide window. */
  wide?: Tally;
  baseline: Tally;
  /** The baseline window's part inside the wide window: not a baseline for a scope judged over the wide one. */
  overlap: Tally;
}

const routeId = (r: Route) => `${r.method}@${r.gateway}`;
const routeOfId = (id: string): Route => ({ method: id.slice(0, id.lastIndexOf('@')), gateway: id.slice(id.lastIndexOf('@') + 1) });

/** Attempts that speak to a route's health: user failures never count. */
const attemptsOf = (c: RouteCounter) => c.success + c.systemFailure;

function add(t: Tally, c: RouteCounter): void {
  t.successes += c.success;
  t.attempts += attemptsOf(c);
}

/**
 * Sums counters per route into the current window [now - windowMs, now], its recent and short
 * parts, the wide window [now - wide, now] and the baseline window [now - windowMs -
 * baselineWindowMs, now - windowMs), noting the baseline's part inside the wide window (the
 * wide window's baseline is the rest). Buckets with covered attempts are skipped from the
 * baseline: traffic during a downtime (outage plus probe) is not "normal". So are a route's
 * buckets in which another route of its method was covered: that was failover traffic, and a
 * failover route that only ever carries a method while the method fails (a flapping card) would
 * learn the outage as its baseline and stop looking bad.
 * Malformed routes are skipped so one bad counter cannot take detection down.
 */
function aggregateRoutes(counters: RouteCounter[], now: number, s: DetectionSettings): Map<string, RouteAggregate> {
  const windowStart = now - s.windowMs;
  const fast = fastWindowOf(s);
  const fastStart = now - fast.windowMs;
  const recentMs = recentWindowOf(s);
  const recentStart = now - recentMs;
  const wideStart = now - wideWindowOf(s);
  const baselineStart = windowStart - s.baselineWindowMs;
  const routes = new Map<string, RouteAggregate>();
  // Buckets in which a route of the method was under a downtime: its other routes carried the failover.
  const failedOver = new Set<string>();
  for (const c of counters) if (c.covered > 0) failedOver.add(`${c.method}|${c.bucketStart}`);
  for (const c of counters) {
    if (c.bucketStart > now || c.bucketStart < baselineStart) continue;
    const inWindow = c.bucketStart >= windowStart;
    if (!inWindow && (c.covered > 0 || failedOver.has(`${c.method}|${c.bucketStart}`))) continue;
    const route = { method: c.method, gateway: c.gateway };
    if (!isValidRoute(route)) continue;
    const id = routeId(route);
    let agg = routes.get(id);
    if (!agg) {
      agg = { route, baseline: { successes: 0, attempts: 0 }, overlap: { successes: 0, attempts: 0 } };
      routes.set(id, agg);
    }
    // The wide window is for scopes nobody watches: a covered bucket's attempts are the probe's to judge.
    if (c.bucketStart >= wideStart && c.covered === 0) add((agg.wide ??= { successes: 0, attempts: 0 }), c);
    if (!inWindow) {
      add(agg.baseline, c);
      if (c.bucketStart >= wideStart) add(agg.overlap, c);
      continue;
    }
    add((agg.window ??= { successes: 0, attempts: 0 }), c);
    if (recentMs > 0 && c.bucketStart >= recentStart) add((agg.recent ??= { successes: 0, attempts: 0 }), c);
    if (fast.windowMs > 0 && c.bucketStart >= fastStart) add((agg.fast ??= { successes: 0, attempts: 0 }), c);
  }
  return routes;
}

/**
 * Bayesian smoothing (a Beta prior worth `baselinePriorWeight` attempts at `prior`, the default
 * `defaultBaseline`): a scope with little history gets a baseline near the prior, one with a lot
 * of history gets its own rate, and nothing is estimated from 3 attempts.
 */
function smoothedBaseline(t: Tally, s: DetectionSettings, prior = s.defaultBaseline): number {
  const weight = Math.max(0, s.baselinePriorWeight);
  return proportion(t.successes + weight * prior, t.attempts + weight, prior);
}

/** The baseline window's tally, less its part inside the wide window: the wide window's baseline. */
const beforeWide = (r: RouteAggregate): Tally => ({ successes: r.baseline.successes - r.overlap.successes, attempts: r.baseline.attempts - r.overlap.attempts });

function baselineOf(routes: Iterable<RouteAggregate>, s: DetectionSettings, baselineTally: (r: RouteAggregate) => Tally = (r) => r.baseline): number {
  const sum: Tally = { successes: 0, attempts: 0 };
  for (const r of routes) {
    const t = baselineTally(r);
    sum.successes += t.successes;
    sum.attempts += t.attempts;
  }
  return smoothedBaseline(sum, s);
}

/** The scope's success rate over the baseline window, shrunk toward the default (see smoothedBaseline). */
export function baselineFor(counters: RouteCounter[], scope: Scope, now: number, s: DetectionSettings, topo: Topology = NO_TOPOLOGY): number {
  return baselineOf([...aggregateRoutes(counters, now, s).values()].filter((r) => scopeMatchesRoute(scope, r.route, topo)), s);
}

/**
 * `drop` is the relative drop the upper bound must show to fail; the reported threshold is
 * always the detection one (`degradation`), which the probe later tests recovery against.
 */
function healthOf(scope: Scope, window: Tally, baseline: number, totalAttempts: number, s: DetectionSettings, drop = s.degradation): ScopeHealth {
  const threshold = baseline * (1 - s.degradation);
  const upper = wilsonUpper(window.successes, window.attempts, s.z);
  return {
    scope,
    key: scopeKey(scope),
    attempts: window.attempts,
    successes: window.successes,
    rate: proportion(window.successes, window.attempts, baseline),
    baseline,
    threshold,
    upper,
    failing: window.attempts >= s.minAttempts && window.attempts > 0 && upper < baseline * (1 - drop),
    trafficShare: proportion(window.attempts, totalAttempts, 0),
  };
}

interface Evaluated {
  health: ScopeHealth;
  /** Ids of routes in this scope with attempts in the window. */
  observed: Set<string>;
  /** Ids of the bad routes among them: the failures this scope would explain. */
  bad: Set<string>;
  /** Attempts in this scope that went through bad routes. */
  badAttempts: number;
  /** A route of the scope with at least the minimum attempts is doing fine. */
  holdsHealthyRoute: boolean;
  /** The scope's routes that are not bad, pooled: enough attempts, and not failing as a whole. */
  holdsHealthyTraffic: boolean;
  /** Processor groups (aggregators, or gateways outside one) the scope has data in, and whether the scope's traffic in each, pooled, is bad. */
  processors: Map<string, boolean>;
}

/** Plain code-unit order: unlike localeCompare it cannot vary with the host's locale data. */
const byKey = (a: ScopeHealth, b: ScopeHealth) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

const isSubset = (a: Set<string>, b: Set<string>) => [...a].every((x) => b.has(x));

const asScope = (r: Route): Scope => ({ method: r.method, gateway: r.gateway });

/**
 * A route's or a processor group's traffic is bad: its rate below its threshold, on evidence that
 * it is below its baseline at all (an exact binomial test at the detection's level): a failover
 * gateway's first nine attempts, seven of them paid, are what a healthy 90% bank gives.
 */
function failsOnEvidence(t: Tally, baseline: number, drop: number, s: DetectionSettings): boolean {
  return t.attempts > 0 && t.successes / t.attempts < baseline * (1 - drop) && provenBelow(t.successes, t.attempts, baseline, s.z);
}

/** A candidate scope and its routes: every route whose candidates include it (with data in the window or not). */
interface Candidate {
  scope: Scope;
  routes: RouteAggregate[];
  baseline: number;
}

/** Every candidate scope judged over one window (`tallyOf` picks it) at one drop: O(routes x candidates per route). */
function evaluateWindow(
  candidates: Candidate[],
  tallyOf: (r: RouteAggregate) => Tally | undefined,
  drop: number,
  totalAttempts: number,
  s: DetectionSettings,
  topo: Topology,
  /** The baseline tally of a route when not the baseline window's (the wide window's is shorter). */
  otherBaseline?: (r: RouteAggregate) => Tally,
): Evaluated[] {
  const baselineTally = otherBaseline ?? ((r: RouteAggregate) => r.baseline);
  // A route's baseline leans toward its method's (its method candidate: all its gateways
  // pooled), not the default: a method that really succeeds 80% of the time is not "bad" on the
  // gateway it fails over to because that route has little history of its own.
  const methodBaseline = new Map(
    candidates.filter((c) => scopeKind(c.scope) === 'method').map((c) => [c.scope.method!, otherBaseline ? baselineOf(c.routes, s, otherBaseline) : c.baseline]),
  );
  const routeHealth = new Map<RouteAggregate, ScopeHealth>();
  const healthOfRoute = (r: RouteAggregate) => {
    let h = routeHealth.get(r);
    if (!h) {
      const prior = methodBaseline.get(r.route.method) ?? s.defaultBaseline;
      routeHealth.set(r, (h = healthOf(asScope(r.route), tallyOf(r)!, smoothedBaseline(baselineTally(r), s, prior), totalAttempts, s, drop)));
    }
    return h;
  };
  const isBad = (h: ScopeHealth) => failsOnEvidence(h, h.baseline, drop, s);
  return candidates.map(({ scope, routes, baseline: candidateBaseline }) => {
    const baseline = otherBaseline ? baselineOf(routes, s, otherBaseline) : candidateBaseline;
    const window: Tally = { successes: 0, attempts: 0 };
    const rest: Tally = { successes: 0, attempts: 0 };
    const observed = new Set<string>();
    const bad = new Set<string>();
    const byProcessor = new Map<string, { window: Tally; baseline: Tally }>();
    let badAttempts = 0;
    let holdsHealthyRoute = false;
    for (const r of routes) {
      if (tallyOf(r) === undefined) continue;
      const rh = healthOfRoute(r);
      window.successes += rh.successes;
      window.attempts += rh.attempts;
      if (rh.attempts === 0) continue;
      const id = routeId(r.route);
      const processor = processorOf(r.route, topo);
      let group = byProcessor.get(processor);
      if (!group) byProcessor.set(processor, (group = { window: { successes: 0, attempts: 0 }, baseline: { successes: 0, attempts: 0 } }));
      group.window.successes += rh.successes;
      group.window.attempts += rh.attempts;
      const b = baselineTally(r);
      group.baseline.successes += b.successes;
      group.baseline.attempts += b.attempts;
      observed.add(id);
      if (isBad(rh)) {
        bad.add(id);
        badAttempts += rh.attempts;
      } else {
        rest.successes += rh.successes;
        rest.attempts += rh.attempts;
        if (rh.attempts >= s.minAttempts) holdsHealthyRoute = true;
      }
    }
    const holdsHealthyTraffic = rest.attempts >= s.minAttempts && !healthOf(scope, rest, baseline, totalAttempts, s, drop).failing;
    const processors = new Map([...byProcessor].map(([p, g]) => [p, failsOnEvidence(g.window, smoothedBaseline(g.baseline, s), drop, s)]));
    return { health: healthOf(scope, window, baseline, totalAttempts, s, drop), observed, bad, badAttempts, holdsHealthyRoute, holdsHealthyTraffic, processors };
  });
}

/** Kinds of scope that pin no processor: their breadth across gateways must be earned. */
const ACROSS_PROCESSORS = new Set(['method', 'instrument', 'mode']);
/** Kinds of scope on the processor side only (a gateway, an aggregator). */
const PROCESSOR_ONLY = new Set(['gateway', 'aggregator']);
const processorFirst = (e: Evaluated) => (PROCESSOR_ONLY.has(scopeKind(e.health.scope)) ? 0 : 1);
/** Among equivalent scopes: pinned to a gateway 0, to an aggregator 1, to none 2. */
const processorPin = (s: Scope) => (s.gateway !== undefined ? 0 : s.aggregator !== undefined ? 1 : 2);
/** Among equivalent scopes: naming an attribute 0, a method 1, a mode 2, nothing 3. */
const instrumentNaming = (s: Scope) => (scopeAttributes(s).length > 0 ? 0 : s.method !== undefined ? 1 : s.mode !== undefined ? 2 : 3);

/**
 * Evaluates every candidate scope of every route with data in the window, then rolls up.
 *
 * The candidates of a route are its method, mode and gateway and, from the catalog, its
 * method's attributes (issuer, network, PSP...) alone and on its gateway, and its gateway's
 * aggregator (see candidateScopes); each scope is judged on the routes it contains, so a cycle
 * costs O(routes x candidates per route), whatever the number of scopes.
 *
 * A broad scope explains the failures only if it earns its breadth with evidence that its routes
 * fail, not with the absence of evidence that they work:
 * (1) it is statistically failing;
 * (2) at least `coverage` of its attempts went through bad routes (point rate below the route's
 *     own threshold, on evidence that it is below the route's baseline at all, an exact binomial
 *     test: a route is not bad on one unlucky failure in its first few attempts), so one dead
 *     route cannot drag a healthy gateway down with it;
 * (3) none of its routes with the minimum attempts is doing fine, and its other routes pooled
 *     are not healthy traffic either (enough attempts, not failing): a gateway whose two failing
 *     methods fail while its many small ones work is two downtimes, not the gateway;
 * (4) most of the routes it observes are bad;
 * (5) a scope that pins no processor (a method, a mode, an issuer, a network) and is observed
 *     through two or more processor groups (an aggregator's gateways are one group) fails
 *     through each of them, its traffic there pooled and judged as a route is in (2): cards
 *     failing on one gateway are that gateway's problem, and a mode is never hidden on a healthy
 *     direct gateway because an aggregator failed;
 * (6) it has at least two routes with data, or it is a method: a bank down on its only gateway
 *     is reported as the method, since it is the bank, not that route, that failed; unless
 *     other routes of that gateway are bad too, when the gateway is the likelier culprit and
 *     the route is reported until the gateway's own evidence suffices. A method the catalog
 *     offers on other gateways too is reported as the method only when its gateway is seen
 *     carrying the same mode well (then it is the bank); seen alone there, it is reported as
 *     the route: the failover to its next gateway costs nothing if the gateway failed, and if
 *     the bank did, the next gateway's attempts fail too and the method is seen failing on two.
 * A failing route is reported alone when no explaining scope covers it.
 *
 * Then the scopes explaining the most bad routes come first; on a tie, the one observing the
 * fewest routes; between scopes observing the same routes (equivalent on the evidence), the one
 * pinned to a gateway, then to an aggregator (cards seen only through one gateway fail on that
 * gateway), then the one naming what failed: an attribute (the bank, the network, the UPI app)
 * before a method before a mode; then the processor side (a failure a gateway or an aggregator
 * explains raises no instrument-side downtime); the key decides the rest. And a
 * candidate whose bad routes the kept ones already observe is dropped: its failures are
 * explained. So a gateway outage opens the gateway's downtime, not also one per method or mode
 * whose traffic has just failed over to another gateway, and cards seen only through one
 * gateway fail on that gateway.
 *
 * The detection window, its recent half and the short window are each rolled up this way; a
 * scope failing in any is a candidate (with the longest failing window's figures).
 */
export function evaluateScopes(counters: RouteCounter[], now: number, s: DetectionSettings, topo: Topology = NO_TOPOLOGY): DetectionVerdict {
  const routes = aggregateRoutes(counters, now, s);
  const all = [...routes.values()];
  const active = all.filter((r) => r.wide !== undefined || r.window !== undefined);
  const totalAttempts = all.reduce((n, r) => n + (r.window?.attempts ?? 0), 0);

  // The candidates of the routes with data, each with every route it contains.
  const candidatesOf = new Map(all.map((r) => [r, candidateScopes(r.route, topo).map((scope) => ({ scope, key: scopeKey(scope) }))]));
  const byKeyMap = new Map<string, Candidate>();
  for (const r of active) {
    for (const { scope, key } of candidatesOf.get(r)!) if (!byKeyMap.has(key)) byKeyMap.set(key, { scope, routes: [], baseline: 0 });
  }
  for (const r of all) {
    for (const { key } of candidatesOf.get(r)!) byKeyMap.get(key)?.routes.push(r);
  }
  const candidates = [...byKeyMap.values()];
  // The scopes with data in the detection window: the healthy ones among them are reported.
  const judgedNow = new Set(all.filter((r) => r.window !== undefined).flatMap((r) => candidatesOf.get(r)!.map(({ key }) => key)));
  for (const c of candidates) c.baseline = baselineOf(c.routes, s);

  const explains = (e: Evaluated, window: Map<string, Evaluated>): boolean => {
    const kind = scopeKind(e.health.scope);
    if (kind === 'route' || !e.health.failing || e.holdsHealthyRoute || e.holdsHealthyTraffic) return false;
    const coverage = proportion(e.badAttempts, e.health.attempts, 0);
    if (coverage < s.coverage || 2 * e.bad.size <= e.observed.size) return false;
    if (ACROSS_PROCESSORS.has(kind) && e.processors.size >= 2 && [...e.processors.values()].some((failing) => !failing)) return false;
    if (e.observed.size >= 2) return true;
    if (kind !== 'method') return false;
    // A method seen on one gateway only: the bank, unless that gateway's other routes fail too,
    // or it could fail over elsewhere and nothing shows that gateway carrying its mode well.
    const [only] = e.observed;
    const gateway = only?.slice(only.lastIndexOf('@') + 1);
    const onGateway = gateway ? window.get(scopeKey({ gateway })) : undefined;
    if (onGateway && ![...onGateway.bad].every((id) => id === only)) return false;
    const method = e.health.scope.method!;
    if ((topo.methodGateways?.[method]?.length ?? 1) <= 1) return true;
    const sameMode = gateway ? window.get(scopeKey({ mode: modeOf(method), gateway })) : undefined;
    return sameMode !== undefined && (sameMode.holdsHealthyRoute || sameMode.holdsHealthyTraffic);
  };
  /** The roll-up of one window: explaining broad scopes, and failing routes no such scope covers. */
  const rollUp = (evaluated: Evaluated[]): Evaluated[] => {
    const window = new Map(evaluated.map((e) => [e.health.key, e]));
    const broad = evaluated.filter((e) => explains(e, window));
    const routesAlone = evaluated.filter(
      (e) => scopeKind(e.health.scope) === 'route' && e.health.failing && !broad.some((b) => isSubset(e.observed, b.observed)),
    );
    return [...broad, ...routesAlone];
  };

  const long = evaluateWindow(candidates, (r) => r.window, s.degradation, totalAttempts, s, topo);
  const recentMs = recentWindowOf(s);
  const totalRecent = all.reduce((n, r) => n + (r.recent?.attempts ?? 0), 0);
  const recent = recentMs > 0 ? evaluateWindow(candidates, (r) => r.recent, s.degradation, totalRecent, s, topo) : [];
  const fast = fastWindowOf(s);
  const totalFast = all.reduce((n, r) => n + (r.fast?.attempts ?? 0), 0);
  const severe = fast.windowMs > 0 ? evaluateWindow(candidates, (r) => r.fast, fast.degradation, totalFast, s, topo) : [];
  const fromLong = rollUp(long);
  const seen = new Set(fromLong.map((e) => e.health.key));
  /** A shorter window's roll-up, less the scopes a longer window already reports. */
  const unseen = (evaluated: Evaluated[]) => {
    const found = rollUp(evaluated).filter((e) => !seen.has(e.health.key));
    for (const e of found) seen.add(e.health.key);
    return found;
  };
  const fromRecent = unseen(recent);
  const fromFast = unseen(severe);
  // The wide window judges only the scopes too quiet for the detection window, and only while
  // their recent attempts, if any, are below the threshold too.
  const overLong = new Map(long.map((e) => [e.health.key, e.health]));
  const quiet = (h: ScopeHealth) => {
    const l = overLong.get(h.key);
    return l === undefined || l.attempts === 0 || (l.attempts < s.minAttempts && l.rate < l.threshold);
  };
  const wideMs = wideWindowOf(s);
  const totalWide = all.reduce((n, r) => n + (r.wide?.attempts ?? 0), 0);
  const wide =
    wideMs > s.windowMs
      ? evaluateWindow(candidates, (r) => r.wide, s.degradation, totalWide, s, topo, beforeWide).map((e) => (e.health.failing && !quiet(e.health) ? { ...e, health: { ...e.health, failing: false } } : e))
      : [];
  const fromWide = unseen(wide);

  // Most explained first; then the tightest explanation; then the preference among equivalents (see above).
  const ranked = [...fromLong, ...fromRecent, ...fromFast, ...fromWide].sort(
    (a, b) =>
      b.bad.size - a.bad.size ||
      a.observed.size - b.observed.size ||
      processorPin(a.health.scope) - processorPin(b.health.scope) ||
      instrumentNaming(a.health.scope) - instrumentNaming(b.health.scope) ||
      processorFirst(a) - processorFirst(b) ||
      byKey(a.health, b.health),
  );
  const kept: Evaluated[] = [];
  const explained = new Set<string>();
  for (const c of ranked) {
    if (isSubset(c.bad, explained)) continue;
    kept.push(c);
    for (const id of c.observed) explained.add(id);
  }
  // Reported broadest first, then by key.
  kept.sort((a, b) => scopeBreadth(b.health.scope) - scopeBreadth(a.health.scope) || byKey(a.health, b.health));

  const failingKeys = new Set([...long, ...recent, ...severe, ...wide].filter((e) => e.health.failing).map((e) => e.health.key));
  const shorter = new Map<Evaluated, number>([...fromRecent.map((e) => [e, recentMs] as const), ...fromFast.map((e) => [e, fast.windowMs] as const)]);
  const wider = new Set(fromWide);
  const onShorterWindow = (h: ScopeHealth, windowMs: number): ScopeHealth => {
    const whole = overLong.get(h.key);
    return { ...h, windowMs, ...(whole ? { detectionWindow: { attempts: whole.attempts, successes: whole.successes } } : {}) };
  };
  return {
    failing: kept.map((e) => {
      const health = { ...e.health, badRoutes: [...e.bad].map(routeOfId) };
      if (wider.has(e)) return { ...health, windowMs: wideMs };
      const windowMs = shorter.get(e);
      return windowMs !== undefined ? onShorterWindow(health, windowMs) : { ...health, windowMs: s.windowMs };
    }),
    healthy: long
      .filter((e) => judgedNow.has(e.health.key) && !failingKeys.has(e.health.key))
      .map((e) => e.health)
      .sort(byKey),
  };
}
