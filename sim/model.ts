/**
 * The product in-process: the same decisions as the running system, over the same checkouts,
 * in simulated time, so that a thousand generated worlds take minutes rather than days.
 *
 * What is the product's own code here: detection (domain/detection.ts evaluateScopes with the
 * activity's recoveries and counted window), the downtime it starts (common/policy.ts
 * detectedDowntimeInput, the flap guard included), covering and superseding (domain/scope.ts),
 * every look of each actor (domain/actor.ts openingState, decideLook, wokenBy), the probe's read
 * (activities/probe.ts SharedProbeRead), the checkout's answer (api/checkout-plan.ts with the
 * snapshot's blended rates) and the ingest's classification and bucket (domain/failures.ts,
 * domain/bucket.ts).
 *
 * What is modelled: the plumbing between them, as fixed delays (`ModelLags`) — a checkout's
 * outcome reaching the counters, detection's run until the downtime is disabled, the API seeing
 * a change to the downtimes, a wake reaching the actor or detection it wakes — and a single process of each,
 * with no failures. The named scenarios and a sample of generated worlds run on the real stack
 * too (sim/generated.ts `--stack K`), which is how the model is checked.
 */
import { SharedProbeRead } from '../activities/probe';
import { countOutcome } from '../api/counter-writer';
import { zeroCounts } from '../db/counters';
import { blendedRate, FAILOVER_PROBE_FRACTION, routeKey, routeRates } from '../api/snapshot';
import { CoverIndex, CoverableDowntime, CheckoutPlan, answerJson, bucketTests, buildCheckoutPlan } from '../api/checkout-plan';
import { loadConfig } from '../common/config';
import { actorFacts } from '../common/definitions';
import { detectedDowntimeInput, detectionEvidence, detectionSettings } from '../common/policy';
import {
  ActorFacts,
  ActorState,
  Outcome,
  PreviousDowntime,
  RouteCounter,
  SOONEST_LOOK_FRACTION,
  ScopeHealth,
  bucketOf,
  classifyOutcome,
  decideLook,
  evidenceSpanOf,
  judgeScopes,
  measuredOutage,
  nextWakeAt,
  openingState,
  placeFinding,
  reEnabled,
  supersededState,
  wakesDetection,
  wideWindowOf,
  withEvidence,
  withoutWidening,
  wokenBy,
} from '../domain';
import type { PolicyDowntime, PolicyRun } from './baseline';
import { emptyRun } from './baseline';
import { OptionsBody, payWith } from './closed-loop';
import { PROFILE_ENV } from './profile';
import { hashUniform } from './random';
import type { Scenario } from './scenario';
import { Checkout, World, outcomeOf, userId } from './truth';

/** The stack's plumbing as delays, in seconds (measured on the stack; see docs/design/generated-worlds.md). */
export interface ModelLags {
  /** A checkout's outcome to the counters: the checkout's batching (200 ms) and the ingest. */
  ingestSec: number;
  /** A detection run's reads until its downtime is disabled (workflow start, first step). */
  openSec: number;
  /** A write to the downtimes until the API's snapshot shows it (DOWNTIME_REFRESH). */
  viewSec: number;
  /** A counted outcome until what it wakes runs: the actor's look, or detection (domain/detection.ts wakesDetection). */
  wakeSec: number;
}

export const MODEL_LAGS: ModelLags = { ingestSec: 0.3, openSec: 0.25, viewSec: 0.2, wakeSec: 0.1 };

/** Simulated time 0 as epoch ms, before each world's phase (the product's clocks are epoch ms). */
const T0 = Date.UTC(2026, 0, 1);

interface ModelDowntime {
  record: PolicyDowntime;
  facts: ActorFacts;
  state: ActorState;
  /** The probe shares the API has shown, each from when (epoch ms). */
  shares: { from: number; percent: number }[];
  /** When a probe wake reaches the actor (epoch ms); Infinity when none is due. */
  wakeAt: number;
  lastWakeAt: number;
  signalled: { success: boolean; outcome: boolean };
}

/** Counters by bucket start, each bucket's by route (the database's counter documents, summed). */
class Counters {
  private readonly buckets = new Map<number, Map<string, RouteCounter>>();
  constructor(private readonly bucketMs: number) {}

  add(method: string, gateway: string, at: number, outcome: Outcome, downtimeId: string | undefined, bucket: 'A' | 'B' | undefined): void {
    const bucketStart = Math.floor(at / this.bucketMs) * this.bucketMs;
    let routes = this.buckets.get(bucketStart);
    if (!routes) this.buckets.set(bucketStart, (routes = new Map()));
    const key = routeKey(method, gateway);
    let c = routes.get(key);
    if (!c) routes.set(key, (c = { method, gateway, bucketStart, ...zeroCounts() }));
    countOutcome(c, { outcome, downtimeId, bucket });
  }

  /** The counters of buckets starting in [from, to] (db/counters.ts readCounters); read them before the next `add`. */
  read(from: number, to: number): RouteCounter[] {
    const out: RouteCounter[] = [];
    for (let b = Math.ceil(from / this.bucketMs) * this.bucketMs; b <= to; b += this.bucketMs) {
      const routes = this.buckets.get(b);
      if (routes) for (const c of routes.values()) out.push(c);
    }
    return out;
  }
}

/**
 * Runs the product's decisions over `checkouts` (sorted by time) up to `durationSec`, after the
 * `history` the real run backfills (its posted part, through each method's first gateway).
 */
export function runProductModel(world: World, checkouts: readonly Checkout[], durationSec: number, history: readonly Checkout[], lags: ModelLags = MODEL_LAGS, env: Record<string, string> = PROFILE_ENV): PolicyRun {
  const config = loadConfig(env);
  const settings = detectionSettings(config);
  const bucketMs = config.detection.counterBucketMs;
  const topo = world.topology;
  const scenario: Scenario = world.scenario;
  // A real run starts at any instant: its detection runs and counter buckets fall anywhere
  // against the outages, so each world gets its own phase against them.
  const t0 = T0 + Math.floor(hashUniform(`${scenario.seed}|model-phase`) * 60_000);
  const ms = (t: number) => t0 + Math.round(t * 1000);
  const sec = (at: number) => (at - t0) / 1000;
  const run = emptyRun('product', checkouts.length);
  const counters = new Counters(bucketMs);
  const routeIndex = new Map(world.routes.map((r) => [r.key, r.index]));
  const freezes = (scenario.freezeWindows ?? []).map((f) => ({ from: ms(f.startSec), to: ms(f.endSec) }));
  const inFreeze = (at: number) => freezes.some((f) => at >= f.from && at < f.to);
  const minGapMs = config.probe.intervalMs * SOONEST_LOOK_FRACTION;

  const open: ModelDowntime[] = [];
  /** Every downtime, for the API's view (which lags) and detection's recoveries and flap guard. */
  const all: ModelDowntime[] = [];

  for (const c of history) {
    const route = world.methodRoutes[c.preferred]![0]!;
    const o = outcomeOf(world, route.index, c);
    counters.add(route.method, route.gateway, ms(c.t), classifyOutcome(o.status, o.errorCode), undefined, undefined);
  }

  // --- The API's view: downtimes disabled and not yet re-enabled, as of `lags.viewSec` ago. ---
  let plan: { key: string; plan: CheckoutPlan; cover: CoverIndex<CoverableDowntime>; answers: Map<string, OptionsBody> } | undefined;
  let ratesAt = -Infinity;
  let rates = new Map<string, number>();
  const refreshRates = (at: number) => {
    const from = Math.floor((at - config.detection.windowMs) / bucketMs) * bucketMs;
    rates = new Map([...routeRates(counters.read(from, at))].map(([k, r]) => [k, blendedRate(r.successes, r.systemFailures)]));
    ratesAt = at;
    plan = undefined;
  };
  /** When changes to the downtimes become visible to the API, for those not yet in its view. */
  let unseen: number[] = [];
  const changed = (at: number) => unseen.push(at + lags.viewSec * 1000);
  const viewAt = (at: number) => {
    if (at - ratesAt >= config.snapshotRefreshMs) refreshRates(at);
    if (plan && !unseen.some((v) => v <= at)) return plan;
    unseen = unseen.filter((v) => v > at);
    const seen = at - lags.viewSec * 1000;
    const shown: CoverableDowntime[] = [];
    for (const d of all) {
      const disabledAt = ms(d.record.disabledAt!);
      if (disabledAt > seen || (d.record.resolvedAt !== undefined && ms(d.record.resolvedAt) <= seen)) continue;
      let percent = d.shares[0]!.percent;
      for (const s of d.shares) if (s.from <= seen) percent = s.percent;
      shown.push({ id: d.record.id, scope: d.record.scope, probePercent: percent, disabledAt });
    }
    const key = shown.map((d) => `${d.id}:${d.probePercent}`).join(',');
    if (plan?.key !== key) {
      const cover = new CoverIndex(shown, topo);
      const built = buildCheckoutPlan(scenario.catalog, cover, {
        failoverProbeFraction: FAILOVER_PROBE_FRACTION,
        warning: (m) => m,
        rate: (r) => rates.get(routeKey(r.method, r.gateway)) ?? blendedRate(0, 0),
      });
      plan = { key, plan: built, cover, answers: new Map() };
    }
    return plan;
  };

  // --- Outcomes on their way to the counters. ---
  const inFlight: { at: number; method: string; gateway: string; outcome: Outcome; downtimeId?: string; bucket?: 'A' | 'B' }[] = [];
  let flushed = 0;
  /** When a failure's wake reaches detection (epoch ms); Infinity when none is due. */
  let detectionWakeAt = Infinity;
  let lastDetectionWake = -Infinity;
  const count = (upTo: number) => {
    for (; flushed < inFlight.length && inFlight[flushed]!.at <= upTo; flushed += 1) {
      const t = inFlight[flushed]!;
      counters.add(t.method, t.gateway, t.at - lags.ingestSec * 1000, t.outcome, t.downtimeId, t.bucket);
      if (config.detection.wakeGapMs > 0 && wakesDetection(t.outcome, t.downtimeId !== undefined, lags.ingestSec * 1000, config.detection.windowMs)) {
        detectionWakeAt = Math.min(detectionWakeAt, Math.max(t.at + lags.wakeSec * 1000, lastDetectionWake + config.detection.wakeGapMs));
      }
      if (t.bucket !== 'B' || t.outcome === 'user_failure') continue;
      const d = open.find((x) => x.record.id === t.downtimeId);
      if (!d) continue;
      const success = t.outcome === 'success';
      d.signalled.success ||= success;
      d.signalled.outcome = true;
      if (wokenBy(d.state, d.signalled)) d.wakeAt = Math.min(d.wakeAt, Math.max(t.at + lags.wakeSec * 1000, d.lastWakeAt + minGapMs));
    }
  };

  // --- The actors. ---
  const close = (d: ModelDowntime, at: number) => {
    d.record.resolvedAt = sec(at);
    d.record.endReason = d.state.closing!.reason;
    d.record.supersededBy = d.state.closing!.supersededBy;
    open.splice(open.indexOf(d), 1);
    changed(at);
  };
  const look = (d: ModelDowntime, at: number) => {
    d.signalled = { success: false, outcome: false };
    d.wakeAt = Infinity;
    d.lastWakeAt = at;
    const bucketStart = Math.floor(at / bucketMs) * bucketMs;
    const from = d.state.probeSince - bucketMs + 1;
    const shared = new SharedProbeRead(counters.read(from, at), topo, []);
    const read = { ...shared.outcomes(d.facts.scope, from, at), inFreeze: inFreeze(at), bucketStart, inBucket: shared.outcomes(d.facts.scope, bucketStart, at) };
    const before = d.state.probePercent;
    d.state = decideLook(d.state, read, at, d.facts).state;
    if (d.state.probePercent !== before) {
      d.shares.push({ from: at, percent: d.state.probePercent });
      changed(at);
    }
    if (d.state.closing) close(d, at);
  };
  const dueAt = (d: ModelDowntime) => Math.min(nextWakeAt(d.state, d.facts), d.wakeAt);

  // --- Detection. ---
  const previousOf = (key: string): PreviousDowntime | undefined => {
    const prev = all.filter((d) => d.record.scopeKey === key && d.record.resolvedAt !== undefined).pop();
    return prev ? { id: prev.record.id, resolvedAt: ms(prev.record.resolvedAt!), expiryMs: prev.facts.policy.expiryMs } : undefined;
  };
  const start = (health: ScopeHealth, at: number, narrower: readonly ModelDowntime[]) => {
    const input = detectedDowntimeInput(config, health, at, `model-${all.length + 1}`, previousOf(health.key));
    const facts = actorFacts(input);
    const disabledAt = at + lags.openSec * 1000;
    const { state } = openingState(facts, disabledAt);
    const d: ModelDowntime = {
      record: { id: input.downtimeId, scopeKey: input.scopeKey, scope: input.scope, origin: 'detected', openedAt: sec(at), disabledAt: sec(disabledAt), reopensId: input.reopensId },
      facts,
      state,
      shares: [{ from: disabledAt, percent: state.probePercent }],
      wakeAt: Infinity,
      lastWakeAt: -Infinity,
      signalled: { success: false, outcome: false },
    };
    // A superseded actor closes as soon as it is told.
    for (const x of narrower) {
      x.state = supersededState(x.state, d.record.id);
      close(x, disabledAt);
    }
    open.push(d);
    all.push(d);
    changed(disabledAt);
  };
  const detect = (at: number) => {
    const wide = wideWindowOf(settings);
    const ended = all.filter((d) => d.record.resolvedAt !== undefined && ms(d.record.resolvedAt) >= at - wide);
    const { recoveries, watches } = reEnabled(ended.map((d) => ({ scope: d.record.scope, at: ms(d.record.resolvedAt!), endReason: d.state.closing!.reason, baseline: d.facts.baseline, outage: measuredOutage(d.state, d.facts) })));
    const verdict = judgeScopes(counters.read(at - evidenceSpanOf(settings), at), recoveries, at, settings, bucketMs, topo, watches);
    const disabled = open.filter((d) => ms(d.record.disabledAt!) <= at).map((d) => ({ scopeKey: d.record.scopeKey, scope: d.record.scope }));
    for (const health of withoutWidening(verdict.failing, disabled, topo)) {
      // The scope's own open downtime is fed (its workflow id is the scope's), as is a broader one.
      const { covering, narrower } = placeFinding(open.map((d) => ({ scopeKey: d.record.scopeKey, scope: d.record.scope, d })), health, topo);
      const feeds = open.find((d) => d.record.scopeKey === health.key) ?? covering?.d;
      if (feeds) feeds.state = withEvidence(feeds.state, detectionEvidence(config, health, at).trafficShare);
      else start(health, at, narrower.map((x) => x.d));
    }
  };

  // --- The loop: every step of the system due before a checkout runs before it. ---
  const intervalMs = config.detection.intervalMs;
  let nextDetection = Math.ceil(ms(0) / intervalMs) * intervalMs;
  const advance = (to: number) => {
    for (;;) {
      const actor = open.reduce<ModelDowntime | undefined>((best, d) => (best === undefined || dueAt(d) < dueAt(best) ? d : best), undefined);
      const actorAt = actor ? dueAt(actor) : Infinity;
      const detectionAt = Math.min(nextDetection, detectionWakeAt);
      const next = Math.min(detectionAt, actorAt);
      if (next > to) break;
      count(next);
      if (actor && actorAt <= detectionAt) look(actor, actorAt);
      else if (detectionWakeAt < nextDetection) {
        // A run woken from the ingest (domain/detection.ts wakesDetection); the Schedule's go on.
        lastDetectionWake = detectionWakeAt;
        detectionWakeAt = Infinity;
        detect(lastDetectionWake);
      } else {
        detect(nextDetection);
        nextDetection += intervalMs;
      }
    }
    count(to);
  };

  for (const c of checkouts) {
    if (c.t >= durationSec) break;
    const at = ms(c.t);
    advance(at);
    const view = viewAt(at);
    // A user's answer depends only on which of the plan's bucket tests they are in.
    const user = userId(c.user);
    const tests = bucketTests(view.plan, user).join('');
    let body = view.answers.get(tests);
    if (!body) view.answers.set(tests, (body = JSON.parse(answerJson(view.plan, user)) as OptionsBody));
    const paid = payWith(world, routeIndex, run, c, body.options);
    if (paid === undefined || typeof paid === 'string') continue;
    const route = { method: paid.choice.method, gateway: paid.choice.gateway };
    const covering = view.cover.covering(route, at)[0];
    inFlight.push({
      at: at + lags.ingestSec * 1000,
      ...route,
      outcome: classifyOutcome(paid.outcome.status, paid.outcome.errorCode),
      ...(covering ? { downtimeId: covering.id, bucket: bucketOf(user, covering.id, covering.probePercent) } : {}),
    });
  }
  advance(ms(durationSec));
  run.downtimes = all.map((d) => d.record);
  return run;
}
