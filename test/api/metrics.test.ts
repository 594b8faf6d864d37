/** What /metrics tells a Prometheus scraper about downtimes, webhooks and retention. */
import { purgeExpired } from '../../db/mongo';
import { counterDoc } from '../support/counters';
import { Harness, insertDowntime, reset, startApi } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => h?.close());
beforeEach(async () => reset(h));

test('reports open downtimes by severity and outbox deliveries by channel and status', async () => {
  await insertDowntime(h, { method: 'netbanking:sbi' }, { severity: 'SEV2' });
  await insertDowntime(h, { gateway: 'payu' }, { severity: 'SEV1' });
  const base = { channel: 'webhook' as const, eventId: 'e', receiver: 's', url: 'http://127.0.0.1:9/', type: 'downtime.started', body: '{}', attempts: 0, nextAttemptAt: new Date(), createdAt: new Date() };
  await h.db.c.deliveries.insertMany([
    { ...base, _id: 'd1', status: 'pending' },
    { ...base, _id: 'd2', status: 'delivered' },
    { ...base, _id: 'd3', status: 'delivered' },
    { ...base, _id: 'd4', status: 'pending', channel: 'pagerduty', receiver: 'pagerduty', url: undefined },
  ]);
  const body = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
  expect(body).toMatch(/open_downtimes\{severity="SEV1"\} 1/);
  expect(body).toMatch(/open_downtimes\{severity="SEV2"\} 1/);
  expect(body).toMatch(/open_downtimes\{severity="SEV3"\} 0/);
  expect(body).toMatch(/outbox_deliveries\{channel="webhook",status="pending"\} 1/);
  expect(body).toMatch(/outbox_deliveries\{channel="webhook",status="delivered"\} 2/);
  expect(body).toMatch(/outbox_deliveries\{channel="pagerduty",status="pending"\} 1/);
  expect(body).toMatch(/outbox_deliveries\{channel="email",status="pending"\} 0/);
});

test('the retention purge deletes transactions and counters older than the retention and keeps the rest', async () => {
  const now = Date.now();
  const doc = (id: string, ageMs: number) => ({ _id: id, userId: 'u', method: 'upi:gpay', mode: 'upi', gateway: 'payu', status: 'success' as const, outcome: 'success' as const, at: new Date(now - ageMs), receivedAt: new Date(now) });
  await h.db.c.transactions.insertMany([doc('old', 8 * 86_400_000), doc('edge', 7 * 86_400_000 - 60_000), doc('new', 1_000)]);
  const counter = (id: string, ageMs: number) => counterDoc(now - ageMs, [{ method: 'upi:gpay', gateway: 'payu', success: 1 }], 'fixture', id);
  await h.db.c.counters.insertMany([counter('c-old', 8 * 86_400_000), counter('c-new', 60_000)]);
  // FerretDB has no TTL index, so the purge deletes the transactions there; MongoDB's TTL index does it on its own.
  expect(await purgeExpired(h.db, now, 7 * 86_400_000)).toEqual({ transactions: h.db.supportsTtl ? 0 : 1, counters: 1 });
  expect((await h.db.c.counters.find({}).toArray()).map((c) => c._id)).toEqual(['c-new']);
  if (!h.db.supportsTtl) expect((await h.db.c.transactions.find({}).toArray()).map((t) => t._id).sort()).toEqual(['edge', 'new']);
});
