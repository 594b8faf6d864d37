/**
 * Relapse: has a scope just proven healthy gone back to the outage it recovered from?
 *
 * Detection judges a scope on windows that must hold `minAttempts`, at a level meant for every
 * scope at every moment. A scope that has just recovered is a narrower question with a known
 * answer shape: the outage it came back from has a measured success rate. A flapping card fails
 * again seconds after its re-enable, and a quiet method needs many seconds to gather the
 * windows' minimum while each of its attempts fails. So, for the wide window after a recovery,
 * the scope's own outcomes since the recovery run through a CUSUM over counter buckets:
 *
 *   H0: p = baseline               (healthy, as proven)
 *   H1: p = outage                 (the rate measured while it was failing)
 *   per bucket: llr = s ln(outage/baseline) + f ln((1-outage)/(1-baseline))
 *   S = max(0, S + llr); a relapse when S reaches h
 *
 * Under H0 the likelihood ratio from any bucket on is a martingale of mean 1, so it reaches e^h
 * with probability at most e^-h (Ville). The CUSUM is the largest of those ratios over the
 * starting buckets, at most `watch / bucket` of them, so h = ln(starts / alpha) keeps the chance
 * of a false relapse over the whole watch at or below alpha, the detection's own level. During a
 * hard outage (1% against 95%) one failure weighs ln(0.99/0.05), about 3, so a relapse is
 * three or four failures, within a second or two of a busy scope's traffic or the first few
 * attempts of a quiet one; a partial one (60% against 95%) takes a dozen attempts or so.
 * User-caused failures never count, as in detection. A scope re-enabled at its expiry without
 * proof of health is watched the same way (`reEnabled`): a quiet scope whose probe saw too little
 * to prove anything before the expiry, still failing, reopens on its first few failures.
 */
import type { DetectionSettings, RouteCounter, ScopeHealth } from './detection';
import type { EndReason } from './lifecycle';
import { NO_TOPOLOGY, Scope, Topology, modeOf, scopeCovers, scopeKey, scopeMatchesRoute } from './scope';
import { binomialLogLikelihoodRatio, normalUpperTail, proportion, wilsonUpper } from './stats';

/** A recovered scope under watch: what it was measured at while healthy and while failing. */
export interface RelapseWatch {
  scope: Scope;
  /** When it was proven healthy. */
  at: number;
  /** The scope's baseline success rate (H0). */
  baseline: number;
  /** The success rate measured while it was failing (H1). */
  outage: number;
}

/**
 * Detection's view of the downtimes that ended in the wide window: the recoveries (through the
 * probe or an operator), which overrule the evidence before them, and the watches, which are those
 * and the expiries: a scope re-enabled at its expiry without proof of health that is still
 * failing reopens on its first few failures, where a quiet one would wait for the windows to
 * fill. Only downtimes that measured their outage are watched.
 */
export function reEnabled(ended: readonly { scope: Scope; at: number; endReason: EndReason; baseline: number; outage?: number }[]): { recoveries: { scope: Scope; at: number }[]; watches: RelapseWatch[] } {
  const recoveries = ended.filter((d) => RECOVERY_ENDS.includes(d.endReason)).map((d) => ({ scope: d.scope, at: d.at }));
  const watches = ended.flatMap((d) => (d.outage !== undefined && WATCHED_ENDS.includes(d.endReason) ? [{ scope: d.scope, at: d.at, baseline: d.baseline, outage: d.outage }] : []));
  return { recoveries, watches };
}

/** End reasons that prove the scope healthy (through the probe or an operator): they overrule the evidence before them. */
const RECOVERY_ENDS: readonly EndReason[] = ['recovered', 'manual'];

/** How the downtimes detection reads ended (`reEnabled`): the recoveries, and the expiries it only watches. */
export const WATCHED_ENDS: readonly EndReason[] = [...RECOVERY_ENDS, 'expired'];

/** The CUSUM's bound h for a watch of `watchMs` in buckets of `bucketMs` at false-relapse rate `alpha` (see above). */
export function relapseBound(watchMs: number, bucketMs: number, alpha: number): number {
  const starts = Math.max(1, Math.ceil(watchMs / Math.max(1, bucketMs)));
  const a = Number.isFinite(alpha) ? Math.min(0.5, Math.max(1e-12, alpha)) : 0.01;
  return Math.log(starts / a);
}

interface Run {
  successes: number;
  attempts: number;
  /** Start of the run's first bucket. */
  from: number;
  /** The CUSUM statistic at the run's last bucket and the most it reached in the run. */
  cusum: number;
  peak: number;
  /** Each route's outcomes in the run, by "method@gateway". */
  routes: Map<string, { method: string; gateway: string; successes: number; failures: number }>;
}

const emptyRun = (from: number): Run => ({ successes: 0, attempts: 0, from, cusum: 0, peak: 0, routes: new Map() });

/**
 * The CUSUM's current run over the watched scope's uncovered buckets starting at or after the
 * recovery (the bucket holding it mixes both sides) and at or before `now`: the outcomes since
 * the statistic last fell to zero. Undefined when the hypotheses cannot be told apart.
 */
export function relapseRun(counters: readonly RouteCounter[], w: RelapseWatch, now: number, bucketMs: number, topo: Topology = NO_TOPOLOGY): Run | undefined {
  if (!(Number.isFinite(w.baseline) && Number.isFinite(w.outage) && w.outage >= 0 && w.outage < w.baseline && w.baseline <= 1)) return undefined;
  const firstBucket = Math.ceil(w.at / bucketMs) * bucketMs;
  const buckets = new Map<number, RouteCounter[]>();
  for (const c of counters) {
    if (c.bucketStart < firstBucket || c.bucketStart > now || c.covered > 0 || !scopeMatchesRoute(w.scope, c, topo)) continue;
    const list = buckets.get(c.bucketStart) ?? [];
    list.push(c);
    buckets.set(c.bucketStart, list);
  }
  let run = emptyRun(firstBucket);
  for (const start of [...buckets.keys()].sort((a, b) => a - b)) {
    const list = buckets.get(start)!;
    const successes = list.reduce((n, c) => n + c.success, 0);
    const failures = list.reduce((n, c) => n + c.systemFailure, 0);
    const cusum = run.cusum + binomialLogLikelihoodRatio(successes, failures, w.outage, w.baseline);
    if (cusum <= 0) {
      run = emptyRun(start + bucketMs);
      continue;
    }
    if (run.attempts === 0) run.from = start;
    run.successes += successes;
    run.attempts += successes + failures;
    run.cusum = cusum;
    run.peak = Math.max(run.peak, cusum);
    for (const c of list) {
      const id = `${c.method}@${c.gateway}`;
      const r = run.routes.get(id) ?? { method: c.method, gateway: c.gateway, successes: 0, failures: 0 };
      r.successes += c.success;
      r.failures += c.systemFailure;
      run.routes.set(id, r);
    }
  }
  return run;
}

/**
 * Did the whole scope relapse? Each of its routes with outcomes in the run leans toward the
 * outage (its own llr above zero). A broad scope's pooled run can reach the bound on one busy
 * route's failures while its other routes are fine: that is a narrower outage, which detection's
 * roll-up judges, and hiding the broad scope for it would hide the routes that still work.
 */
function relapsedWhole(run: Run, w: RelapseWatch): boolean {
  return [...run.routes.values()].every((r) => r.successes + r.failures === 0 || leansToOutage(r.successes, r.failures, w));
}

const leansToOutage = (successes: number, failures: number, w: RelapseWatch) => binomialLogLikelihoodRatio(successes, failures, w.outage, w.baseline) > 0;

/**
 * Is the relapse the scope's own? Not when the other routes of the gateways it failed on lean
 * toward the outage too, pooled over the run: all of them (the gateway is failing), or those of
 * the relapsed routes' modes (the mode on that gateway is). Then a method that only its failing
 * gateway carried right now would be hidden on its healthy gateways too, while detection's
 * roll-up finds the broad scope within a look or two.
 */
function ownRelapse(counters: readonly RouteCounter[], run: Run, w: RelapseWatch, now: number, topo: Topology): boolean {
  const routes = [...run.routes.values()];
  const gateways = new Set(routes.map((r) => r.gateway));
  const modes = new Set(routes.map((r) => `${modeOf(r.method)}@${r.gateway}`));
  const all = { successes: 0, failures: 0 };
  const sameMode = { successes: 0, failures: 0 };
  for (const c of counters) {
    if (c.bucketStart < run.from || c.bucketStart > now || c.covered > 0 || !gateways.has(c.gateway) || scopeMatchesRoute(w.scope, c, topo)) continue;
    for (const pool of modes.has(`${modeOf(c.method)}@${c.gateway}`) ? [all, sameMode] : [all]) {
      pool.successes += c.success;
      pool.failures += c.systemFailure;
    }
  }
  return !leansToOutage(all.successes, all.failures, w) && !leansToOutage(sameMode.successes, sameMode.failures, w);
}

/**
 * The scope to reopen: where the run saw outcomes on one gateway only and the scope could be
 * carried by others, that gateway's part of it. The outcomes cannot tell "down everywhere" from
 * "down on the gateway its users prefer", and the roll-up reads one gateway's failures the same
 * way: hidden there, its users fail over, and if the others fail too, their own failures reopen
 * them within a few attempts (the watch goes on, less the covered buckets).
 */
function relapsedScope(run: Run, w: RelapseWatch, topo: Topology): Scope {
  if (w.scope.gateway !== undefined || w.scope.aggregator !== undefined) return w.scope;
  const gateways = new Set([...run.routes.values()].filter((r) => r.successes + r.failures > 0).map((r) => r.gateway));
  if (gateways.size !== 1) return w.scope;
  const only = topo.methodGateways?.[w.scope.method ?? ''];
  if (w.scope.method !== undefined && only !== undefined && only.length <= 1) return w.scope;
  return { ...w.scope, gateway: [...gateways][0]! };
}

/**
 * The watched scopes that relapsed by `now`, as failing findings: counts over the CUSUM's run,
 * its window from the run's first bucket, its traffic share against every route's attempts
 * over that span; only where every route with outcomes in the run leans toward the outage and
 * the other routes of their gateways do not (see `relapsedWhole`, `ownRelapse`), narrowed to the
 * one gateway it was seen failing on (`relapsedScope`). A watch is dropped when a later one
 * covers its scope (the later recovery proved it healthy again since), and starts again from a
 * later one inside it; the watch lasts the wide window the callers pass recoveries over, at the
 * detection's level (`s.z`).
 */
export function relapses(counters: readonly RouteCounter[], watches: readonly RelapseWatch[], now: number, s: DetectionSettings, watchMs: number, bucketMs: number, topo: Topology = NO_TOPOLOGY): ScopeHealth[] {
  const h = relapseBound(watchMs, bucketMs, normalUpperTail(s.z));
  const found: ScopeHealth[] = [];
  if (watches.length === 0) return found;
  // One pass over the counters: a run reads only uncovered buckets since the earliest watch, and
  // a watch on a method only that method's routes (detection may watch many at once).
  const earliest = Math.min(...watches.map((w) => w.at)) - bucketMs;
  const watched = counters.filter((c) => c.bucketStart >= earliest && c.bucketStart <= now && c.covered === 0);
  const byMethod = new Map<string, RouteCounter[]>();
  for (const c of watched) {
    const list = byMethod.get(c.method);
    if (list) list.push(c);
    else byMethod.set(c.method, [c]);
  }
  for (const w of watches) {
    const later = watches.filter((o) => o !== w && o.at > w.at);
    if (later.some((o) => scopeCovers(o.scope, w.scope, topo))) continue;
    // A part of the scope re-enabled since (the gateway a relapse was narrowed to): the run starts again then.
    const since = Math.max(w.at, ...later.filter((o) => scopeCovers(w.scope, o.scope, topo)).map((o) => o.at));
    const run = relapseRun(w.scope.method !== undefined ? (byMethod.get(w.scope.method) ?? []) : watched, { ...w, at: since }, now, bucketMs, topo);
    if (!run || run.peak < h || run.attempts === 0 || !relapsedWhole(run, w) || !ownRelapse(counters, run, w, now, topo)) continue;
    const total = counters.reduce((n, c) => (c.bucketStart >= run.from && c.bucketStart <= now ? n + c.success + c.systemFailure : n), 0);
    const scope = relapsedScope(run, w, topo);
    found.push({
      scope,
      key: scopeKey(scope),
      attempts: run.attempts,
      successes: run.successes,
      rate: proportion(run.successes, run.attempts, w.baseline),
      baseline: w.baseline,
      threshold: w.baseline * (1 - s.degradation),
      upper: wilsonUpper(run.successes, run.attempts, s.z),
      failing: true,
      trafficShare: proportion(run.attempts, total, 0),
      windowMs: Math.max(bucketMs, now - run.from),
    });
  }
  return found;
}
