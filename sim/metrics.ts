/**
 * The report's arithmetic, the same for the product and the baseline: failures avoided against
 * the no-handling counterfactual, collateral, detection and re-enable delays, false downtimes.
 * Pure functions over the checkout list, a policy's decisions and its downtimes.
 */
import { FAILOVER_PROBE_FRACTION } from '../api/snapshot';
import { scopeMatchesRoute } from '../domain/scope';
import type { PolicyDowntime, PolicyRun } from './baseline';
import { Checkout, World, isFailing, methodHealthy, systemRelevantShare, systemSuccessRate } from './truth';

export interface Avoided {
  /** Attempts through a failing route with no downtime handling (preferred method, first gateway). */
  noHandling: number;
  /** Attempts through a failing route under the policy. */
  policy: number;
  /** 1 - policy / noHandling, in percent; null when no-handling had none. */
  pct: number | null;
}

export interface OutageFigures {
  outage: number;
  label: string;
  startSec: number;
  endSec: number;
  /** Judged against the targets: longer than three detection windows. */
  judged: boolean;
  avoided: Avoided;
  /** The same, over checkouts whose preferred method kept a healthy gateway (failover possible). */
  avoidedWithFailover: Avoided;
  avoidedWithoutFailover: Avoided;
  detectionDelaySec: number | null;
  reEnableDelaySec: number | null;
  reEnableNote?: string;
  /** Downtimes that covered this outage's routes around it. */
  downtimes: string[];
  /** Checkouts whose preferred method was healthy but hidden, from the start to the next outage. */
  collateral: number;
  healthyCheckouts: number;
  /** Probe checkouts (bucket B through a covered route) from the end to the re-enable (product). */
  probeAttemptsAfterEnd: number;
  /** Where `avoided.policy`'s attempts went: before the first covering downtime, as bucket-B probes after it, or otherwise after it. */
  lost: { beforeDetection: number; probe: number; other: number };
}

/** Where a policy's collateral went: each hidden healthy checkout by what its preferred method was doing. */
export interface CollateralCauses {
  /** Another route of the method was failing: hidden rather than routed around. */
  routeFailing: number;
  /** After an outage on one of the method's routes ended: the re-enable still to come. */
  afterOutage: number;
  /** No outage has touched the method's routes yet: a false or too broad downtime. */
  untouched: number;
}

export interface PolicyFigures {
  policy: PolicyRun['policy'];
  checkouts: number;
  attempts: number;
  successes: number;
  /** Checkouts with nothing offered at all. */
  noOption: number;
  collateral: { count: number; healthyCheckouts: number; pct: number; causes: CollateralCauses };
  outages: OutageFigures[];
  downtimes: (PolicyDowntime & { covers: number[]; falseAlarm: boolean })[];
  falseDowntimes: number;
}

export interface MeasureSettings {
  durationSec: number;
  detectionWindowSec: number;
}

const pct = (policy: number, noHandling: number): number | null => (noHandling > 0 ? 100 * (1 - policy / noHandling) : null);

export function covers(world: World, d: Pick<PolicyDowntime, 'scope'>, outage: number): boolean {
  return world.outageRoutes[outage]!.some((r) => scopeMatchesRoute(d.scope, world.routes[r]!, world.topology));
}

/**
 * Detection delay: outage start → the first downtime covering one of its routes shows disabled
 * (0 when one already was). Null when none did before the outage ended.
 */
export function detectionDelay(world: World, downtimes: readonly PolicyDowntime[], outage: number): number | null {
  const o = world.scenario.outages[outage]!;
  let best: number | null = null;
  for (const d of downtimes) {
    if (d.disabledAt === undefined || !covers(world, d, outage)) continue;
    const resolved = d.resolvedAt ?? Infinity;
    let delay: number | undefined;
    if (d.disabledAt <= o.startSec && resolved > o.startSec) delay = 0;
    else if (d.disabledAt >= o.startSec && d.disabledAt < o.endSec) delay = d.disabledAt - o.startSec;
    if (delay !== undefined && (best === null || delay < best)) best = delay;
  }
  return best;
}

/**
 * Re-enable delay: outage end → the last of the downtimes covering its routes (disabled before
 * the end plus one window, still open at the end) is resolved. Null with a note when nothing
 * was disabled, when it was still disabled at the end of the run, or when the same routes
 * failed again first (a flap: staying disabled is then right).
 */
export function reEnableDelay(world: World, downtimes: readonly PolicyDowntime[], outage: number, s: MeasureSettings): { delay: number | null; note?: string; ids: string[] } {
  const o = world.scenario.outages[outage]!;
  const relevant = downtimes.filter(
    (d) => d.disabledAt !== undefined && covers(world, d, outage) && d.disabledAt < o.endSec + s.detectionWindowSec && (d.resolvedAt ?? Infinity) > o.startSec,
  );
  const ids = relevant.map((d) => d.id);
  const open = relevant.filter((d) => (d.resolvedAt ?? Infinity) > o.endSec);
  if (relevant.length === 0) return { delay: null, note: 'never disabled', ids };
  if (open.length === 0) {
    const last = Math.max(...relevant.map((d) => d.resolvedAt!));
    const reasons = [...new Set(relevant.map((d) => d.endReason ?? '?'))].join(', ');
    return { delay: 0, note: `re-enabled ${(o.endSec - last).toFixed(1)} s before the outage ended (${reasons})`, ids };
  }
  const reEnabledAt = Math.max(...open.map((d) => d.resolvedAt ?? Infinity));
  const next = world.scenario.outages
    .filter((other, i) => i !== outage && other.startSec >= o.endSec && world.outageRoutes[i]!.some((r) => world.outageRoutes[outage]!.includes(r)))
    .reduce((min, other) => Math.min(min, other.startSec), Infinity);
  if (Number.isFinite(next) && next <= reEnabledAt) return { delay: null, note: `still disabled when the same routes failed again at ${next.toFixed(0)} s (flap)`, ids };
  if (!Number.isFinite(reEnabledAt)) return { delay: null, note: `still disabled at the end of the run (> ${(s.durationSec - o.endSec).toFixed(0)} s after the outage)`, ids };
  return { delay: reEnabledAt - o.endSec, ids };
}

/** A downtime raised where there was no outage: it never covered an outage's routes during it (± one window). */
export function falseAlarm(world: World, d: PolicyDowntime, s: MeasureSettings): boolean {
  const end = d.resolvedAt ?? s.durationSec;
  return !world.scenario.outages.some(
    (o, i) => covers(world, d, i) && d.openedAt < o.endSec + s.detectionWindowSec && end > o.startSec - s.detectionWindowSec,
  );
}

export function measurePolicy(world: World, checkouts: readonly Checkout[], run: PolicyRun, s: MeasureSettings): PolicyFigures {
  const outages = world.scenario.outages;
  const firstRoute = world.methodRoutes.map((routes) => routes[0]!.index);
  let attempts = 0;
  let successes = 0;
  let noOption = 0;
  let collateral = 0;
  let healthy = 0;
  const healthyAt = new Uint8Array(checkouts.length);
  const causes: CollateralCauses = { routeFailing: 0, afterOutage: 0, untouched: 0 };
  /** When an outage on one of the method's routes first ended, per method. */
  const firstEnd = world.methodRoutes.map((routes) =>
    outages.reduce((min, o, k) => (world.outageRoutes[k]!.some((r) => routes.some((x) => x.index === r)) ? Math.min(min, o.endSec) : min), Infinity),
  );
  for (const c of checkouts) {
    if (c.t >= s.durationSec) continue;
    if (run.route[c.index]! < 0) noOption += 1;
    else {
      attempts += 1;
      successes += run.success[c.index]!;
    }
    if (methodHealthy(world, c.preferred, c.t)) {
      healthyAt[c.index] = 1;
      healthy += 1;
      if (run.hidden[c.index]) {
        collateral += 1;
        if (world.methodRoutes[c.preferred]!.some((r) => isFailing(world, r.index, c.t))) causes.routeFailing += 1;
        else if (c.t >= firstEnd[c.preferred]!) causes.afterOutage += 1;
        else causes.untouched += 1;
      }
    }
  }

  const figures: OutageFigures[] = outages.map((o, k) => {
    const failing = new Set(world.outageRoutes[k]);
    const all = { noHandling: 0, policy: 0 };
    const withFailover = { noHandling: 0, policy: 0 };
    const without = { noHandling: 0, policy: 0 };
    const nextStart = outages.reduce((min, other) => (other.startSec > o.startSec ? Math.min(min, other.startSec) : min), s.durationSec);
    let outageCollateral = 0;
    let outageHealthy = 0;
    const detection = detectionDelay(world, run.downtimes, k);
    const detectedAt = detection === null ? Infinity : o.startSec + detection;
    const lost = { beforeDetection: 0, probe: 0, other: 0 };
    for (const c of checkouts) {
      if (c.t >= o.startSec && c.t < nextStart && healthyAt[c.index]) {
        outageHealthy += 1;
        if (run.hidden[c.index]) outageCollateral += 1;
      }
      if (c.t < o.startSec || c.t >= o.endSec) continue;
      const noHandling = failing.has(firstRoute[c.preferred]!) ? 1 : 0;
      const policy = failing.has(run.route[c.index]!) ? 1 : 0;
      const failover = world.methodRoutes[c.preferred]!.some((r) => !failing.has(r.index));
      const subset = failover ? withFailover : without;
      for (const acc of [all, subset]) {
        acc.noHandling += noHandling;
        acc.policy += policy;
      }
      if (!policy) continue;
      if (c.t < detectedAt) lost.beforeDetection += 1;
      else if (run.probe[c.index]) lost.probe += 1;
      else lost.other += 1;
    }
    const reEnable = detection === null ? { delay: null, note: 'not detected during the outage', ids: [] as string[] } : reEnableDelay(world, run.downtimes, k, s);
    const reEnabledAt = reEnable.delay === null ? s.durationSec : o.endSec + reEnable.delay;
    let probeAfter = 0;
    for (const c of checkouts) {
      if (c.t >= o.endSec && c.t < reEnabledAt && run.probe[c.index] && failing.has(run.route[c.index]!)) probeAfter += 1;
    }
    return {
      outage: k,
      label: o.label ?? `outage ${k + 1}`,
      startSec: o.startSec,
      endSec: o.endSec,
      judged: o.endSec - o.startSec > 3 * s.detectionWindowSec,
      avoided: { ...all, pct: pct(all.policy, all.noHandling) },
      avoidedWithFailover: { ...withFailover, pct: pct(withFailover.policy, withFailover.noHandling) },
      avoidedWithoutFailover: { ...without, pct: pct(without.policy, without.noHandling) },
      detectionDelaySec: detection,
      reEnableDelaySec: reEnable.delay,
      ...(reEnable.note ? { reEnableNote: reEnable.note } : {}),
      downtimes: reEnable.ids,
      collateral: outageCollateral,
      healthyCheckouts: outageHealthy,
      probeAttemptsAfterEnd: probeAfter,
      lost,
    };
  });

  const downtimes = run.downtimes.map((d) => ({
    ...d,
    covers: outages.flatMap((_, k) => (covers(world, d, k) ? [k] : [])),
    falseAlarm: d.origin === 'detected' && falseAlarm(world, d, s),
  }));
  return {
    policy: run.policy,
    checkouts: checkouts.filter((c) => c.t < s.durationSec).length,
    attempts,
    successes,
    noOption,
    collateral: { count: collateral, healthyCheckouts: healthy, pct: healthy > 0 ? (100 * collateral) / healthy : 0, causes },
    outages: figures,
    downtimes,
    falseDowntimes: downtimes.filter((d) => d.falseAlarm).length,
  };
}

export interface ProbeSettingsForJudging {
  probeIntervalSec: number;
  probePercent: number;
  minProbeSamples: number;
  degradation: number;
  alpha: number;
  beta: number;
  /** A freeze window doubles the minimum samples and halves alpha (domain/freeze.ts). */
  inFreeze: boolean;
}

/**
 * Wald's approximation of the probe's expected sample number when the scope has recovered
 * (p = baseline): ((1-β)·ln A + β·ln B) / E[llr per sample]. H0 is the outage's success rate
 * when given (the product tests against the rate it measured while failing, a little above the
 * true one, domain/probe.ts), never above the threshold; the threshold without it.
 */
export function expectedProbeSamples(baseline: number, s: Pick<ProbeSettingsForJudging, 'degradation' | 'alpha' | 'beta'>, outageRate?: number): number {
  const p1 = Math.min(0.999999, baseline);
  const threshold = p1 * (1 - s.degradation);
  const p0 = outageRate !== undefined ? Math.max(1e-6, Math.min(threshold, outageRate)) : threshold;
  const upper = Math.log((1 - s.beta) / s.alpha);
  const lower = Math.log(s.beta / (1 - s.alpha));
  const drift = p1 * Math.log(p1 / p0) + (1 - p1) * Math.log((1 - p1) / (1 - p0));
  return ((1 - s.beta) * upper + s.beta * lower) / drift;
}

export interface ProbeSufficiency {
  /** Probe samples per second expected at the base probe share once the outage is over. */
  samplesPerSec: number;
  /** Samples expected within 3 × PROBE_INTERVAL. */
  expectedInTarget: number;
  /** max(MIN_PROBE_SAMPLES, the sequential test's expected sample number). */
  needed: number;
  sufficed: boolean;
}

/**
 * Did probe traffic suffice for the re-enable target? Bucket B reaches an outage's routes
 * through methods with no healthy gateway left, and, at FAILOVER_PROBE_FRACTION of the share,
 * through methods that fail over to another gateway; of those attempts, successes and system
 * failures are samples. Probe traffic suffices when, at the base
 * probe share, 3 × PROBE_INTERVAL brings the samples the test needs on average when recovered.
 */
export function probeSufficiency(world: World, outage: number, s: ProbeSettingsForJudging): ProbeSufficiency {
  const sc = world.scenario;
  const failing = new Set(world.outageRoutes[outage]);
  let samplesPerSec = 0;
  let weight = 0;
  let weightedRate = 0;
  sc.catalog.forEach((entry, m) => {
    const routes = world.methodRoutes[m]!;
    if (!failing.has(routes[0]!.index)) return;
    const failover = routes.some((r) => !failing.has(r.index));
    const base = routes[0]!.baseRate;
    const traffic = sc.checkoutsPerSec * entry.share * systemRelevantShare(base, sc.userFailureShare);
    samplesPerSec += (traffic * s.probePercent * (failover ? FAILOVER_PROBE_FRACTION : 1)) / 100;
    weight += traffic;
    weightedRate += traffic * systemSuccessRate(base, sc.userFailureShare);
  });
  const baseline = weight > 0 ? weightedRate / weight : 0.95;
  const alpha = s.inFreeze ? s.alpha / 2 : s.alpha;
  const minSamples = s.inFreeze ? 2 * s.minProbeSamples : s.minProbeSamples;
  const needed = Math.max(minSamples, expectedProbeSamples(baseline, { ...s, alpha }, sc.outages[outage]?.successRate));
  const expectedInTarget = samplesPerSec * 3 * s.probeIntervalSec;
  return { samplesPerSec, expectedInTarget, needed, sufficed: expectedInTarget >= needed };
}
