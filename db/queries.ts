/** Reads shared by activities and the API. */
import type { RouteCounter } from '../domain';
import type { Database, DowntimeDoc } from './mongo';

/** Per-route counters with bucketStart in [from, to]: O(routes × window), never O(transactions). */
export async function readCounters(db: Database, from: number, to: number): Promise<RouteCounter[]> {
  const docs = await db.c.counters
    .find({ bucketStart: { $gte: from, $lte: to } }, { projection: { _id: 0, applied: 0 } })
    .toArray();
  return docs as RouteCounter[];
}

export async function openDowntimes(db: Database): Promise<DowntimeDoc[]> {
  return db.c.downtimes.find({ status: 'open' }).sort({ openedAt: -1 }).toArray();
}
