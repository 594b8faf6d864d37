/**
 * Ingest of payment attempts: each record validated on its own (a bad one is reported, the
 * others stored), stored idempotently by id, and only newly stored ones counted into the
 * per-route, per-bucket counters that detection and the probe read. A route under an open,
 * disabled downtime counts as covered, and a bucket-B user's attempt there as a probe sample.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import {
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  WriteError,
} from 'mongodb';
import { DEFAULT_USER_ERROR_CODES, bucketOf, classifyOutcome, modeOf, wakesDetection } from '../domain';
import type { Config } from '../common/config';
import type { Database, TransactionDoc } from '../db/mongo';
import { CounterDeadlineError, CounterWriteError, batchCounts, writeCounts } from './counter-writer';
import type { Metrics } from './metrics';
import type { DetectionWaker } from './detection-waker';
import type { ProbeWaker } from './probe-waker';
import type { Snapshot } from './snapshot';
import type { TransactionRecord } from '../common/transaction';

export const MAX_BATCH = 1000;
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
export const ID_PATTERN = /^[A-Za-z0-9_:.-]{1,128}$/;
export const METHOD_PATTERN = /^[a-z0-9_]{1,40}:[a-z0-9_]{1,60}$/;
export const GATEWAY_PATTERN = /^[a-z0-9_-]{1,60}$/;
const ERROR_CODE_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
/** With the u flag, a surrogate matches only when it is not half of a pair. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
/** Date.parse rolls 2024-02-30 over into March: a date must name a day its month has. */
const realDay = (y: number, m: number, d: number) => m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
const FIELDS = new Set(['id', 'userId', 'method', 'gateway', 'status', 'errorCode', 'at']);
/** Seconds a client should wait before retrying when the database is unreachable. */
export const RETRY_AFTER_SECONDS = 5;

/** A record that passed validation, its time read as epoch milliseconds. */
export type ValidTransaction = Omit<TransactionRecord, 'at'> & { at: number };

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: { index: number; error: string }[];
}

/** The database could not be reached (or failed a write it should retry); maps to 503. */
export class DatabaseUnavailableError extends Error {
  constructor(readonly causeMessage: string) {
    super(`database unavailable: ${causeMessage}`);
    this.name = 'DatabaseUnavailableError';
  }
}

const TRANSIENT_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/** True for errors that mean "the database is not reachable right now", not "the request is wrong". */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  if (
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNetworkError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoClientClosedError ||
    err instanceof MongoServerClosedError ||
    err instanceof MongoOperationTimeoutError
  ) {
    return true;
  }
  if (err instanceof MongoError && (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('ResetPool'))) return true;
  return err instanceof MongoServerError && typeof err.code === 'number' && TRANSIENT_CODES.has(err.code);
}

export function sendDatabaseUnavailable(reply: FastifyReply, err: unknown) {
  reply.log.warn({ err: err instanceof Error ? err.message : err }, 'database unavailable');
  return reply
    .code(503)
    .header('retry-after', String(RETRY_AFTER_SECONDS))
    .send({ error: 'database_unavailable', message: 'the database is unavailable; retry shortly' });
}

/**
 * The path of the first object key, at any depth, that MongoDB would treat as an operator or a
 * path. An empty key shows as `""`, so `{"": {"$in": []}}` names `"".$in`, not `$in`.
 */
function unsafeKey(value: unknown, path?: string, depth = 0): string | undefined {
  if (value === null || typeof value !== 'object' || depth > 16) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const name = key === '' ? '""' : key;
    const here = Array.isArray(value) ? `${path ?? ''}[${key}]` : path !== undefined ? `${path}.${name}` : name;
    if (!Array.isArray(value) && (key.startsWith('$') || key.includes('.'))) return here;
    const found = unsafeKey(inner, here, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Validates one record; the error names the field ("method: expected mode:name"). */
export function validateTransaction(raw: unknown, now: number, retentionMs: number): { ok: true; tx: ValidTransaction } | { ok: false; error: string } {
  const fail = (error: string) => ({ ok: false as const, error });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return fail('transaction: expected an object');
  const bad = unsafeKey(raw);
  if (bad !== undefined) return fail(`${bad}: field names must not start with "$" or contain "."`);
  const r = raw as Record<string, unknown>;
  const unknown = Object.keys(r).find((k) => !FIELDS.has(k));
  // A name that is not a plain word (empty, spaces, punctuation) is quoted so the message shows it.
  if (unknown !== undefined) return fail(`${/^[A-Za-z_][A-Za-z0-9_]*$/.test(unknown) ? unknown : JSON.stringify(unknown)}: unknown field`);

  if (typeof r.id !== 'string' || !ID_PATTERN.test(r.id)) return fail('id: expected 1 to 128 characters of A-Z a-z 0-9 _ : . -');
  if (typeof r.userId !== 'string' || r.userId.length < 1 || r.userId.length > 128) return fail('userId: expected a string of 1 to 128 characters');
  // A lone surrogate would be stored as U+FFFD, folding different users into one.
  if (LONE_SURROGATE.test(r.userId)) return fail('userId: expected well-formed Unicode (no lone surrogates)');
  if (typeof r.method !== 'string' || !METHOD_PATTERN.test(r.method)) return fail('method: expected mode:name (lowercase letters, digits, _)');
  if (typeof r.gateway !== 'string' || !GATEWAY_PATTERN.test(r.gateway)) return fail('gateway: expected 1 to 60 lowercase letters, digits, _ or -');
  if (r.status !== 'success' && r.status !== 'failure') return fail('status: expected "success" or "failure"');
  if (r.errorCode !== undefined && r.errorCode !== null && (typeof r.errorCode !== 'string' || !ERROR_CODE_PATTERN.test(r.errorCode))) {
    return fail('errorCode: expected 1 to 64 characters of A-Z a-z 0-9 _ . : -');
  }
  let at = now;
  if (r.at !== undefined) {
    const iso = typeof r.at === 'string' ? ISO_8601.exec(r.at) : null;
    const parsed = iso && realDay(Number(iso[1]), Number(iso[2]), Number(iso[3])) ? Date.parse(iso[0]) : NaN;
    if (!Number.isFinite(parsed)) return fail('at: expected an ISO-8601 date-time such as 2024-11-11T10:00:00Z');
    if (parsed > now + MAX_FUTURE_SKEW_MS) return fail('at: more than 5 minutes in the future');
    if (parsed < now - retentionMs) return fail(`at: older than the retention (${Math.round(retentionMs / 3_600_000)}h)`);
    at = parsed;
  }
  const tx: ValidTransaction = { id: r.id, userId: r.userId, method: r.method, gateway: r.gateway, status: r.status, at };
  if (typeof r.errorCode === 'string') tx.errorCode = r.errorCode;
  return { ok: true, tx };
}

export interface IngestDeps {
  db: Database;
  config: Config;
  snapshot: Snapshot;
  metrics: Metrics;
  now: () => number;
  /** Told of the scopes whose actors asked to be woken by a bucket-B success this batch counted. */
  probeWaker?: Pick<ProbeWaker, 'wake'>;
  /** Told when this batch counted a failure that should wake detection (domain/detection.ts wakesDetection). */
  detectionWaker?: Pick<DetectionWaker, 'wake'>;
}

const asArray = <T>(v: T | readonly T[] | undefined): readonly T[] => (v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T]);

/**
 * How long a batch's own request may spend applying its counts. A batch still pending after
 * twice this long was left by a request that died or gave up, and the recovery pass counts it;
 * the gap between the two keeps a slow request and the recovery from counting different
 * subsets of one batch.
 */
export const COUNT_LEASE_MS = 15_000;

/**
 * Exactly-once counting without transactions: a batch writes a pending marker, stores its
 * transactions tagged with a batch token, inserts their counts under that token (see
 * counter-writer.ts and db/counters.ts), then removes the marker. Whoever applies a token (the request, or the
 * recovery pass after a crash) computes the same increments from the same stored transactions,
 * so applying it twice changes nothing.
 */
export class Ingestor {
  private readonly userCodes: ReadonlySet<string>;

  constructor(private readonly deps: IngestDeps) {
    this.userCodes = new Set([...DEFAULT_USER_ERROR_CODES, ...deps.config.userErrorCodes]);
  }

  /**
   * Validates, stores and counts a batch. Throws DatabaseUnavailableError when the database
   * cannot be reached; whatever it stored before that is counted by `recoverUncounted`, and a
   * retry of the batch sees those transactions as duplicates, so each is counted once.
   */
  async ingest(records: readonly unknown[]): Promise<IngestResult> {
    const { db, config, metrics, now } = this.deps;
    const at = now();
    const token = randomBytes(12).toString('base64url');
    const rejected: IngestResult['rejected'] = [];
    const seen = new Map<string, number>();
    const docs: TransactionDoc[] = [];
    records.forEach((raw, index) => {
      const v = validateTransaction(raw, at, config.retentionMs);
      if (!v.ok) return void rejected.push({ index, error: v.error });
      const first = seen.get(v.tx.id);
      if (first !== undefined) return void rejected.push({ index, error: `id: duplicate of transactions[${first}] in this batch` });
      seen.set(v.tx.id, index);
      docs.push(this.toDoc(v.tx, at, token));
    });
    metrics.rejected.inc(rejected.length);
    if (docs.length === 0) return { accepted: 0, duplicates: 0, rejected };

    await unavailableOnFailure(db.c.pendingCounts.insertOne({ _id: token, receivedAt: new Date(at) }));
    let failed = new Set<number>();
    let duplicates = 0;
    let unavailable: unknown;
    try {
      await db.c.transactions.insertMany(docs, { ordered: false });
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError)) throw asUnavailable(err);
      const writeErrors = asArray<WriteError>(err.writeErrors);
      failed = new Set(writeErrors.map((w) => w.index));
      duplicates = writeErrors.filter((w) => w.code === 11000).length;
      const other = writeErrors.find((w) => w.code !== 11000);
      if (other || writeErrors.length === 0) unavailable = other?.errmsg ?? err.message;
    }
    if (unavailable !== undefined) throw new DatabaseUnavailableError(String(unavailable));
    const inserted = docs.filter((_, i) => !failed.has(i));
    await this.count(token, inserted, at + COUNT_LEASE_MS);
    await unavailableOnFailure(db.c.pendingCounts.deleteOne({ _id: token }));
    this.wakeProbes(inserted);
    this.wakeDetection(inserted, at);
    metrics.ingested.inc({ result: 'accepted' }, inserted.length);
    if (duplicates) metrics.ingested.inc({ result: 'duplicate' }, duplicates);
    return { accepted: inserted.length, duplicates, rejected };
  }

  /**
   * Counts the batches whose request stored transactions but did not finish counting them
   * (the process died, or the database went away in between). Safe to run at any time and
   * from several processes at once. Returns the number of transactions it looked at.
   */
  async recoverUncounted(limit = 100): Promise<number> {
    const { db, now } = this.deps;
    const cutoff = new Date(now() - 2 * COUNT_LEASE_MS);
    const pending = await db.c.pendingCounts.find({ receivedAt: { $lt: cutoff } }).limit(limit).toArray();
    if (pending.length === 0) return 0;
    const tokens = pending.map((p) => p._id);
    const docs = await db.c.transactions.find({ countToken: { $in: tokens } }).toArray();
    const byToken = new Map<string, TransactionDoc[]>(tokens.map((t) => [t, []]));
    for (const d of docs) byToken.get(d.countToken!)?.push(d);
    for (const [token, batch] of byToken) {
      await this.count(token, batch);
      await db.c.pendingCounts.deleteOne({ _id: token });
    }
    this.deps.metrics.ingested.inc({ result: 'recovered' }, docs.length);
    return docs.length;
  }

  /**
   * Wakes the actors whose records asked for what this batch brought their scopes in bucket B: a
   * counted success (`wakeOnProbeSuccess`), or any counted outcome the test judges, a success or a
   * failure blamed on the route (`wakeOnProbeOutcome`).
   */
  private wakeProbes(counted: readonly TransactionDoc[]): void {
    const waker = this.deps.probeWaker;
    if (!waker) return;
    const succeeded = new Set<string>();
    const failed = new Set<string>();
    for (const d of counted) {
      if (d.bucket !== 'B' || d.downtimeId === undefined) continue;
      if (d.outcome === 'success') succeeded.add(d.downtimeId);
      else if (d.outcome === 'system_failure') failed.add(d.downtimeId);
    }
    if (succeeded.size === 0 && failed.size === 0) return;
    const onSuccess: string[] = [];
    const onOutcome: string[] = [];
    for (const d of this.deps.snapshot.current.downtimes) {
      if (d.wakeOnProbeOutcome && (succeeded.has(d.id) || failed.has(d.id))) onOutcome.push(d.scopeKey);
      else if (d.wakeOnProbeSuccess && succeeded.has(d.id)) onSuccess.push(d.scopeKey);
    }
    if (onSuccess.length > 0) waker.wake(onSuccess, 'success');
    if (onOutcome.length > 0) waker.wake(onOutcome, 'outcome');
  }

  /** Wakes detection when the batch counted a system failure on a route no downtime covers. */
  private wakeDetection(counted: readonly TransactionDoc[], at: number): void {
    const waker = this.deps.detectionWaker;
    const { windowMs } = this.deps.config.detection;
    if (waker && counted.some((d) => wakesDetection(d.outcome, d.downtimeId !== undefined, at - d.at.getTime(), windowMs))) waker.wake();
  }

  private toDoc(tx: ValidTransaction, receivedAt: number, countToken: string): TransactionDoc {
    const outcome = classifyOutcome(tx.status, tx.errorCode, this.userCodes);
    const doc: TransactionDoc = {
      _id: tx.id,
      userId: tx.userId,
      method: tx.method,
      mode: modeOf(tx.method),
      gateway: tx.gateway,
      status: tx.status,
      outcome,
      at: new Date(tx.at),
      receivedAt: new Date(receivedAt),
      countToken,
    };
    if (tx.errorCode !== undefined) doc.errorCode = tx.errorCode;
    const covering = this.deps.snapshot.coveringDowntimes({ method: tx.method, gateway: tx.gateway }, tx.at)[0];
    if (covering) {
      doc.downtimeId = covering.id;
      doc.bucket = bucketOf(tx.userId, covering.id, covering.probePercent);
    }
    return doc;
  }

  /** Adds the batch's transactions to the counters, once however often it is called for the token. */
  private async count(token: string, docs: readonly TransactionDoc[], deadline?: number): Promise<void> {
    const { db, config, now } = this.deps;
    try {
      await writeCounts(db.c.counterDeltas, token, batchCounts(docs, config.detection.counterBucketMs), now(), deadline);
    } catch (err) {
      if (err instanceof CounterWriteError || err instanceof CounterDeadlineError) throw new DatabaseUnavailableError(err.message);
      throw asUnavailable(err);
    }
  }
}

/** An error from the driver as the API reports it: unreachable → DatabaseUnavailableError. */
function asUnavailable(err: unknown): unknown {
  return isDatabaseUnavailable(err) ? new DatabaseUnavailableError(String((err as Error).message)) : err;
}

async function unavailableOnFailure<T>(op: Promise<T>): Promise<T> {
  try {
    return await op;
  } catch (err) {
    throw asUnavailable(err);
  }
}
