/** Counter documents for tests, in the one shape compaction writes: a bucket's routes, packed. */
import type { CounterDoc } from '../../db/mongo';
import { packRoutes, zeroCounts } from '../../db/counters';
import type { RouteCounter } from '../../domain';

type RouteCounts = Pick<RouteCounter, 'method' | 'gateway'> & Partial<Omit<RouteCounter, 'method' | 'gateway' | 'bucketStart'>>;

/** A folded counter document for one bucket, as a committed compaction run `run` would have written it. */
export function counterDoc(bucketStart: number, routes: RouteCounts[], run = 'fixture', id = `${run}|${bucketStart}`): CounterDoc {
  return { _id: id, run, bucketStart, packed: packRoutes(routes.map((r) => ({ ...zeroCounts(), ...r }))) };
}
