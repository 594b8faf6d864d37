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

interface CounterDelta {
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

const toWrite = (op: Op): AnyBulkWriteOperation<CounterDoc> => ({
  updateOne: {
    filter: op.tokens.length === 1 ? { _id: op.id, applied: { $ne: op.tokens[0]! } } : { _id: op.id, applied: { $nin: op.tokens } },
    update: {
      $setOnInsert: { method: op.delta.method, gateway: op.delta.gateway, bucketStart: op.delta.bucketStart },
      $inc: op.delta.inc,
      $addToSet: { applied: op.tokens.length === 1 ? op.tokens[0]! : { $each: op.tokens } },
    },
    upsert: true,
  },
});

export class CounterWriter {
  private queue: Queued[] = [];
  private running = false;

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

  /** One update per counter document for the whole group; documents that refuse it are redone batch by batch. */
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
    const timeoutMS = deadlines.length > 0 ? Math.max(1, Math.min(...deadlines) - now) : undefined;
    const refused = await this.upsert([...merged.values()], timeoutMS);
    // A merged update refused because one of its batches was already applied (a recovery pass
    // re-applying one): redo that document one batch at a time, so the others still count.
    const single: Op[] = [];
    for (const op of refused) {
      if (op.tokens.length === 1) continue; // already applied: nothing to add
      for (const q of group) {
        const delta = q.counts.get(op.id);
        if (delta) single.push({ id: op.id, tokens: [q.token], delta });
      }
    }
    if (single.length > 0) await this.upsert(single, timeoutMS);
  }

  /**
   * Writes the operations; returns those whose document holds one of their tokens already. A
   * duplicate-key error on an upsert means the document exists but did not match: it holds a
   * token, or another writer created it a moment ago. A second refusal tells them apart.
   * Ordered writes, because FerretDB stops an unordered update batch at its first error too
   * (and reports nothing of the rest): the operations after the failed one are sent again.
   */
  private async upsert(ops: Op[], timeoutMS: number | undefined): Promise<Op[]> {
    const refusals = new Map<Op, number>();
    const refused: Op[] = [];
    let pending = ops;
    while (pending.length > 0) {
      try {
        await this.counters.bulkWrite(pending.map(toWrite), { ordered: true, ...(timeoutMS !== undefined ? { timeoutMS } : {}) });
        return refused;
      } catch (err) {
        if (!(err instanceof MongoBulkWriteError)) throw err;
        const [first] = asArray<WriteError>(err.writeErrors);
        if (first === undefined || first.code !== 11000) throw new CounterWriteError(first?.errmsg ?? err.message);
        const op = pending[first.index]!;
        const times = (refusals.get(op) ?? 0) + 1;
        refusals.set(op, times);
        if (times >= 2) refused.push(op);
        pending = pending.slice(times >= 2 ? first.index + 1 : first.index);
      }
    }
    return refused;
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
