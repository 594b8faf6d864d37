/** A database outage: the checkout keeps its answers from the last snapshot; writes get 503 with Retry-After. */
import type { Database } from '../../db/mongo';
import { Harness, KEYS, bearer, putCatalog, startApi, switchableDatabase } from './harness';

let h: Harness;
let outage: ReturnType<typeof switchableDatabase>;

beforeAll(async () => {
  h = await startApi({}, (db: Database) => {
    outage = switchableDatabase(db);
    return outage.db;
  });
});
afterAll(async () => {
  outage?.comeBack();
  await h?.close();
  await outage?.close();
});

test('while the database is down, payment options answer from the last snapshot and ingest answers 503 with Retry-After', async () => {
  await putCatalog(h, [{ method: 'upi:gpay', gateways: ['razorpay', 'payu'] }]);
  const before = (await h.app.inject({ method: 'GET', url: '/v1/payment-options?userId=u1', headers: bearer(KEYS.checkout) })).json();

  outage.goDown();
  await h.app.deps.snapshot.refreshNow();
  expect(h.app.deps.snapshot.lastError).toBeDefined();
  expect(h.app.deps.snapshot.staleSince).toBeDefined();

  const started = Date.now();
  const options = await h.app.inject({ method: 'GET', url: '/v1/payment-options?userId=u1', headers: bearer(KEYS.checkout) });
  expect(options.statusCode).toBe(200);
  expect(options.json()).toEqual(before);
  expect(Date.now() - started).toBeLessThan(200);

  const ingest = await h.app.inject({
    method: 'POST',
    url: '/v1/transactions',
    headers: bearer(KEYS.ingest),
    payload: { transactions: [{ id: 'o1', userId: 'u1', method: 'upi:gpay', gateway: 'razorpay', status: 'success' }] },
  });
  expect(ingest.statusCode).toBe(503);
  expect(ingest.headers['retry-after']).toBeDefined();
  expect(ingest.json()).toMatchObject({ error: 'database_unavailable' });

  const list = await h.app.inject({ method: 'GET', url: '/v1/freeze-windows', headers: bearer(KEYS.operator) });
  expect(list.statusCode).toBe(503);
  expect(list.headers['retry-after']).toBeDefined();

  const status = await h.app.inject({ method: 'GET', url: '/v1/status' });
  expect(status.statusCode).toBe(200);
  expect(status.json()).toMatchObject({ stale: true });

  outage.comeBack();
  await h.app.deps.snapshot.refreshNow();
  expect(h.app.deps.snapshot.staleSince).toBeUndefined();
  expect((await h.app.inject({ method: 'GET', url: '/v1/status' })).json()).toMatchObject({ stale: false });
  const retried = await h.app.inject({
    method: 'POST',
    url: '/v1/transactions',
    headers: bearer(KEYS.ingest),
    payload: { transactions: [{ id: 'o1', userId: 'u1', method: 'upi:gpay', gateway: 'razorpay', status: 'success' }] },
  });
  expect(retried.statusCode).toBe(202);
  expect(retried.json()).toMatchObject({ accepted: 1 });
});
