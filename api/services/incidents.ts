/**
 * Incidents (each downtime's operational record: its stage, timeline and post-incident review)
 * and problems (what keeps coming back: open, investigating, a known error with its workaround,
 * resolved with its root cause). The rules are domain/incident.ts's.
 */
import type { Database, IncidentDoc, ProblemDoc, TimelineDoc } from '../../db/mongo';
import type { IncidentStage, ProblemStatus, ProblemUpdate, WorkRefusal } from '../../domain';
import { downtimeImpact, isReviewOverdue, refuseProblemUpdate, refuseReview, refuseStage } from '../../domain';
import { readCounters, readTopology } from '../../db/queries';
import { ApiError, badRequest, conflict, notFound } from '../errors';

const iso = (d: Date | undefined) => d?.toISOString();

/** Records written before stages have none: open ones are being investigated, closed ones resolved. */
const stageOf = (i: IncidentDoc): IncidentStage => i.stage ?? (i.status === 'open' ? 'investigating' : 'resolved');

const presentIncident = (i: IncidentDoc, now: number) => ({
  id: i._id,
  downtimeId: i.downtimeId,
  scopeKey: i.scopeKey,
  title: i.title,
  severity: i.severity,
  status: i.status,
  stage: stageOf(i),
  openedAt: i.openedAt.toISOString(),
  acknowledgedAt: iso(i.acknowledgedAt),
  acknowledgedBy: i.acknowledgedBy,
  resolvedAt: iso(i.resolvedAt),
  endReason: i.endReason,
  escalations: (i.escalations ?? []).map((e) => ({ at: e.at.toISOString(), severity: e.severity, by: e.by })),
  reviewDueAt: iso(i.reviewDueAt),
  reviewOverdue: isReviewOverdue({ reviewDueAt: i.reviewDueAt?.getTime(), reviewed: i.review !== undefined }, now),
  review: i.review && {
    by: i.review.by,
    at: i.review.at.toISOString(),
    cause: i.review.cause,
    lessons: i.review.lessons,
    actions: i.review.actions,
    impact: { from: i.review.impact.from.toISOString(), to: i.review.impact.to.toISOString(), attempts: i.review.impact.attempts, failed: i.review.impact.failed },
  },
});

const presentTimeline = (t: TimelineDoc) => ({ at: t.at.toISOString(), kind: t.kind, text: t.text, by: t.by });

const presentProblem = (p: ProblemDoc) => ({
  id: p._id,
  scopeKey: p.scopeKey,
  scope: p.scope,
  status: p.status,
  openedAt: p.openedAt.toISOString(),
  downtimeIds: p.downtimeIds,
  downtimeCount: p.downtimeIds.length,
  note: p.note,
  workaround: p.workaround,
  rootCause: p.rootCause,
  resolvedAt: iso(p.resolvedAt),
  reopenedAt: p.reopenedAt?.map((d) => d.toISOString()),
});

/** The domain's refusal as the API answers it. */
const refusal = (r: WorkRefusal): ApiError => (r.kind === 'conflict' ? conflict(r.message) : badRequest(r.field, r.message.replace(/^[^:]+: /, '')));

export class IncidentService {
  constructor(private readonly deps: { db: Database; now: () => number }) {}

  async incidents(q: { status?: 'open' | 'resolved'; stage?: IncidentStage; overdue?: boolean; limit: number }) {
    const now = this.deps.now();
    const filter = {
      ...(q.status ? { status: q.status } : {}),
      ...(q.stage ? { stage: q.stage } : {}),
      ...(q.overdue ? { reviewDueAt: { $lte: new Date(now) }, review: { $exists: false } } : {}),
    };
    const docs = await this.deps.db.c.incidents.find(filter).sort({ openedAt: -1 }).limit(q.limit).toArray();
    return docs.map((i) => presentIncident(i, now));
  }

  async incident(id: string) {
    const { c } = this.deps.db;
    const doc = await this.record(id);
    const timeline = await c.timeline.find({ incidentId: id }).sort({ at: 1 }).toArray();
    return { ...presentIncident(doc, this.deps.now()), timeline: timeline.map(presentTimeline) };
  }

  /** An incident manager says where the work stands while the downtime is open. */
  async setStage(id: string, req: { stage: IncidentStage; by: string; note?: string }) {
    const { c } = this.deps.db;
    const doc = await this.record(id);
    const refused = refuseStage(doc.status);
    if (refused) throw refusal(refused);
    const at = new Date(this.deps.now());
    const res = await c.incidents.updateOne({ _id: id, status: 'open' }, { $set: { stage: req.stage } });
    if (res.matchedCount === 0) throw conflict('the incident resolved meanwhile');
    await c.timeline.insertOne({ _id: `${id}:stage:${at.getTime()}:${req.stage}`, incidentId: id, kind: req.stage, text: `${req.stage[0]!.toUpperCase()}${req.stage.slice(1)}${req.note ? `: ${req.note}` : ''}`, at, by: req.by });
    return this.incident(id);
  }

  /** The post-incident review: the cause, the lessons, and the impact read from the counters while it was down. */
  async review(id: string, req: { by: string; cause: string; lessons: string[]; actions?: string[] }) {
    const { db } = this.deps;
    const doc = await this.record(id);
    const refused = refuseReview({ status: doc.status, reviewed: doc.review !== undefined });
    if (refused) throw refusal(refused);
    const downtime = await db.c.downtimes.findOne({ _id: doc.downtimeId });
    const from = (downtime?.disabledAt ?? doc.openedAt).getTime();
    const to = (doc.resolvedAt ?? new Date(this.deps.now())).getTime();
    const [counters, topo] = await Promise.all([readCounters(db, from, to), readTopology(db)]);
    const impact = downtime ? downtimeImpact(counters, downtime.scope, from, to, topo) : { attempts: 0, failed: 0 };
    const at = new Date(this.deps.now());
    const review = { by: req.by, at, cause: req.cause, lessons: req.lessons, ...(req.actions ? { actions: req.actions } : {}), impact: { from: new Date(from), to: new Date(to), ...impact } };
    const res = await db.c.incidents.updateOne({ _id: id, status: 'resolved', review: { $exists: false } }, { $set: { stage: 'reviewed', review } });
    if (res.matchedCount === 0) throw conflict('the incident is already reviewed');
    await db.c.timeline.insertOne({ _id: `${id}:reviewed`, incidentId: id, kind: 'reviewed', text: `Reviewed by ${req.by}: ${req.cause}`, at, by: req.by });
    return this.incident(id);
  }

  async problems(q: { status?: ProblemStatus; limit: number }) {
    const docs = await this.deps.db.c.problems.find(q.status ? { status: q.status } : {}).sort({ openedAt: -1 }).limit(q.limit).toArray();
    return docs.map(presentProblem);
  }

  async problem(id: string) {
    const doc = await this.deps.db.c.problems.findOne({ _id: id });
    if (!doc) throw notFound('problem', id);
    return presentProblem(doc);
  }

  /** Problem management: investigating, a known error with its workaround, resolved with its root cause. */
  async updateProblem(id: string, req: ProblemUpdate & { by: string; note?: string }) {
    const { c } = this.deps.db;
    const doc = await c.problems.findOne({ _id: id });
    if (!doc) throw notFound('problem', id);
    const refused = refuseProblemUpdate(doc, req);
    if (refused) throw refusal(refused);
    const at = new Date(this.deps.now());
    const set = {
      updatedAt: at,
      ...(req.status ? { status: req.status } : {}),
      ...(req.note !== undefined ? { note: req.note } : {}),
      ...(req.workaround !== undefined ? { workaround: req.workaround } : {}),
      ...(req.rootCause !== undefined ? { rootCause: req.rootCause } : {}),
      ...(req.status === 'resolved' ? { resolvedAt: at } : {}),
    };
    const res = await c.problems.updateOne({ _id: id, status: doc.status }, { $set: set });
    if (res.matchedCount === 0) throw conflict('the problem changed meanwhile; read it and retry');
    return this.problem(id);
  }

  private async record(id: string): Promise<IncidentDoc> {
    const doc = await this.deps.db.c.incidents.findOne({ _id: id });
    if (!doc) throw notFound('incident', id);
    return doc;
  }
}
