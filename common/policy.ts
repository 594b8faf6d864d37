/** Policy values derived from config, shared by activities and the API (one source of truth). */
import { randomUUID } from 'node:crypto';
import type { DetectionSettings } from '../domain';
import type { Config } from './config';
import type { DowntimePolicy } from './definitions';

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

export function newDowntimeId(): string {
  return `dt_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

