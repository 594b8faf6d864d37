/**
 * Problems (a scope that keeps going down needs a permanent fix, not another automatic recovery)
 * and post-incident reviews (a SEV1/SEV2 nobody has reviewed when due is raised with ops once).
 */
import type { Scope } from '../domain';
import { isRecurring, reopensProblem, scopeLabel } from '../domain';
import { isDuplicateKey } from '../db/mongo';
import type { ActivityDeps } from './deps';
import type { Outbox } from './outbox';

export function problemActivities(deps: Pick<ActivityDeps, 'db' | 'config'>, outbox: Outbox) {
  const { db, config } = deps;
  const c = db.c;

  /** The review is due: unless written, ops hear it is overdue, once. Returns whether they did now. */
  async function remindReview(p: { incidentId: string; at: number }): Promise<boolean> {
    const incident = await c.incidents.findOneAndUpdate(
      { _id: p.incidentId, stage: { $ne: 'reviewed' }, reviewReminded: { $ne: true } },
      { $set: { reviewReminded: true } },
      { returnDocument: 'after' },
    );
    const key = `${p.incidentId}:review-overdue`;
    // A retry after the flag was set finds the incident already marked: the outbox's key keeps the notice once.
    const target = incident ?? (await c.incidents.findOne({ _id: p.incidentId, stage: { $ne: 'reviewed' }, reviewReminded: true }));
    if (!target) return false;
    const text = `Post-incident review overdue: ${target.title} (${target.severity}) resolved ${target.resolvedAt?.toISOString() ?? ''} and nobody has reviewed it`;
    const notice = { key, downtimeId: p.incidentId, event: 'review_overdue' as const, type: 'downtime.updated' as const, text, at: p.at };
    const sent = await outbox.send({
      notifications: [{ _id: `${key}:ops`, downtimeId: p.incidentId, channel: 'ops', event: 'review.overdue', text, at: new Date(p.at) }],
      timeline: [{ _id: `${key}:timeline`, incidentId: p.incidentId, kind: 'review-overdue', text, at: new Date(p.at) }],
      webhooks: [],
      reach: [{ kind: 'notice', notice }],
    });
    return sent.length > 0;
  }

  return {
    /** Counts the downtime toward a Problem: K downtimes of one scope in D days open one (once). */
    async recordRecurrence(p: { downtimeId: string; scope: Scope; scopeKey: string; at: number }): Promise<{ problemId?: string; opened: boolean; reopened?: boolean }> {
      // A resolved problem whose scope goes down again is back: reopened, with this downtime.
      const resolved = await c.problems.find({ scopeKey: p.scopeKey, status: 'resolved' }).sort({ resolvedAt: -1 }).limit(1).next();
      const downtime = await c.downtimes.findOne({ _id: p.downtimeId }, { projection: { openedAt: 1 } });
      if (resolved && reopensProblem({ status: resolved.status, resolvedAt: resolved.resolvedAt?.getTime() }, downtime?.openedAt.getTime() ?? p.at)) {
        const reopened = await c.problems.updateOne(
          { _id: resolved._id, status: 'resolved' },
          { $set: { status: 'open', updatedAt: new Date(p.at) }, $addToSet: { downtimeIds: p.downtimeId }, $push: { reopenedAt: new Date(p.at) } },
        );
        if (reopened.modifiedCount > 0) {
          const text = `Problem ${resolved._id} reopened: ${scopeLabel(p.scope)} went down again after it was resolved (root cause given: ${resolved.rootCause ?? 'none'})`;
          await outbox.send({ notifications: [{ _id: `${resolved._id}:reopened:${p.downtimeId}`, downtimeId: p.downtimeId, channel: 'ops', event: 'problem.reopened', text, at: new Date(p.at) }], timeline: [], webhooks: [] });
        }
        return { problemId: resolved._id, opened: false, reopened: true };
      }
      const since = new Date(p.at - config.problem.windowMs);
      const recent = await c.downtimes.find({ scopeKey: p.scopeKey, openedAt: { $gte: since } }, { projection: { _id: 1, openedAt: 1 } }).toArray();
      if (!isRecurring(recent.map((d) => d.openedAt.getTime()), p.at, { threshold: config.problem.threshold, windowMs: config.problem.windowMs })) {
        return { opened: false };
      }
      const existing = await c.problems.findOne({ scopeKey: p.scopeKey, status: { $in: ['open', 'investigating', 'known_error'] } });
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

    /**
     * Every SEV1/SEV2 whose review is past due and unwritten: ops hear of each once (the worker
     * runs this every minute; two workers are one, by the flag each reminder sets).
     */
    async remindOverdueReviews(now: number): Promise<number> {
      const due = await c.incidents.find({ reviewDueAt: { $lte: new Date(now) }, review: { $exists: false }, reviewReminded: { $ne: true } }, { projection: { _id: 1 } }).limit(100).toArray();
      let sent = 0;
      for (const i of due) if (await remindReview({ incidentId: i._id, at: now })) sent += 1;
      return sent;
    },

    remindReview,
  };
}
