/** Reads shared by activities and the API. */
import type { Database, DowntimeDoc } from './mongo';

export async function openDowntimes(db: Database): Promise<DowntimeDoc[]> {
  return db.c.downtimes.find({ status: 'open' }).sort({ openedAt: -1 }).toArray();
}

export { readCounters } from './counters';
