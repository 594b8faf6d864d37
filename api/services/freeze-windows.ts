/** Freeze windows: peak periods (a promotion, month end) in which downtimes get extra caution. */
import { randomBytes } from 'node:crypto';
import type { Database, FreezeWindowDoc } from '../../db/mongo';
import { badRequest, notFound, parseTime } from '../errors';

function present(w: FreezeWindowDoc, now: number) {
  return {
    id: w._id,
    name: w.name,
    startsAt: w.startsAt.toISOString(),
    endsAt: w.endsAt.toISOString(),
    reason: w.reason,
    active: w.startsAt.getTime() <= now && now < w.endsAt.getTime(),
    createdAt: w.createdAt.toISOString(),
  };
}

export class FreezeWindowService {
  constructor(private readonly deps: { db: Database; now: () => number }) {}

  /** Newest first; `current` keeps those not yet over. */
  async list(q: { current?: boolean; limit: number }) {
    const at = this.deps.now();
    const docs = await this.deps.db.c.freezeWindows.find(q.current ? { endsAt: { $gt: new Date(at) } } : {}).sort({ startsAt: -1 }).limit(q.limit).toArray();
    return docs.map((w) => present(w, at));
  }

  async create(p: { name: string; startsAt: string; endsAt: string; reason?: string }) {
    const startsAt = parseTime('startsAt', p.startsAt);
    const endsAt = parseTime('endsAt', p.endsAt);
    if (endsAt <= startsAt) throw badRequest('endsAt', 'must be after startsAt');
    if (endsAt <= this.deps.now()) throw badRequest('endsAt', 'must be in the future');
    const doc: FreezeWindowDoc = {
      _id: `fw_${randomBytes(10).toString('hex')}`,
      name: p.name,
      startsAt: new Date(startsAt),
      endsAt: new Date(endsAt),
      createdAt: new Date(this.deps.now()),
      ...(p.reason !== undefined ? { reason: p.reason } : {}),
    };
    await this.deps.db.c.freezeWindows.insertOne(doc);
    return present(doc, this.deps.now());
  }

  async remove(id: string): Promise<void> {
    const res = await this.deps.db.c.freezeWindows.deleteOne({ _id: id });
    if (res.deletedCount === 0) throw notFound('freeze window', id);
  }
}
