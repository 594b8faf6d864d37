/**
 * A database outage, for real: the API runs on a MongoDB-wire server of its own, which the test
 * stops and starts again on the same data. The checkout keeps its answers from the last
 * snapshot; writes get 503 with Retry-After; nothing is lost once the server is back.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { RunningServer, startMongoWireServer } from '../../scripts/local-servers';
import { Harness, KEYS, bearer, putCatalog, startApi } from './harness';

let h: Harness;
let server: RunningServer;
let port: number;
const dataDir = join(process.env.TEST_WORK_DIR!, 'outage-mongo');

const startServer = () => startMongoWireServer({ port, dataDir, logFile: join(process.env.TEST_WORK_DIR!, 'outage-mongo.log') });

beforeAll(async () => {
  port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  server = await startServer();
  h = await startApi({ MONGODB_URI: server.address });
});

afterAll(async () => {
  await h?.close();
  await server?.stop();
});

const tx = (id: string) => ({ transactions: [{ id, userId: 'u1', method: 'upi:gpay', gateway: 'razorpay', status: 'success' }] });

test('while the database is stopped, payment options answer from the last snapshot and ingest answers 503 with Retry-After', async () => {
  await putCatalog(h, [{ method: 'upi:gpay', gateways: ['razorpay', 'payu'] }]);
  const before = (await h.app.inject({ method: 'GET', url: '/v1/payment-options?userId=u1', headers: bearer(KEYS.checkout) })).json();
  expect(before.options).toHaveLength(1);

  await server.stop();

  // A refresh is under way against the stopped server; the checkout does not wait for it.
  const refreshing = h.app.deps.snapshot.refreshNow();
  const options = await h.app.inject({ method: 'GET', url: '/v1/payment-options?userId=u1', headers: bearer(KEYS.checkout) });
  expect(options.statusCode).toBe(200);
  expect(options.json()).toEqual(before);
  await refreshing;
  expect(h.app.deps.snapshot.lastError).toBeDefined();
  expect(h.app.deps.snapshot.staleSince).toBeDefined();
  expect((await h.app.inject({ method: 'GET', url: '/v1/payment-options?userId=u1', headers: bearer(KEYS.checkout) })).json()).toEqual(before);

  const ingest = await h.app.inject({ method: 'POST', url: '/v1/transactions', headers: bearer(KEYS.ingest), payload: tx('o1') });
  expect(ingest.statusCode).toBe(503);
  expect(ingest.headers['retry-after']).toBeDefined();
  expect(ingest.json()).toMatchObject({ error: 'database_unavailable' });

  for (const url of ['/v1/freeze-windows', '/v1/downtimes', '/v1/catalog']) {
    const read = await h.app.inject({ method: 'GET', url, headers: bearer(KEYS.admin) });
    expect({ url, status: read.statusCode, retryAfter: read.headers['retry-after'] }).toEqual({ url, status: 503, retryAfter: '5' });
  }

  const status = await h.app.inject({ method: 'GET', url: '/v1/status' });
  expect(status.statusCode).toBe(200);
  expect(status.json()).toMatchObject({ stale: true });

  server = await startServer();
  await h.app.deps.snapshot.refreshNow();
  expect(h.app.deps.snapshot.staleSince).toBeUndefined();
  expect((await h.app.inject({ method: 'GET', url: '/v1/status' })).json()).toMatchObject({ stale: false });

  // The checkout retries the batch that got 503: stored once, nothing half-way from the outage.
  const retried = await h.app.inject({ method: 'POST', url: '/v1/transactions', headers: bearer(KEYS.ingest), payload: tx('o1') });
  expect(retried.statusCode).toBe(202);
  expect(retried.json()).toMatchObject({ accepted: 1, duplicates: 0 });
  expect(await h.db.c.transactions.countDocuments({ _id: 'o1' })).toBe(1);
  // The catalog written before the outage survived the restart on the same data.
  expect((await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: bearer(KEYS.admin) })).json().methods).toHaveLength(1);
}, 120_000);
