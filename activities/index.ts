/**
 * Activities: small, idempotent steps that touch the world, grouped by concern. The worker builds
 * the deps (database, Temporal client, config, clock) and calls createActivities(deps).
 * Idempotency comes from business keys: a downtime's _id, a notification's key, a timeline
 * entry's key; a retried activity finds its work already done.
 */
import type { ActivityDeps } from './deps';
import { detectionActivities } from './detection';
import { downtimeRecordActivities } from './downtime-record';
import { createOutbox, notificationActivities } from './outbox';
import { probeActivities } from './probe';
import { problemActivities } from './problems';

export type { ActivityDeps } from './deps';

export type Activities = ReturnType<typeof createActivities>;

export function createActivities(deps: ActivityDeps) {
  const outbox = createOutbox(deps);
  return {
    ...detectionActivities(deps),
    ...downtimeRecordActivities(deps, outbox),
    ...notificationActivities(outbox),
    ...probeActivities(deps),
    ...problemActivities(deps, outbox),
  };
}
