/** Policy values derived from config, shared by activities and the API (one source of truth). */
import { randomUUID } from 'node:crypto';
import type { DetectionSettings, Scope } from '../domain';
import type { Config } from './config';
import type { DowntimeInput, DowntimePolicy } from './definitions';

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

