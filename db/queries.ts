/** Reads shared by activities and the API. */
import { Topology, topologyOf } from '../domain/scope';
import type { Database, DowntimeDoc } from './mongo';

export async function openDowntimes(db: Database): Promise<DowntimeDoc[]> {
  return db.c.downtimes.find({ status: 'open' }).sort({ openedAt: -1 }).toArray();
}

export { readCounters } from './counters';

/** The topology the catalog describes (method attributes, gateway aggregators): what scopes beyond the route's own fields match against. */
export async function readTopology(db: Database): Promise<Topology> {
  const catalog = await db.c.catalog.findOne({ _id: 'catalog' }, { projection: { methods: 1, gateways: 1 } });
  return topologyOf(catalog ?? { methods: [] });
}
