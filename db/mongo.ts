/**
 * MongoDB access: typed collections and their indexes. Works on MongoDB and on FerretDB 1.x,
 * which has no TTL indexes (a retention purge replaces them there).
 */
import { Collection, Db, MongoClient, MongoServerError } from 'mongodb';
import type { Scope, Severity, ProbeDecision, EndReason, Outcome, IncidentStage, ProblemStatus } from '../domain';
import type { Origin, DowntimeStatus, Evidence, Acknowledgement } from '../common/definitions';

export interface TransactionDoc {
  _id: string;
  userId: string;
  method: string;
  mode: string;
  gateway: string;
  status: 'success' | 'failure';
  errorCode?: string;
  outcome: Outcome;
  at: Date;
  receivedAt: Date;
  /** Set when the route was under an open downtime at the time: the user's bucket for it. */
  downtimeId?: string;
  bucket?: 'A' | 'B';
  /** The ingest batch that stored it: its counts are applied to the counters under this token. */
  countToken?: string;
}

/**
 * Counters of one time bucket, written by a compaction run (see db/counters.ts): every route's
 * counts packed into one string (`packRoutes`). Older data and tests may hold one document per
 * route and bucket instead, with the counts as fields; readers take both.
 */
/** One time bucket's folded counts, packed per route (compaction writes them). */
export interface CounterDoc {
  /** `<run>|<bucketStart>`. */
  _id: string;
  /** The compaction run that wrote it. */
  run: string;
  bucketStart: number;
  packed: string;
}

/** One ingest batch's counts in one time bucket, packed per route; folded by compaction. */
export interface CounterDeltaDoc {
  /** `<batch token>|<bucketStart>`: inserting a batch's counts twice is a duplicate key. */
  _id: string;
  bucketStart: number;
  packed: string;
}

/** Compaction bookkeeping (db/counters.ts): a marker per unfinished run, `latest`, and the `lock` lease. */
export interface CounterCompactionDoc {
  _id: string;
  /** A run's marker: folding, or committed (its counters written) until its deltas are deleted. */
  state?: 'folding' | 'committed';
  /** A run's marker: the delta documents it folds. */
  ids?: string[];
  startedAt?: Date;
  /** `latest`: changes whenever a run starts or commits. */
  run?: string;
  /** `latest`: the runs that wrote counters most recently, newest first, and the buckets each wrote. */
  recent?: { run: string; buckets: number[] }[];
  /** `latest`: set when it is created; a reader whose cache was built under another starts over. */
  epoch?: string;
  /** `lock`: when the lease ends. */
  until?: Date;
}

/** An ingest batch stored but not yet known to be counted; removed once its counts are applied. */
export interface PendingCountDoc {
  _id: string;
  receivedAt: Date;
}

export interface DowntimeDoc {
  _id: string;
  scope: Scope;
  scopeKey: string;
  origin: Origin;
  reason: string;
  openedBy: string;
  status: DowntimeStatus;
  phase: 'scheduled' | 'disabling' | 'probing' | 'resolved';
  /** Scheduled maintenance: when it begins (and `openedAt` once it has). */
  startsAt?: Date;
  cancelledAt?: Date;
  openedAt: Date;
  disabledAt?: Date;
  expiresAt: Date;
  extendedUntil?: Date;
  until?: Date;
  probePercent: number;
  severity: Severity;
  acknowledgement?: Acknowledgement;
  evidence?: Evidence;
  baseline: number;
  threshold: number;
  lastProbe?: ProbeDecision;
  /** Set on close: the success rate measured while failing, against which detection watches for a relapse (domain/relapse.ts). */
  outageRate?: number;
  /** The actor asks the API for a probeSuccess signal on the next bucket-B success (see domain/probe.ts wakesOnSuccess). */
  wakeOnProbeSuccess?: boolean;
  /** The actor asks the API for a probeOutcome signal on the next bucket-B outcome (see domain/probe.ts wakesOnOutcome). */
  wakeOnProbeOutcome?: boolean;
  reopensId?: string;
  supersededBy?: string;
  endReason?: EndReason;
  resolvedAt?: Date;
  resolvedBy?: string;
  workflowId: string;
  updatedAt: Date;
}


/** What was learned: the cause, what it cost (from the counters), what changes. */
export interface IncidentReview {
  by: string;
  at: Date;
  cause: string;
  lessons: string[];
  actions?: string[];
  impact: { from: Date; to: Date; attempts: number; failed: number };
}

export interface IncidentDoc {
  _id: string;
  downtimeId: string;
  scopeKey: string;
  title: string;
  severity: Severity;
  status: 'open' | 'resolved';
  /** Absent on records written before stages: read as investigating while open, resolved after. */
  stage?: IncidentStage;
  review?: IncidentReview;
  /** A SEV1/SEV2's review is due then; the overdue notice goes out once. */
  reviewDueAt?: Date;
  reviewReminded?: boolean;
  openedAt: Date;
  acknowledgedAt?: Date;
  acknowledgedBy?: string;
  resolvedAt?: Date;
  endReason?: EndReason;
  escalations: { at: Date; severity: Severity; by: string }[];
}

export interface TimelineDoc {
  /** Idempotency key: one entry per step, whatever the retries. */
  _id: string;
  incidentId: string;
  at: Date;
  kind: string;
  text: string;
  by?: string;
}

/** The notification log: what ops were told and who was paged (partners hear through the outbox's mail). */
export interface NotificationDoc {
  /** Idempotency key: a notification is sent once. */
  _id: string;
  downtimeId: string;
  channel: 'ops' | 'page';
  event: string;
  text: string;
  at: Date;
}

export interface WebhookDoc {
  _id: string;
  url: string;
  events: string[];
  /** The signing secret, `whsec_<base64>`. */
  secret: string;
  /** Secrets rotated out that still sign, beside the current one, until their `until`. */
  previousSecrets?: { secret: string; until: Date }[];
  description?: string;
  createdAt: Date;
}

/** Whom a downtime concerns outside the company: told by mail when one touching their scope starts and ends. */
export interface PartnerDoc {
  /** The partner's name, as given. */
  _id: string;
  scope: Scope;
  emails: string[];
  updatedAt: Date;
}

export interface WebhookEventDoc {
  _id: string;
  type: 'downtime.started' | 'downtime.updated' | 'downtime.resolved' | 'downtime.scheduled' | 'downtime.cancelled';
  downtimeId: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

/** The channels the outbox delivers through. */
export const CHANNELS = ['webhook', 'pagerduty', 'slack', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * One message to one receiver, written once by its key and delivered by the worker's dispatcher:
 * a webhook event to a subscription, a PagerDuty event, a chat message, a partner's mail. The body
 * never holds a secret (routing keys, chat URLs and signing secrets are added when sent).
 */
export interface DeliveryDoc {
  /** Idempotency key: `${eventId}:${receiver}`, each message delivered once per receiver. */
  _id: string;
  channel: Channel;
  /** A webhook subscription's id, `pagerduty`, `slack`, or `partner:<name>`: one delivery in flight per receiver. */
  receiver: string;
  /** The downtime it is about: its deliveries to one receiver go out in the order they were written. */
  downtimeId?: string;
  eventId: string;
  /** The webhook's URL; other channels' addresses come from configuration when sent. */
  url?: string;
  /** What it says: the webhook event type, or `pagerduty.trigger`, `slack.started`, `email.resolved`, ... */
  type: string;
  /** The payload: JSON for HTTP channels, `{to, subject, text}` JSON for mail. */
  body: string;
  status: 'pending' | 'delivered';
  attempts: number;
  /** Turns taken on it so far (db/claims.ts): the next claim takes turn `claims`. */
  claims?: number;
  nextAttemptAt: Date;
  leaseUntil?: Date;
  lastError?: string;
  lastStatus?: number;
  deliveredAt?: Date;
  createdAt: Date;
}

export interface FreezeWindowDoc {
  _id: string;
  name: string;
  /** A one-off window's start, or a recurring one's first occurrence (its anchor). */
  startsAt: Date;
  /** When the window (a recurring one's last occurrence) ends; the latest date there is for a rule that never ends. */
  endsAt: Date;
  /** A recurring window: the RRULE and how long each occurrence lasts. */
  recurrence?: { rule: string; durationMs: number };
  reason?: string;
  createdAt: Date;
}


export interface ProblemDoc {
  _id: string;
  scopeKey: string;
  scope: Scope;
  status: ProblemStatus;
  openedAt: Date;
  downtimeIds: string[];
  note?: string;
  workaround?: string;
  rootCause?: string;
  resolvedAt?: Date;
  /** Each time it came back after it was resolved. */
  reopenedAt?: Date[];
  updatedAt?: Date;
}

export interface CatalogDoc {
  _id: 'catalog';
  methods: { method: string; gateways: string[]; priority?: number; attributes?: Record<string, string> }[];
  /** Facts about gateways: the aggregator each sits behind (absent in catalogs that give none). */
  gateways?: { gateway: string; aggregator?: string }[];
  updatedAt: Date;
}

/** One writing process's stamps of the open downtimes it changed (db/downtime-changes.ts). */
export interface DowntimeChangeDoc {
  _id: string;
  at: Date;
  /** `id=stamp` or `id=stamp=closedAtMs`, space-separated. */
  stamps: string;
}

/** One turn taken by one process (db/claims.ts): `${key}#${turn}`; or, `_id: key`, the last turn a key reached. */
export interface ClaimDoc {
  _id: string;
  at: Date;
  turn?: number;
}

export interface Collections {
  transactions: Collection<TransactionDoc>;
  counters: Collection<CounterDoc>;
  counterDeltas: Collection<CounterDeltaDoc>;
  counterCompactions: Collection<CounterCompactionDoc>;
  pendingCounts: Collection<PendingCountDoc>;
  downtimes: Collection<DowntimeDoc>;
  downtimeChanges: Collection<DowntimeChangeDoc>;
  incidents: Collection<IncidentDoc>;
  timeline: Collection<TimelineDoc>;
  notifications: Collection<NotificationDoc>;
  webhooks: Collection<WebhookDoc>;
  webhookEvents: Collection<WebhookEventDoc>;
  deliveries: Collection<DeliveryDoc>;
  partners: Collection<PartnerDoc>;
  freezeWindows: Collection<FreezeWindowDoc>;
  problems: Collection<ProblemDoc>;
  catalog: Collection<CatalogDoc>;
  claims: Collection<ClaimDoc>;
}

export interface Database {
  client: MongoClient;
  db: Db;
  c: Collections;
  /** False on FerretDB 1.x: retention is a purge instead of a TTL index. */
  supportsTtl: boolean;
  close(): Promise<void>;
}

export async function connectDatabase(uri: string, dbName: string): Promise<Database> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    maxPoolSize: 50,
    ignoreUndefined: true,
  });
  await client.connect();
  const db = client.db(dbName);
  const c: Collections = {
    transactions: db.collection('transactions'),
    counters: db.collection('counters'),
    counterDeltas: db.collection('counter_deltas'),
    counterCompactions: db.collection('counter_compactions'),
    pendingCounts: db.collection('pending_counts'),
    downtimes: db.collection('downtimes'),
    downtimeChanges: db.collection('downtime_changes'),
    incidents: db.collection('incidents'),
    timeline: db.collection('incident_timeline'),
    notifications: db.collection('notifications'),
    webhooks: db.collection('webhooks'),
    webhookEvents: db.collection('webhook_events'),
    deliveries: db.collection('deliveries'),
    partners: db.collection('partners'),
    freezeWindows: db.collection('freeze_windows'),
    problems: db.collection('problems'),
    catalog: db.collection('catalog'),
    claims: db.collection('claims'),
  };
  const buildInfo = await db.admin().command({ buildInfo: 1 });
  const supportsTtl = !('ferretdbVersion' in buildInfo || 'ferretdb' in buildInfo);
  return { client, db, c, supportsTtl, close: () => client.close() };
}

/** Creates (and awaits) every index the code relies on. Safe to run at every start. */
export async function ensureIndexes(d: Database, retentionMs: number): Promise<void> {
  const { c } = d;
  await Promise.all([
    c.counters.createIndex({ bucketStart: 1 }),
    c.counterDeltas.createIndex({ bucketStart: 1 }),
    c.downtimes.createIndex({ status: 1, openedAt: -1 }),
    c.downtimes.createIndex({ scopeKey: 1, openedAt: -1 }),
    c.incidents.createIndex({ status: 1, openedAt: -1 }),
    c.timeline.createIndex({ incidentId: 1, at: 1 }),
    c.notifications.createIndex({ downtimeId: 1, at: 1 }),
    c.deliveries.createIndex({ status: 1, nextAttemptAt: 1 }),
    c.deliveries.createIndex({ receiver: 1, createdAt: -1 }),
    c.deliveries.createIndex({ downtimeId: 1, createdAt: 1 }),
    c.problems.createIndex({ scopeKey: 1, status: 1 }),
    c.claims.createIndex({ at: 1 }),
  ]);
  if (d.supportsTtl) {
    await createTtlIndex(c.transactions, retentionMs);
  } else {
    await c.transactions.createIndex({ at: 1 });
  }
}

async function createTtlIndex(transactions: Collection<TransactionDoc>, retentionMs: number): Promise<void> {
  const expireAfterSeconds = Math.max(1, Math.round(retentionMs / 1000));
  try {
    await transactions.createIndex({ at: 1 }, { expireAfterSeconds, name: 'at_ttl' });
  } catch (err) {
    // The retention changed: update the TTL in place.
    if (err instanceof MongoServerError && (err.code === 85 || err.code === 86)) {
      await updateTtl(transactions, expireAfterSeconds);
      return;
    }
    throw err;
  }
}

async function updateTtl(transactions: Collection<TransactionDoc>, expireAfterSeconds: number): Promise<void> {
  await transactions.db.command({
    collMod: transactions.collectionName,
    index: { name: 'at_ttl', expireAfterSeconds },
  });
}

/**
 * Retention: deletes counters older than the retention (their `bucketStart` is a number, which no
 * TTL index reads) and, where the server has no TTL index, transactions too.
 */
export async function purgeExpired(d: Database, now: number, retentionMs: number): Promise<{ transactions: number; counters: number }> {
  const old = { bucketStart: { $lt: now - retentionMs } };
  const counters = await d.c.counters.deleteMany(old);
  await d.c.counterDeltas.deleteMany(old);
  const transactions = d.supportsTtl ? undefined : await d.c.transactions.deleteMany({ at: { $lt: new Date(now - retentionMs) } });
  await d.c.claims.deleteMany({ at: { $lt: new Date(now - CLAIM_KEPT_MS) } });
  return { transactions: transactions?.deletedCount ?? 0, counters: counters.deletedCount };
}

/** How long a taken turn is remembered: far longer than any lease that refers to it. */
const CLAIM_KEPT_MS = 24 * 60 * 60_000;

export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}
