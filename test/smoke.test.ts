/**
 * The real parts talk: a downtime opened through the API starts a workflow on the real Temporal
 * dev server, whose activity writes to the real database, and the API reads it back.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app';
import { KeyRing } from '../api/auth';
import type { Config } from '../common/config';
import type { Database } from '../db/mongo';
import { createWorker, WorkerParts } from '../worker/worker';
import { KEYS, bearer, testClient, testConfig, testDatabase } from './support/stack';
import { eventually } from './e2e/support';

let config: Config;
let db: Database;
let parts: WorkerParts;
let running: Promise<void>;
let app: FastifyInstance;
let client: Awaited<ReturnType<typeof testClient>>;

beforeAll(async () => {
  config = testConfig();
  db = await testDatabase(config);
  parts = await createWorker(config, db, process.env.TEST_TEMPORAL_ADDRESS!);
  running = parts.worker.run();
  client = await testClient();
  app = await buildApp({ config, db, temporal: client.client, keys: new KeyRing(config.apiKeys!) });
});

afterAll(async () => {
  await app?.close();
  parts?.worker.shutdown();
  await running;
  await parts?.close();
  await client?.close();
  await db?.db.dropDatabase();
  await db?.close();
});


test('a manual downtime opened through the API is recorded by the workflow and read back with its live state', async () => {
  const created = await app.inject({
    method: 'POST',
    url: '/v1/downtimes',
    headers: bearer(KEYS.operator),
    payload: { scope: { method: 'netbanking:sbi' }, reason: 'bank maintenance', by: 'alice' },
  });
  expect(created.statusCode).toBe(202);
  const { id } = created.json() as { id: string };

  const record = await eventually('the downtime to be recorded and probing', async () => {
    const res = await app.inject({ method: 'GET', url: `/v1/downtimes/${id}`, headers: bearer(KEYS.operator) });
    const body = res.json() as { phase: string; live: { phase: string } | null };
    return res.statusCode === 200 && body.phase === 'probing' && body.live?.phase === 'probing' ? body : undefined;
  });
  expect(record).toMatchObject({ id, status: 'open', scopeKey: 'netbanking:sbi@*', origin: 'manual', live: { downtimeId: id, status: 'open' } });

  const resolved = await app.inject({ method: 'POST', url: `/v1/downtimes/${id}/resolve`, headers: bearer(KEYS.operator), payload: { by: 'alice', reason: 'bank is back' } });
  expect(resolved.statusCode).toBe(200);
  expect(resolved.json()).toMatchObject({ state: { status: 'resolved', endReason: 'manual' } });

  const again = await app.inject({ method: 'POST', url: `/v1/downtimes/${id}/resolve`, headers: bearer(KEYS.operator), payload: { by: 'alice' } });
  expect(again.statusCode).toBe(409);
  expect(again.json().message).toMatch(/already resolved/);
});

test('the API answers /healthz without a key and refuses downtimes without one', async () => {
  expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  expect((await app.inject({ method: 'GET', url: '/v1/downtimes' })).statusCode).toBe(401);
  expect((await app.inject({ method: 'GET', url: '/v1/downtimes', headers: bearer(KEYS.ingest) })).statusCode).toBe(403);
});
