/** An API over the real database for the API tests, and fixtures: catalog, open downtimes, users by bucket. */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { KeyRing } from '../../api/auth';
import type { Config } from '../../common/config';
import type { Database, DowntimeDoc } from '../../db/mongo';
import { bucketOf, normalizeScope, scopeKey } from '../../domain';
import type { Scope, Severity } from '../../domain';
import { KEYS, bearer, testClient, testConfig, testDatabase } from '../support/stack';

export { KEYS, bearer };

export interface Harness {
  app: FastifyInstance;
  config: Config;
  db: Database;
  close(): Promise<void>;
}

export async function startApi(env: Record<string, string> = {}, wrap?: (db: Database) => Database): Promise<Harness> {
  const config = testConfig(env);
  const db = await testDatabase(config);
  const temporal = await testClient();
  const app = await buildApp({ config, db: wrap ? wrap(db) : db, temporal: temporal.client, keys: new KeyRing(config.apiKeys!) });
  return {
    app,
    config,
    db,
    async close() {
      await app.close();
      await temporal.close();
      await db.db.dropDatabase();
      await db.close();
    },
  };
}

/** Empties what a test writes, and refreshes the snapshot so it sees the empty database. */
export async function reset(h: Harness): Promise<void> {
  const c = h.db.c;
  await Promise.all([
    c.transactions.deleteMany({}),
    c.counters.deleteMany({}),
    c.counterDeltas.deleteMany({}),
    c.counterCompactions.deleteMany({}),
    c.pendingCounts.deleteMany({}),
    c.downtimes.deleteMany({}),
    c.incidents.deleteMany({}),
    c.timeline.deleteMany({}),
    c.catalog.deleteMany({}),
    c.freezeWindows.deleteMany({}),
    c.webhooks.deleteMany({}),
    c.deliveries.deleteMany({}),
    c.problems.deleteMany({}),
  ]);
  await h.app.deps.snapshot.refreshNow();
}

export async function putCatalog(
  h: Harness,
  methods: { method: string; gateways: string[]; priority?: number; attributes?: Record<string, string> }[],
  gateways?: { gateway: string; aggregator?: string }[],
): Promise<void> {
  const res = await h.app.inject({ method: 'PUT', url: '/v1/catalog', headers: bearer(KEYS.admin), payload: { methods, ...(gateways ? { gateways } : {}) } });
  if (res.statusCode !== 200) throw new Error(`PUT /v1/catalog: ${res.statusCode} ${res.body}`);
}

let seq = 0;

/** Writes an open downtime record as the workflow's activities would; disabled unless told otherwise. */
export async function insertDowntime(
  h: Harness,
  raw: Scope,
  opts: { disabled?: boolean; probePercent?: number; severity?: Severity; openedAt?: number; resolvedAt?: number; id?: string } = {},
): Promise<DowntimeDoc> {
  const scope = normalizeScope(raw);
  const key = scopeKey(scope);
  const openedAt = new Date(opts.openedAt ?? Date.now() - 60_000);
  seq += 1;
  const doc: DowntimeDoc = {
    _id: opts.id ?? `dt_test${Date.now().toString(36)}${seq}`,
    scope,
    scopeKey: key,
    origin: 'manual',
    reason: 'test',
    openedBy: 'test',
    status: opts.resolvedAt !== undefined ? 'resolved' : 'open',
    phase: opts.resolvedAt !== undefined ? 'resolved' : opts.disabled === false ? 'disabling' : 'probing',
    openedAt,
    expiresAt: new Date(openedAt.getTime() + 30 * 60_000),
    probePercent: opts.probePercent ?? 50,
    severity: opts.severity ?? 'SEV3',
    baseline: 0.95,
    threshold: 0.8,
    workflowId: `downtime:${key}`,
    updatedAt: openedAt,
  };
  if (opts.disabled !== false) doc.disabledAt = openedAt;
  if (opts.resolvedAt !== undefined) {
    doc.resolvedAt = new Date(opts.resolvedAt);
    doc.endReason = 'manual';
  }
  await h.db.c.downtimes.insertOne(doc);
  await h.app.deps.snapshot.refreshNow();
  return doc;
}

/** A user in bucket A and one in bucket B for the downtime. */
export function usersByBucket(downtimeId: string, probePercent: number): { a: string; b: string } {
  let a: string | undefined;
  let b: string | undefined;
  for (let i = 0; (a === undefined || b === undefined) && i < 100_000; i += 1) {
    const user = `user_${i}`;
    if (bucketOf(user, downtimeId, probePercent) === 'A') a ??= user;
    else b ??= user;
  }
  return { a: a!, b: b! };
}
