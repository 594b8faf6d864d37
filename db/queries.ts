/** Reads shared by activities and the API. */
import { Topology, topologyOf } from '../domain/scope';
import { FreezeWindow, activeFreeze } from '../domain/freeze';
import { occurrenceAt } from '../domain/recurrence';
import type { Database, DowntimeDoc, FreezeWindowDoc } from './mongo';

/** The window as it stands at `now`: a one-off window as stored, a recurring one's occurrence under way (if any). */
export function freezeWindowAt(w: FreezeWindowDoc, now: number): FreezeWindow | undefined {
  if (!w.recurrence) return { id: w._id, name: w.name, startsAt: w.startsAt.getTime(), endsAt: w.endsAt.getTime() };
  const o = occurrenceAt({ rule: w.recurrence.rule, dtstart: w.startsAt.getTime(), durationMs: w.recurrence.durationMs }, now);
  return o ? { id: w._id, name: w.name, ...o } : undefined;
}

/** The freeze window on at `now`, one-off or an occurrence of a recurring one. */
export async function readActiveFreeze(db: Database, now: number): Promise<FreezeWindow | undefined> {
  return activeFreezeAt(await readFreezeWindows(db, now, now), now);
}

/** The stored windows that may be on at some time in [from, to]. */
export function readFreezeWindows(db: Database, from: number, to: number): Promise<FreezeWindowDoc[]> {
  return db.c.freezeWindows.find({ endsAt: { $gt: new Date(from) }, startsAt: { $lte: new Date(to) } }).toArray();
}

/** Of the stored windows, the one on at `now`. */
export function activeFreezeAt(windows: readonly FreezeWindowDoc[], now: number): FreezeWindow | undefined {
  return activeFreeze(windows.flatMap((w) => freezeWindowAt(w, now) ?? []), now);
}

export async function openDowntimes(db: Database): Promise<DowntimeDoc[]> {
  return db.c.downtimes.find({ status: 'open' }).sort({ openedAt: -1 }).toArray();
}

export { readCounters } from './counters';

/** The topology the catalog describes (method attributes, gateway aggregators): what scopes beyond the route's own fields match against. */
export async function readTopology(db: Database): Promise<Topology> {
  const catalog = await db.c.catalog.findOne({ _id: 'catalog' }, { projection: { methods: 1, gateways: 1 } });
  return topologyOf(catalog ?? { methods: [] });
}
