/** Problems: a scope that keeps going down needs a permanent fix, not another automatic recovery. */
import type { Scope } from '../domain';
import { isRecurring, scopeLabel } from '../domain';
import { isDuplicateKey } from '../db/mongo';
import type { ActivityDeps } from './deps';
import type { Outbox } from './outbox';

export function problemActivities(deps: Pick<ActivityDeps, 'db' | 'config'>, outbox: Outbox) {
  const { db, config } = deps;
  const c = db.c;
  return {
    /** Counts the downtime toward a Problem: K downtimes of one scope in D days open one (once). */
    async recordRecurrence(p: { downtimeId: string; scope: Scope; scopeKey: string; at: number }): Promise<{ problemId?: string; opened: boolean }> {
      const since = new Date(p.at - config.problem.windowMs);
      const recent = await c.downtimes.find({ scopeKey: p.scopeKey, openedAt: { $gte: since } }, { projection: { _id: 1, openedAt: 1 } }).toArray();
      if (!isRecurring(recent.map((d) => d.openedAt.getTime()), p.at, { threshold: config.problem.threshold, windowMs: config.problem.windowMs })) {
        return { opened: false };
      }
      const existing = await c.problems.findOne({ scopeKey: p.scopeKey, status: 'open' });
      if (existing) {
        await c.problems.updateOne({ _id: existing._id }, { $addToSet: { downtimeIds: p.downtimeId } });
        return { problemId: existing._id, opened: false };
      }
      // The problem id derives from the downtime that crossed the threshold: a retry finds it.
      const problemId = `pb_${p.downtimeId}`;
      try {
        await c.problems.insertOne({ _id: problemId, scopeKey: p.scopeKey, scope: p.scope, status: 'open', openedAt: new Date(p.at), downtimeIds: recent.map((d) => d._id) });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const text = `Problem ${problemId}: ${scopeLabel(p.scope)} went down ${recent.length} times in ${Math.round(config.problem.windowMs / 86_400_000)} days; needs a permanent fix`;
      await outbox.send({ notifications: [{ _id: `${problemId}:opened`, downtimeId: p.downtimeId, channel: 'ops', event: 'problem.opened', text, at: new Date(p.at) }], timeline: [], webhooks: [] });
      return { problemId, opened: true };
    },
  };
}
