/**
 * Freeze windows: peak periods (a promotion, month end) in which downtimes get extra caution.
 * One-off (`startsAt` to `endsAt`) or recurring (an RRULE from `startsAt`, each occurrence lasting
 * `duration`), listed with their next occurrences.
 */
import { randomBytes } from 'node:crypto';
import type { Database, FreezeWindowDoc } from '../../db/mongo';
import { freezeWindowAt } from '../../db/queries';
import { nextOccurrences, parseRule, recurrenceEnd } from '../../domain/recurrence';
import { parseDuration } from '../../common/config';
import { badRequest, notFound, parseTime } from '../errors';

/** How many upcoming occurrences a recurring window is shown with. */
const SHOWN_OCCURRENCES = 5;
/** The latest date a Date holds: a rule that never ends. */
const NEVER = new Date(8.64e15);

const iso = (ms: number) => new Date(ms).toISOString();
const isOn = (w: { startsAt: number; endsAt: number } | undefined, now: number) => w !== undefined && w.startsAt <= now && now < w.endsAt;

function present(w: FreezeWindowDoc, now: number) {
  const recurrence = w.recurrence && { rule: w.recurrence.rule, durationMs: w.recurrence.durationMs, dtstart: w.startsAt.getTime() };
  return {
    id: w._id,
    name: w.name,
    startsAt: w.startsAt.toISOString(),
    endsAt: w.endsAt.getTime() === NEVER.getTime() ? undefined : w.endsAt.toISOString(),
    reason: w.reason,
    active: isOn(freezeWindowAt(w, now), now),
    ...(recurrence
      ? {
          recurrence: { rule: recurrence.rule, durationSeconds: recurrence.durationMs / 1000 },
          next: nextOccurrences(recurrence, now, SHOWN_OCCURRENCES).map((o) => ({ startsAt: iso(o.startsAt), endsAt: iso(o.endsAt) })),
        }
      : {}),
    createdAt: w.createdAt.toISOString(),
  };
}

export interface FreezeWindowRequest {
  name: string;
  startsAt: string;
  endsAt?: string;
  recurrence?: { rule: string; duration: string };
  reason?: string;
}

export class FreezeWindowService {
  constructor(private readonly deps: { db: Database; now: () => number }) {}

  /** Newest first; `current` keeps those not yet over. */
  async list(q: { current?: boolean; limit: number }) {
    const at = this.deps.now();
    const docs = await this.deps.db.c.freezeWindows.find(q.current ? { endsAt: { $gt: new Date(at) } } : {}).sort({ startsAt: -1 }).limit(q.limit).toArray();
    return docs.map((w) => present(w, at));
  }

  /** One-off (`endsAt`) or recurring (`recurrence`), not both; a 400 names the field that is wrong. */
  async create(p: FreezeWindowRequest) {
    const startsAt = parseTime('startsAt', p.startsAt);
    const base = { _id: `fw_${randomBytes(10).toString('hex')}`, name: p.name, startsAt: new Date(startsAt), createdAt: new Date(this.deps.now()), ...(p.reason !== undefined ? { reason: p.reason } : {}) };
    let doc: FreezeWindowDoc;
    if (p.recurrence !== undefined) {
      if (p.endsAt !== undefined) throw badRequest('endsAt', 'a recurring window gives recurrence.duration instead');
      const durationMs = parseDuration(p.recurrence.duration);
      if (durationMs === undefined) throw badRequest('recurrence.duration', 'expected a duration such as 12h, 2d or 90m');
      const rule = parseRule(p.recurrence.rule, startsAt);
      if (typeof rule === 'string') throw badRequest('recurrence.rule', rule);
      const recurrence = { rule: p.recurrence.rule.trim().replace(/^RRULE:/i, ''), durationMs };
      const end = recurrenceEnd({ ...recurrence, dtstart: startsAt });
      if (end !== undefined && end <= this.deps.now()) throw badRequest('recurrence.rule', 'its last occurrence is over');
      doc = { ...base, endsAt: end !== undefined ? new Date(end) : NEVER, recurrence };
    } else {
      if (p.endsAt === undefined) throw badRequest('endsAt', 'a one-off window needs an end (or give recurrence)');
      const endsAt = parseTime('endsAt', p.endsAt);
      if (endsAt <= startsAt) throw badRequest('endsAt', 'must be after startsAt');
      if (endsAt <= this.deps.now()) throw badRequest('endsAt', 'must be in the future');
      doc = { ...base, endsAt: new Date(endsAt) };
    }
    await this.deps.db.c.freezeWindows.insertOne(doc);
    return present(doc, this.deps.now());
  }

  async remove(id: string): Promise<void> {
    const res = await this.deps.db.c.freezeWindows.deleteOne({ _id: id });
    if (res.deletedCount === 0) throw notFound('freeze window', id);
  }
}
