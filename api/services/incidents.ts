/** Incidents (each downtime's operational record, with its timeline) and problems (what keeps coming back). */
import type { Database, IncidentDoc, ProblemDoc, TimelineDoc } from '../../db/mongo';
import { notFound } from '../errors';

const iso = (d: Date | undefined) => d?.toISOString();

const presentIncident = (i: IncidentDoc) => ({
  id: i._id,
  downtimeId: i.downtimeId,
  scopeKey: i.scopeKey,
  title: i.title,
  severity: i.severity,
  status: i.status,
  openedAt: i.openedAt.toISOString(),
  acknowledgedAt: iso(i.acknowledgedAt),
  acknowledgedBy: i.acknowledgedBy,
  resolvedAt: iso(i.resolvedAt),
  endReason: i.endReason,
  escalations: (i.escalations ?? []).map((e) => ({ at: e.at.toISOString(), severity: e.severity, by: e.by })),
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
});

export class IncidentService {
  constructor(private readonly deps: { db: Database }) {}

  async incidents(q: { status?: 'open' | 'resolved'; limit: number }) {
    const docs = await this.deps.db.c.incidents.find(q.status ? { status: q.status } : {}).sort({ openedAt: -1 }).limit(q.limit).toArray();
    return docs.map(presentIncident);
  }

  async incident(id: string) {
    const { c } = this.deps.db;
    const doc = await c.incidents.findOne({ _id: id });
    if (!doc) throw notFound('incident', id);
    const timeline = await c.timeline.find({ incidentId: id }).sort({ at: 1 }).toArray();
    return { ...presentIncident(doc), timeline: timeline.map(presentTimeline) };
  }

  async problems(q: { status?: 'open' | 'closed'; limit: number }) {
    const docs = await this.deps.db.c.problems.find(q.status ? { status: q.status } : {}).sort({ openedAt: -1 }).limit(q.limit).toArray();
    return docs.map(presentProblem);
  }

  async problem(id: string) {
    const doc = await this.deps.db.c.problems.findOne({ _id: id });
    if (!doc) throw notFound('problem', id);
    return presentProblem(doc);
  }
}
