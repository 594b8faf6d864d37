/**
 * Adds ingest batches to the per-route counters, exactly once per batch: a batch's counts are
 * inserted as delta documents whose ids carry the batch token (see db/counters.ts), so writing
 * them again, from the request or from the recovery pass after a crash, is a duplicate key and
 * adds nothing. Inserts only: no read-modify-write, so concurrent batches need no serialising.
 */
import { Collection, MongoBulkWriteError, MongoOperationTimeoutError } from 'mongodb';
import { CounterCounts, addCounts, insertIdempotent, packRoutes, zeroCounts } from '../db/counters';
import type { RouteCounter } from '../domain';
import type { CounterDeltaDoc, TransactionDoc } from '../db/mongo';

export interface CounterDelta {
  method: string;
  gateway: string;
  bucketStart: number;
  inc: CounterCounts;
}

/** What one batch adds: `method@gateway@bucketStart` → counts. */
export type BatchCounts = Map<string, CounterDelta>;

/** The counts a batch's stored transactions add to their (route, time bucket) counters. */
export function batchCounts(docs: readonly TransactionDoc[], bucketMs: number): BatchCounts {
  const counts: BatchCounts = new Map();
  for (const d of docs) {
    const bucketStart = Math.floor(d.at.getTime() / bucketMs) * bucketMs;
    const id = `${d.method}@${d.gateway}@${bucketStart}`;
    let entry = counts.get(id);
    if (!entry) {
      entry = { method: d.method, gateway: d.gateway, bucketStart, inc: zeroCounts() };
      counts.set(id, entry);
    }
    countOutcome(entry.inc, d);
  }
  return counts;
}

/** What one stored attempt adds to its counter: its outcome, and whether it was covered and a probe (bucket B). */
export function countOutcome(inc: CounterCounts, d: Pick<TransactionDoc, 'outcome' | 'downtimeId' | 'bucket'>): void {
  if (d.outcome === 'success') inc.success += 1;
  else if (d.outcome === 'user_failure') inc.userFailure += 1;
  else inc.systemFailure += 1;
  if (d.downtimeId !== undefined) {
    inc.covered += 1;
    if (d.bucket === 'B' && d.outcome === 'success') inc.probeSuccess += 1;
    if (d.bucket === 'B' && d.outcome === 'system_failure') inc.probeFailure += 1;
  }
}

/** The delta documents of one batch: one per time bucket, with the batch's counts per route packed. */
export function deltaDocs(token: string, counts: BatchCounts): CounterDeltaDoc[] {
  const byBucket = new Map<number, Omit<RouteCounter, 'bucketStart'>[]>();
  for (const c of counts.values()) {
    const route = { method: c.method, gateway: c.gateway, ...zeroCounts() };
    addCounts(route, c.inc);
    const list = byBucket.get(c.bucketStart);
    if (list) list.push(route);
    else byBucket.set(c.bucketStart, [route]);
  }
  return [...byBucket].map(([bucketStart, routes]) => ({ _id: `${token}|${bucketStart}`, bucketStart, packed: packRoutes(routes) }));
}

/** A write to the counters failed for a reason other than a duplicate (already counted). */
export class CounterWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CounterWriteError';
  }
}

/** The batch's own deadline passed before its counts were written (the recovery pass takes over). */
export class CounterDeadlineError extends Error {
  constructor() {
    super('counting took longer than its lease');
    this.name = 'CounterDeadlineError';
  }
}

/**
 * Writes a batch's counts under its token; resolves once they are in (or already were). With a
 * deadline (epoch ms), gives up with CounterDeadlineError when it cannot finish by then.
 */
export async function writeCounts(deltas: Collection<CounterDeltaDoc>, token: string, counts: BatchCounts, now: number, deadline?: number): Promise<void> {
  const docs = deltaDocs(token, counts);
  if (docs.length === 0) return;
  if (deadline !== undefined && deadline <= now) throw new CounterDeadlineError();
  const options = { ordered: false, ...(deadline !== undefined ? { timeoutMS: deadline - now } : {}) };
  try {
    await insertIdempotent((d) => deltas.insertMany(d, options), docs);
  } catch (err) {
    if (err instanceof MongoOperationTimeoutError) throw new CounterDeadlineError();
    if (err instanceof MongoBulkWriteError) throw new CounterWriteError(err.message);
    throw err;
  }
}
