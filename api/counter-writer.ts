/**
 * Applies ingest batches to the per-route counters, exactly once per batch, with group commit.
 *
 * Each batch carries a token. A counter document records the tokens added into it (`applied`)
 * and an update adds a batch only where its token is absent, so applying a batch twice (the
 * request, then the recovery pass after a crash) adds it once.
 *
 * Writes are serialised per collection and the batches queued while one write runs are merged
 * into the next: one update per counter document for all of them. Serialising is needed on
 * FerretDB 1.x, which applies concurrent updates to one document as unsynchronised
 * read-modify-writes and loses increments (measured: 8 concurrent `$inc` of 25 on one document
 * left 125, not 200); merging keeps the cost per update, not per batch, when traffic rises.
 */
import { AnyBulkWriteOperation, Collection, MongoBulkWriteError, WriteError } from 'mongodb';
import type { CounterDoc, TransactionDoc } from '../db/mongo';

export type CounterInc = Pick<CounterDoc, 'success' | 'systemFailure' | 'userFailure' | 'probeSuccess' | 'probeFailure' | 'covered'>;

export interface CounterDelta {
  method: string;
  gateway: string;
  bucketStart: number;
  inc: CounterInc;
}

/** What one batch adds: counter id → increments. */
export type BatchCounts = Map<string, CounterDelta>;

/** The increments a batch's stored transactions add to their (route, time bucket) counters. */
export function batchCounts(docs: readonly TransactionDoc[], bucketMs: number): BatchCounts {
  const counts: BatchCounts = new Map();
  for (const d of docs) {
    const bucketStart = Math.floor(d.at.getTime() / bucketMs) * bucketMs;
    const id = `${d.method}@${d.gateway}@${bucketStart}`;
    let entry = counts.get(id);
    if (!entry) {
      entry = { method: d.method, gateway: d.gateway, bucketStart, inc: { success: 0, systemFailure: 0, userFailure: 0, probeSuccess: 0, probeFailure: 0, covered: 0 } };
      counts.set(id, entry);
    }
    const inc = entry.inc;
    if (d.outcome === 'success') inc.success += 1;
    else if (d.outcome === 'user_failure') inc.userFailure += 1;
    else inc.systemFailure += 1;
    if (d.downtimeId !== undefined) {
      inc.covered += 1;
      if (d.bucket === 'B' && d.outcome === 'success') inc.probeSuccess += 1;
      if (d.bucket === 'B' && d.outcome === 'system_failure') inc.probeFailure += 1;
    }
  }
  return counts;
}

/** A write to the counters failed for a reason other than the ones this module resolves. */
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

interface Queued {
  token: string;
  counts: BatchCounts;
  deadline?: number;
  resolve(): void;
  reject(err: unknown): void;
}

const asArray = <T>(v: T | readonly T[] | undefined): readonly T[] => (v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T]);

interface Op {
  id: string;
  tokens: string[];
  delta: CounterDelta;
}

const ZERO: CounterInc = { success: 0, systemFailure: 0, userFailure: 0, probeSuccess: 0, probeFailure: 0, covered: 0 };

/** Adds the delta where the document has none of the tokens yet (no upsert: the document exists). */
const addOnce = (id: string, tokens: string[], delta: CounterDelta): AnyBulkWriteOperation<CounterDoc> => ({
  updateOne: {
    filter: tokens.length === 1 ? { _id: id, applied: { $ne: tokens[0]! } } : { _id: id, applied: { $nin: tokens } },
    update: { $inc: delta.inc, $addToSet: { applied: tokens.length === 1 ? tokens[0]! : { $each: tokens } } },
  },
});

/** FerretDB 1.24 (SQLite) never answers an update command of 100 or more statements (99 take 0.3 s). */
const MAX_OPS_PER_COMMAND = 50;

/** Bounds the memory of counter ids known to exist. */
const MAX_KNOWN = 100_000;

export class CounterWriter {
  private queue: Queued[] = [];
  private running = false;
  private readonly known = new Set<string>();

  constructor(
    private readonly counters: Collection<CounterDoc>,
    private readonly now: () => number,
  ) {}

  /** Resolves once the batch's counts are in the counters (or were already). */
  apply(token: string, counts: BatchCounts, deadline?: number): Promise<void> {
    if (counts.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ token, counts, deadline, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue;
        this.queue = [];
        const now = this.now();
        const live = group.filter((q) => {
          if (q.deadline !== undefined && q.deadline <= now) {
            q.reject(new CounterDeadlineError());
            return false;
          }
          return true;
        });
        if (live.length === 0) continue;
        try {
          await this.write(live, now);
          for (const q of live) q.resolve();
        } catch (err) {
          for (const q of live) q.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * One update per counter document for the whole group. Where fewer documents match than were
   * updated (one of the batches was applied before, as when a recovery pass re-applies one; or a
   * counter went missing), every batch is redone on its own: each adds itself where it is absent.
   */
  private async write(group: Queued[], now: number): Promise<void> {
    const merged = new Map<string, Op>();
    for (const q of group) {
      for (const [id, delta] of q.counts) {
        const op = merged.get(id);
        if (!op) {
          merged.set(id, { id, tokens: [q.token], delta: { ...delta, inc: { ...delta.inc } } });
          continue;
        }
        op.tokens.push(q.token);
        for (const k of Object.keys(delta.inc) as (keyof CounterInc)[]) op.delta.inc[k] += delta.inc[k];
      }
    }
    const deadlines = group.map((q) => q.deadline).filter((d): d is number => d !== undefined);
    const options = { ordered: false, ...(deadlines.length > 0 ? { timeoutMS: Math.max(1, Math.min(...deadlines) - now) } : {}) };
    const ops = [...merged.values()];
    await this.ensureExist(ops.filter((op) => !this.known.has(op.id)));
    const res = await this.bulk(ops.map((op) => addOnce(op.id, op.tokens, op.delta)), options);
    if (res.matchedCount === ops.length) return;
    await this.ensureExist(ops);
    const single = group.flatMap((q) => [...q.counts].map(([id, delta]) => addOnce(id, [q.token], delta)));
    await this.bulk(single, options);
  }

  /**
   * Creates the counter documents that do not exist yet, with zero counts. Conditional updates
   * then need no upsert: an upsert whose condition fails is a duplicate-key error, and FerretDB
   * reports such errors with wrong indexes and skips the rest of the batch.
   */
  private async ensureExist(ops: Op[]): Promise<void> {
    if (ops.length === 0) return;
    const docs: CounterDoc[] = ops.map((op) => ({ _id: op.id, method: op.delta.method, gateway: op.delta.gateway, bucketStart: op.delta.bucketStart, ...ZERO, applied: [] }));
    try {
      await this.counters.insertMany(docs, { ordered: false });
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError)) throw err;
      const other = asArray<WriteError>(err.writeErrors).find((w) => w.code !== 11000);
      if (other) throw new CounterWriteError(other.errmsg ?? err.message);
    }
    if (this.known.size + ops.length > MAX_KNOWN) this.known.clear();
    for (const op of ops) this.known.add(op.id);
  }

  /** Sends the updates in commands of at most MAX_OPS_PER_COMMAND statements. */
  private async bulk(ops: AnyBulkWriteOperation<CounterDoc>[], options: { ordered: boolean; timeoutMS?: number }): Promise<{ matchedCount: number }> {
    let matchedCount = 0;
    for (let i = 0; i < ops.length; i += MAX_OPS_PER_COMMAND) {
      try {
        matchedCount += (await this.counters.bulkWrite(ops.slice(i, i + MAX_OPS_PER_COMMAND), options)).matchedCount;
      } catch (err) {
        if (err instanceof MongoBulkWriteError) throw new CounterWriteError(asArray<WriteError>(err.writeErrors)[0]?.errmsg ?? err.message);
        throw err;
      }
    }
    return { matchedCount };
  }
}

const writers = new WeakMap<Collection<CounterDoc>, CounterWriter>();

/** The one writer of this process for a counters collection. */
export function counterWriter(counters: Collection<CounterDoc>, now: () => number): CounterWriter {
  let w = writers.get(counters);
  if (!w) {
    w = new CounterWriter(counters, now);
    writers.set(counters, w);
  }
  return w;
}
