/**
 * The per-route, per-bucket counters, kept append-only.
 *
 * Ingest inserts one delta document per (batch, time bucket), holding that batch's counts per
 * route, with an id made of the batch token: inserting it again (the request retried its write,
 * or the recovery pass counts a batch whose request died) is a duplicate key, so each batch is
 * counted once. A compaction pass folds the deltas of closed buckets into one counter document
 * per bucket (every route's counts packed into one string), so a read costs O(routes × window),
 * not O(batches).
 *
 * Why append-only: FerretDB 1.24 (SQLite) runs every update and delete as a read of the whole
 * collection (only `find` and `aggregate` push an `_id` filter down), and it loses concurrent
 * `$inc` on one document. Counting with updates cost O(counter documents) per touched counter
 * and serialised every batch; inserts cost O(documents inserted).
 *
 * A compaction run R reads the deltas of closed buckets, inserts its marker {_id: R, state:
 * 'folding', ids: the deltas' ids} in `counter_compactions` and changes the `latest` document
 * there; inserts their sums as counter documents with `run: R` (ids derived from R, so a
 * repeated insert is a duplicate); sets its marker 'committed' and changes `latest`; deletes its
 * deltas, then its marker. While R is folding, readers count its deltas and ignore its counter
 * documents; once committed, they count its counter documents and ignore its deltas. A reader
 * reads the markers before and after the counters and reads again when they changed, so it
 * never sees half a run. A run that died is finished by the next one (its marker lists its
 * deltas, which are deleted only after the commit). Runs take a lease, so one runs at a time.
 * Nothing is updated but the markers: FerretDB 1.24 runs `updateMany` in time quadratic in the
 * documents it touches (docs/design/counters.md).
 *
 * Readers cache the compacted counters. FerretDB reads a range of `bucketStart` by decoding every
 * counter document, and the collection grows by one a bucket for the retention's seven days, so a
 * read's cost grew with the hours the system had run. A run lists itself and the buckets it wrote in
 * `latest.recent` before it commits; a process keeps the counter documents of the last day in
 * memory and, on each read, fetches by `_id` (an index lookup) those of runs listed since its last
 * read. It reads them all again when it has fallen behind the list, when `latest` was recreated,
 * and every CACHE_RESYNC_MS.
 */
import { randomBytes } from 'node:crypto';
import { MongoBulkWriteError, WriteError } from 'mongodb';
import type { Logger } from 'pino';
import type { RouteCounter } from '../domain';
import { isDuplicateKey } from './mongo';
import type { CounterDoc, CounterDeltaDoc, Database } from './mongo';

export type CounterCounts = Pick<RouteCounter, 'success' | 'systemFailure' | 'userFailure' | 'probeSuccess' | 'probeFailure' | 'covered'>;

const COUNT_FIELDS = ['success', 'systemFailure', 'userFailure', 'probeSuccess', 'probeFailure', 'covered'] as const;

export const zeroCounts = (): CounterCounts => ({ success: 0, systemFailure: 0, userFailure: 0, probeSuccess: 0, probeFailure: 0, covered: 0 });

export function addCounts(into: CounterCounts, from: Partial<CounterCounts>): void {
  for (const k of COUNT_FIELDS) into[k] += Number(from[k] ?? 0) || 0;
}

const routeBucketKey = (c: { method: string; gateway: string; bucketStart: number }) => `${c.method}@${c.gateway}@${c.bucketStart}`;

/**
 * A bucket's counts per route as one string: a JSON array of
 * [method, gateway, success, systemFailure, userFailure, probeSuccess, probeFailure, covered].
 * FerretDB 1.24 spends its time per stored value, so a bucket of 1,000 routes is one value to it
 * instead of 10,000.
 */
export function packRoutes(routes: readonly Omit<RouteCounter, 'bucketStart'>[]): string {
  return JSON.stringify(routes.map((r) => [r.method, r.gateway, r.success, r.systemFailure, r.userFailure, r.probeSuccess, r.probeFailure, r.covered]));
}

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/** The routes of a packed bucket; entries that are not well-formed are skipped, never thrown on. */
export function unpackRoutes(packed: unknown, bucketStart: number): RouteCounter[] {
  let rows: unknown;
  try {
    rows = typeof packed === 'string' ? JSON.parse(packed) : undefined;
  } catch {
    return [];
  }
  if (!Array.isArray(rows)) return [];
  const out: RouteCounter[] = [];
  for (const r of rows) {
    if (!Array.isArray(r) || typeof r[0] !== 'string' || typeof r[1] !== 'string') continue;
    out.push({ method: r[0], gateway: r[1], bucketStart, success: count(r[2]), systemFailure: count(r[3]), userFailure: count(r[4]), probeSuccess: count(r[5]), probeFailure: count(r[6]), covered: count(r[7]) });
  }
  return out;
}


/** Merges counters of the same route and bucket into one. */
function mergeInto(merged: Map<string, RouteCounter>, c: RouteCounter): void {
  const key = routeBucketKey(c);
  const m = merged.get(key);
  if (m) addCounts(m, c);
  else {
    const fresh: RouteCounter = { method: c.method, gateway: c.gateway, bucketStart: c.bucketStart, ...zeroCounts() };
    addCounts(fresh, c);
    merged.set(key, fresh);
  }
}

const asArray = <T>(v: T | readonly T[] | undefined): readonly T[] => (v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T]);

/**
 * Inserts documents, treating duplicates of the same ids as already inserted. Throws on any other
 * write error. Returns the documents this call inserted (not those found already there).
 */
export async function insertIdempotent<T extends { _id: string }>(
  insert: (docs: T[]) => Promise<unknown>,
  docs: T[],
): Promise<T[]> {
  if (docs.length === 0) return [];
  try {
    await insert(docs);
    return docs;
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const writeErrors = asArray<WriteError>(err.writeErrors);
    const other = writeErrors.find((w) => w.code !== 11000);
    if (other || writeErrors.length === 0) throw err;
    const existing = new Set(writeErrors.map((w) => w.index));
    return docs.filter((_, i) => !existing.has(i));
  }
}

const MARKER_LATEST = 'latest';
const MARKER_LOCK = 'lock';

interface MarkerState {
  /** Runs folding: their deltas count, their counter documents do not. */
  folding: Set<string>;
  /** Deltas of committed runs not yet deleted: their counter documents count instead. */
  folded: Set<string>;
  /** Changes whenever a run starts, commits or ends. */
  signature: string;
  /** `latest`'s epoch and listing of recent runs; no epoch, no cache. */
  epoch?: string;
  recent: { run: string; buckets: number[] }[];
}

/** Runs listed in `latest.recent`: a reader that read within the last this many runs catches up by `_id`. */
export const RECENT_RUNS = 64;
/** How far back a process keeps compacted counters in memory; older windows are read from the database. */
export const COUNTER_CACHE_SPAN_MS = 24 * 3_600_000;
/**
 * A cached reader reads every compacted counter again at least this often: a listing lost when two
 * compactors overlap (one outlived its lease) is picked up then.
 */
export const CACHE_RESYNC_MS = 10 * 60_000;

async function markerState(db: Database): Promise<MarkerState> {
  const docs = await db.c.counterCompactions.find({}).toArray();
  const folding = new Set<string>();
  const folded = new Set<string>();
  const parts: string[] = [];
  let epoch: string | undefined;
  let recent: MarkerState['recent'] = [];
  for (const d of docs) {
    if (d._id === MARKER_LOCK) continue;
    if (d._id === MARKER_LATEST) {
      parts.push(`latest=${d.run ?? ''}`);
      epoch = typeof d.epoch === 'string' ? d.epoch : undefined;
      recent = Array.isArray(d.recent) ? d.recent.filter((r) => typeof r?.run === 'string' && Array.isArray(r.buckets)) : [];
      continue;
    }
    parts.push(`${d._id}:${d.state ?? ''}`);
    if (d.state === 'committed') for (const id of d.ids ?? []) folded.add(id);
    else folding.add(d._id);
  }
  return { folding, folded, signature: parts.sort().join(','), epoch, recent };
}

/** One process's compacted counters of the last day, by `_id`, and the listed runs it has read. */
interface CounterCache {
  epoch: string;
  /** Counter documents of buckets from here on are all in `docs`. */
  horizon: number;
  syncedAt: number;
  docs: Map<string, CounterDoc>;
  runs: Set<string>;
}

const caches = new WeakMap<Database, CounterCache>();

/** Counter documents as readers need them: without `applied` (the applied-token list of the update-based counting that came before; nothing reads it). */
const WITHOUT_APPLIED = { projection: { applied: 0 } } as const;

/**
 * The process's cache brought up to the markers' listing: the counter documents of listed runs it
 * has not read, fetched by `_id`; everything read again when it cannot tell what it missed.
 * Undefined when there is no listing to follow (no run has listed itself yet).
 */
async function syncedCache(db: Database, state: MarkerState, now: number): Promise<CounterCache | undefined> {
  if (state.epoch === undefined) return undefined;
  let cache = caches.get(db);
  const oldest = state.recent[state.recent.length - 1];
  const behind = cache !== undefined && state.recent.length >= RECENT_RUNS && oldest !== undefined && !cache.runs.has(oldest.run);
  if (!cache || cache.epoch !== state.epoch || behind || now - cache.syncedAt >= CACHE_RESYNC_MS) {
    const horizon = now - COUNTER_CACHE_SPAN_MS;
    const docs = await db.c.counters.find({ bucketStart: { $gte: horizon } }, WITHOUT_APPLIED).toArray();
    cache = { epoch: state.epoch, horizon, syncedAt: now, docs: new Map(docs.map((d) => [d._id, d])), runs: new Set(state.recent.map((r) => r.run)) };
    caches.set(db, cache);
    return cache;
  }
  for (const r of state.recent) {
    if (cache.runs.has(r.run)) continue;
    const ids = r.buckets.filter((b) => b >= cache.horizon).map((b) => `${r.run}|${b}`);
    for (const d of await Promise.all(ids.map((_id) => db.c.counters.findOne({ _id }, WITHOUT_APPLIED)))) if (d) cache.docs.set(d._id, d);
  }
  cache.runs = new Set(state.recent.map((r) => r.run));
  const horizon = now - COUNTER_CACHE_SPAN_MS;
  if (horizon - cache.horizon >= 60_000) {
    for (const [id, d] of cache.docs) if (d.bucketStart < horizon) cache.docs.delete(id);
    cache.horizon = horizon;
  }
  return cache;
}

/** Reads taken again when a compaction run started, committed or ended during the read. */
const MAX_READ_ATTEMPTS = 25;

/** Every read overlapped a compaction step: there is no consistent figure to give, so none is given. */
export class CountersBusyError extends Error {
  constructor(attempts: number) {
    super(`counters changed during each of ${attempts} reads (compaction steps kept overlapping them); try again`);
    this.name = 'CountersBusyError';
  }
}

/**
 * Per-route counters with bucketStart in [from, to], one per route and bucket: compacted counters
 * plus the deltas not yet folded. O(routes × window + recent batches), never O(transactions).
 */
export async function readCounters(db: Database, from: number, to: number, now = Date.now()): Promise<RouteCounter[]> {
  const range = { bucketStart: { $gte: from, $lte: to } };
  for (let attempt = 1; ; attempt += 1) {
    const before = await markerState(db);
    const compacted = async (): Promise<CounterDoc[]> => {
      // A window within the last day comes from the cache; an older one (an old incident's review) from the collection.
      const cache = from >= now - COUNTER_CACHE_SPAN_MS ? await syncedCache(db, before, now) : undefined;
      if (cache && from >= cache.horizon) return [...cache.docs.values()].filter((d) => d.bucketStart >= from && d.bucketStart <= to);
      return db.c.counters.find(range, WITHOUT_APPLIED).toArray();
    };
    const [counters, deltas] = await Promise.all([compacted(), db.c.counterDeltas.find(range).toArray()]);
    const after = await markerState(db);
    if (before.signature === after.signature) return mergeCounters(counters, deltas, after);
    // A read that overlapped a run's step may miss or double a batch: never returned. Back off a
    // little so the run can finish its steps (a run is a handful of writes).
    if (attempt >= MAX_READ_ATTEMPTS) throw new CountersBusyError(attempt);
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 * attempt)));
  }
}

/** Counters and deltas as one list: a run's output counts once it committed, its input until then. */
export function mergeCounters(counters: readonly CounterDoc[], deltas: readonly CounterDeltaDoc[], runs: Pick<MarkerState, 'folding' | 'folded'>): RouteCounter[] {
  const merged = new Map<string, RouteCounter>();
  for (const c of counters) {
    if (c.run !== undefined && runs.folding.has(c.run)) continue;
    for (const r of unpackRoutes(c.packed, c.bucketStart)) mergeInto(merged, r);
  }
  for (const d of deltas) {
    if (runs.folded.has(d._id)) continue;
    for (const r of unpackRoutes(d.packed, d.bucketStart)) mergeInto(merged, r);
  }
  return [...merged.values()];
}

/** Sum of counted attempts (successes, system and user failures) over every bucket. */
export async function countedAttempts(db: Database): Promise<number> {
  const all = await readCounters(db, -Infinity, Infinity);
  return all.reduce((n, c) => n + c.success + c.systemFailure + c.userFailure, 0);
}

export interface CompactionResult {
  /** Delta documents folded (this run's and any unfinished earlier run's). */
  deltas: number;
  /** Counter documents written (one per time bucket). */
  counters: number;
}

/** How long a compaction run may hold the lease; a marker older than this belongs to a dead run. */
export const COMPACTION_LEASE_MS = 60_000;

/**
 * The most deltas one run folds. FerretDB 1.24 deletes by `_id` in time proportional to the
 * collection, so a run is kept small; a backlog is folded over several runs.
 */
export const MAX_DELTAS_PER_RUN = 2_000;

/** Ids per delete command. */
const DELETE_CHUNK = 500;

/**
 * Folds the deltas of buckets that closed before `closedBefore` (at most MAX_DELTAS_PER_RUN of
 * them) into counter documents. Returns undefined when another run holds the lease. Safe to call
 * from several processes at once.
 */
export async function compactCounters(db: Database, now: number, closedBefore: number): Promise<CompactionResult | undefined> {
  const m = db.c.counterCompactions;
  await m.deleteOne({ _id: MARKER_LOCK, until: { $lt: new Date(now) } });
  try {
    await m.insertOne({ _id: MARKER_LOCK, until: new Date(now + COMPACTION_LEASE_MS) });
  } catch (err) {
    if (isDuplicateKey(err)) return undefined;
    throw err;
  }
  try {
    const result: CompactionResult = { deltas: 0, counters: 0 };
    // Runs a dead compactor left: finish them (their delta ids are listed in their marker).
    for (const left of await m.find({ _id: { $nin: [MARKER_LATEST, MARKER_LOCK] } }).toArray()) {
      add(result, await finish(db, left._id, left.state === 'committed' ? 'committed' : 'folding', left.ids ?? []));
    }
    // Oldest buckets first, so a backlog splits a bucket between runs as little as possible.
    const deltas = await db.c.counterDeltas.find({ bucketStart: { $lt: closedBefore } }).sort({ bucketStart: 1 }).limit(MAX_DELTAS_PER_RUN).toArray();
    if (deltas.length === 0) return result;
    const run = `${now.toString(36).padStart(10, '0')}-${randomBytes(6).toString('base64url')}`;
    const ids = deltas.map((d) => d._id);
    await m.insertOne({ _id: run, state: 'folding', ids, startedAt: new Date(now) });
    await m.updateOne({ _id: MARKER_LATEST }, { $set: { run }, $setOnInsert: { epoch: newEpoch() } }, { upsert: true });
    add(result, await finish(db, run, 'folding', ids, deltas));
    return result;
  } finally {
    await m.deleteOne({ _id: MARKER_LOCK }).catch(() => undefined);
  }
}

function add(into: CompactionResult, r: CompactionResult): void {
  into.deltas += r.deltas;
  into.counters += r.counters;
}

/** Folds a run's deltas (idempotent), commits it, deletes its deltas, then its marker. */
async function finish(db: Database, run: string, state: 'folding' | 'committed', ids: string[], known?: CounterDeltaDoc[]): Promise<CompactionResult> {
  const m = db.c.counterCompactions;
  let counters = 0;
  if (state === 'folding') {
    const deltas = known ?? (await db.c.counterDeltas.find({ _id: { $in: ids } }).toArray());
    const merged = new Map<string, RouteCounter>();
    for (const d of deltas) for (const r of unpackRoutes(d.packed, d.bucketStart)) mergeInto(merged, r);
    const byBucket = new Map<number, RouteCounter[]>();
    for (const c of merged.values()) {
      const list = byBucket.get(c.bucketStart);
      if (list) list.push(c);
      else byBucket.set(c.bucketStart, [c]);
    }
    const docs: CounterDoc[] = [...byBucket].map(([bucketStart, routes]) => ({ _id: `${run}|${bucketStart}`, run, bucketStart, packed: packRoutes(routes) }));
    for (let i = 0; i < docs.length; i += 100) {
      await insertIdempotent((chunk) => db.c.counters.insertMany(chunk, { ordered: false }), docs.slice(i, i + 100));
    }
    counters = docs.length;
    // Listed before it commits: a reader that sees it committed can fetch what it wrote.
    await listRun(db, run, [...byBucket.keys()]);
    await m.updateOne({ _id: run }, { $set: { state: 'committed' } });
    await m.updateOne({ _id: MARKER_LATEST }, { $set: { run: `${run}:committed` } }, { upsert: true });
  }
  for (let i = 0; i < ids.length; i += DELETE_CHUNK) await db.c.counterDeltas.deleteMany({ _id: { $in: ids.slice(i, i + DELETE_CHUNK) } });
  await m.deleteOne({ _id: run });
  return { deltas: ids.length, counters };
}

const newEpoch = () => randomBytes(6).toString('base64url');

/** Puts a run and the buckets it wrote at the head of `latest.recent` (the lease holder is the only writer). */
async function listRun(db: Database, run: string, buckets: number[]): Promise<void> {
  const m = db.c.counterCompactions;
  const latest = await m.findOne({ _id: MARKER_LATEST });
  const recent = [{ run, buckets }, ...(latest?.recent ?? []).filter((r) => r.run !== run)].slice(0, RECENT_RUNS);
  await m.updateOne({ _id: MARKER_LATEST }, { $set: { recent, epoch: latest?.epoch ?? newEpoch() } }, { upsert: true });
}

/** How often the worker compacts: every counter bucket, at least every second, at most every 10 s. */
export const compactionIntervalMs = (bucketMs: number) => Math.min(10_000, Math.max(1_000, bucketMs));

/**
 * The worker's compaction loop: folds the deltas of every closed bucket (those before the
 * current one), one run at a time. Failures are logged and retried at the next tick.
 */
export function startCompaction(db: Database, bucketMs: number, log: Pick<Logger, 'warn' | 'debug'>, now: () => number = Date.now): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    const at = now();
    running = compactCounters(db, at, Math.floor(at / bucketMs) * bucketMs)
      .then((r) => void (r && r.deltas > 0 && log.debug(r, 'counters compacted')))
      .catch((err) => log.warn({ err }, 'counter compaction failed'))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, compactionIntervalMs(bucketMs));
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
