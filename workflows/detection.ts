/**
 * Detection, run by a Temporal Schedule every DETECTION_INTERVAL: judges every scope from the
 * per-route counters and starts (or feeds) one downtime workflow per failing scope.
 */
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DetectionResult } from '../common/definitions';

const acts = wf.proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});

export async function detectionWorkflow(): Promise<DetectionResult> {
  const now = Date.now();
  const { failing, evaluated } = await acts.detectFailingScopes(now);
  const result: DetectionResult = { evaluatedScopes: evaluated, failing: failing.map((f) => f.key), started: [], signalled: [], superseded: [] };
  // Roll-up already reduced these to the broadest scopes that explain the failures, none inside another.
  for (const health of failing) {
    const res = await acts.openOrFeedDowntime(health, now);
    (res.action === 'started' ? result.started : result.signalled).push(health.key);
    result.superseded.push(...res.superseded);
  }
  return result;
}
