import type { Config } from '../../common/config';
import type { DowntimeInput, Evidence } from '../../common/definitions';
import { downtimePolicy, newDowntimeId } from '../../common/policy';
import { normalizeScope, scopeKey, Scope } from '../../domain';

/** Detection's evidence for a hard outage (10 of 200 attempts succeeded over 5 minutes), with any field replaced. */
export function detectionEvidence(at: number, over: Partial<Evidence> = {}): Evidence {
  return { at, attempts: 200, windowMs: 300_000, successes: 10, rate: 0.05, baseline: 0.95, threshold: 0.8075, trafficShare: 0.01, ...over };
}

/** A detected downtime's input, as detection would start it. */
export function downtimeInput(config: Config, scopeIn: Scope, openedAt: number, over: Partial<DowntimeInput> = {}): DowntimeInput {
  const scope = normalizeScope(scopeIn);
  return {
    downtimeId: newDowntimeId(),
    scope,
    scopeKey: scopeKey(scope),
    origin: 'detected',
    reason: 'success rate 5% below 80%',
    openedBy: 'detection',
    openedAt,
    evidence: detectionEvidence(openedAt, { windowMs: config.detection.windowMs }),
    baseline: 0.95,
    threshold: 0.8075,
    policy: downtimePolicy(config),
    ...over,
  };
}
