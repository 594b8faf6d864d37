/** Detection's steps: judge every scope from the counters, then start or feed each failing scope's downtime. */
import { ScopeHealth, evidenceSpanOf, judgeScopes, placeFinding, reEnabled, WATCHED_ENDS, wideWindowOf, withoutWidening } from '../domain';
import { evidenceSignal, supersedeSignal } from '../common/definitions';
import { detectedDowntimeInput, detectionEvidence, detectionSettings, newDowntimeId } from '../common/policy';
import { startOrFeedDowntime } from '../common/starter';
import { openDowntimes, readCounters, readTopology } from '../db/queries';
import type { ActivityDeps } from './deps';

export function detectionActivities(deps: ActivityDeps) {
  const { db, config } = deps;
  const c = db.c;
  return {
    /** Reads the per-route counters of the window and judges every scope (roll-up included), less the findings that would only widen a disabled downtime. */
    async detectFailingScopes(now: number): Promise<{ failing: ScopeHealth[]; evaluated: number }> {
      const settings = detectionSettings(config);
      const wide = wideWindowOf(settings);
      const [counters, recovered, topo, open] = await Promise.all([
        readCounters(db, now - evidenceSpanOf(settings), now),
        c.downtimes
          .find({ status: 'resolved', endReason: { $in: [...WATCHED_ENDS] }, resolvedAt: { $gte: new Date(now - wide) } }, { projection: { scope: 1, resolvedAt: 1, endReason: 1, baseline: 1, outageRate: 1 } })
          .toArray(),
        readTopology(db),
        openDowntimes(db),
      ]);
      const { recoveries, watches } = reEnabled(recovered.map((d) => ({ scope: d.scope, at: d.resolvedAt!.getTime(), endReason: d.endReason!, baseline: d.baseline, outage: d.outageRate })));
      const { failing, healthy } = judgeScopes(counters, recoveries, now, settings, config.detection.counterBucketMs, topo, watches);
      const disabled = open.filter((d) => d.disabledAt !== undefined && d.disabledAt.getTime() <= now);
      return { failing: withoutWidening(failing, disabled, topo), evaluated: failing.length + healthy.length };
    },

    /**
     * Starts the downtime of a failing scope, or feeds the open downtime that already covers it.
     * Narrower open downtimes inside a newly started scope are superseded.
     */
    async openOrFeedDowntime(health: ScopeHealth, now: number): Promise<{ action: 'started' | 'signalled'; downtimeId: string; superseded: string[] }> {
      const [open, topo] = await Promise.all([openDowntimes(db), readTopology(db)]);
      const { covering, narrower } = placeFinding(open, health, topo);
      if (covering) {
        const handle = deps.temporal.client.workflow.getHandle(covering.workflowId);
        await handle.signal(evidenceSignal, detectionEvidence(config, health, now));
        return { action: 'signalled', downtimeId: covering._id, superseded: [] };
      }
      const previous = await c.downtimes.find({ scopeKey: health.key, status: 'resolved' }).sort({ resolvedAt: -1 }).limit(1).next();
      const input = detectedDowntimeInput(config, health, now, newDowntimeId(), previous?.resolvedAt ? { id: previous._id, resolvedAt: previous.resolvedAt.getTime(), expiryMs: previous.expiresAt.getTime() - previous.openedAt.getTime() } : undefined);
      const res = await startOrFeedDowntime(deps.temporal.client, deps.temporal.taskQueue, input, input.evidence!);
      const superseded: string[] = [];
      if (res.started) {
        for (const d of narrower) {
          await deps.temporal.client.workflow.getHandle(d.workflowId).signal(supersedeSignal, { byDowntimeId: res.downtimeId, byScopeKey: health.key });
          superseded.push(d._id);
        }
      }
      return { action: res.started ? 'started' : 'signalled', downtimeId: res.downtimeId, superseded };
    },
  };
}
