/** Policy values derived from config, shared by activities and the API (one source of truth). */
import { randomUUID } from 'node:crypto';
import { DetectionSettings, PreviousDowntime, Scope, ScopeHealth, reopenPlan } from '../domain';
import type { Config } from './config';
import type { DowntimeInput, DowntimePolicy, Evidence } from './definitions';

export function detectionSettings(config: Config): DetectionSettings {
  return {
    windowMs: config.detection.windowMs,
    baselineWindowMs: config.detection.baselineWindowMs,
    minAttempts: config.detection.minAttempts,
    defaultBaseline: 0.95,
    baselinePriorWeight: 50,
    degradation: config.detection.degradation,
    z: 2.3263,
    coverage: 0.8,
  };
}

export function downtimePolicy(config: Config, expiryMs = config.downtime.expiryMs): DowntimePolicy {
  return {
    probeIntervalMs: config.probe.intervalMs,
    expiryMs,
    minProbeSamples: config.probe.minSamples,
    probePercent: config.probe.percent,
    maxProbePercent: config.probe.maxPercent,
    provenProbePercent: config.probe.provenPercent,
    alpha: 0.01,
    beta: 0.05,
    unackedAfterMs: config.downtime.unackedAfterMs,
    longAfterMs: config.downtime.longAfterMs,
    veryLongAfterMs: config.downtime.veryLongAfterMs,
    repageIntervalMs: config.downtime.repageIntervalMs,
    flapHoldMs: config.downtime.flapHoldMs,
    evidenceWindowMs: config.detection.windowMs,
  };
}

/** What detection tells the downtime of a failing scope it judged at `now`. */
export function detectionEvidence(config: Config, health: ScopeHealth, now: number): Evidence {
  return {
    at: now,
    attempts: health.attempts,
    windowMs: health.windowMs ?? config.detection.windowMs,
    successes: health.successes,
    rate: health.rate,
    baseline: health.baseline,
    threshold: health.threshold,
    trafficShare: health.trafficShare,
    ...(health.detectionWindow ? { detectionWindow: health.detectionWindow } : {}),
  };
}

/**
 * The downtime detection starts for a failing scope: its evidence, and an expiry lengthened
 * when it reopens the scope's `previous` downtime soon after that one closed (the flap guard).
 */
export function detectedDowntimeInput(config: Config, health: ScopeHealth, now: number, downtimeId: string, previous?: PreviousDowntime): DowntimeInput {
  const plan = reopenPlan(previous, now, config.downtime.expiryMs, {
    windowMs: config.downtime.flapWindowMs,
    multiplier: config.downtime.flapMultiplier,
    maxExpiryMs: config.downtime.maxExpiryMs,
  });
  return {
    downtimeId,
    scope: health.scope,
    scopeKey: health.key,
    origin: 'detected',
    reason: `success rate ${(health.rate * 100).toFixed(1)}% over ${health.attempts} attempts, below ${(health.threshold * 100).toFixed(1)}% (baseline ${(health.baseline * 100).toFixed(1)}%)`,
    openedBy: 'detection',
    openedAt: now,
    reopensId: plan.reopensId,
    evidence: detectionEvidence(config, health, now),
    baseline: health.baseline,
    threshold: health.threshold,
    policy: downtimePolicy(config, plan.expiryMs),
  };
}

/**
 * A manual or planned downtime's input. With no detection evidence, its recovery is judged
 * against detection's default baseline and the threshold DEGRADATION below it; kept disabled at
 * least until `until`, its expiry is never shorter than that.
 */
export function manualDowntimeInput(
  config: Config,
  p: { scope: Scope; scopeKey: string; reason: string; by: string; planned: boolean; at: number; until?: number; from?: number },
): DowntimeInput {
  const baseline = detectionSettings(config).defaultBaseline;
  // Kept disabled from its start (now, or a scheduled maintenance's `from`) until `until`.
  const expiryMs = p.until !== undefined ? Math.max(config.downtime.expiryMs, p.until - (p.from ?? p.at)) : config.downtime.expiryMs;
  return {
    downtimeId: newDowntimeId(),
    scope: p.scope,
    scopeKey: p.scopeKey,
    origin: p.planned ? 'planned' : 'manual',
    reason: p.reason,
    openedBy: p.by,
    openedAt: p.at,
    until: p.until,
    baseline,
    threshold: baseline * (1 - config.detection.degradation),
    policy: downtimePolicy(config, expiryMs),
  };
}

export function newDowntimeId(): string {
  return `dt_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

