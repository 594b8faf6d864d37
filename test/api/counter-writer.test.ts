/** The counter writer on the real database: batches merged into one update each, and each batch added once. */
import { batchCounts, CounterWriter } from '../../api/counter-writer';
import type { Database, TransactionDoc } from '../../db/mongo';
import { testConfig, testDatabase } from '../support/stack';

let db: Database;
beforeAll(async () => {
  db = await testDatabase(testConfig());
});
afterAll(async () => {
  await db?.db.dropDatabase();
  await db?.close();
});
beforeEach(async () => db.c.counters.deleteMany({}));

const BUCKET_MS = 10_000;
const AT = new Date(1_700_000_000_000);
const docs = (n: number, outcome: TransactionDoc['outcome'], gateway = 'payu'): TransactionDoc[] =>
  Array.from({ length: n }, (_, i) => ({ _id: `${outcome}-${gateway}-${i}`, userId: 'u', method: 'upi:gpay', mode: 'upi', gateway, status: outcome === 'success' ? 'success' : 'failure', outcome, at: AT, receivedAt: AT }));

async function totals(gateway = 'payu') {
  const c = await db.c.counters.findOne({ _id: `upi:gpay@${gateway}@${Math.floor(AT.getTime() / BUCKET_MS) * BUCKET_MS}` });
  return { success: c?.success ?? 0, systemFailure: c?.systemFailure ?? 0, userFailure: c?.userFailure ?? 0 };
}

test('batches queued behind a write are merged, and a batch already applied in the group is not added again', async () => {
  const writer = new CounterWriter(db.c.counters, Date.now);
  const a = batchCounts(docs(3, 'success'), BUCKET_MS);
  await writer.apply('token-a', a);
  // While token-c is being written, token-a (again, as a recovery pass would) and token-b queue up and go together.
  await Promise.all([
    writer.apply('token-c', batchCounts(docs(2, 'user_failure'), BUCKET_MS)),
    writer.apply('token-a', a),
    writer.apply('token-b', batchCounts([...docs(4, 'system_failure'), ...docs(1, 'success', 'razorpay')], BUCKET_MS)),
  ]);
  expect(await totals()).toEqual({ success: 3, systemFailure: 4, userFailure: 2 });
  expect(await totals('razorpay')).toEqual({ success: 1, systemFailure: 0, userFailure: 0 });
  expect(await db.c.counters.countDocuments({ applied: 'token-a' })).toBe(1);
});

test('many concurrent batches on one counter each add exactly their own counts', async () => {
  const writer = new CounterWriter(db.c.counters, Date.now);
  await Promise.all(Array.from({ length: 20 }, (_, i) => writer.apply(`t${i}`, batchCounts(docs(5, 'success'), BUCKET_MS))));
  await Promise.all(Array.from({ length: 20 }, (_, i) => writer.apply(`t${i}`, batchCounts(docs(5, 'success'), BUCKET_MS))));
  expect(await totals()).toEqual({ success: 100, systemFailure: 0, userFailure: 0 });
});

test('a batch whose deadline passed while queued is refused and adds nothing', async () => {
  let now = 1_000;
  const writer = new CounterWriter(db.c.counters, () => now);
  const first = writer.apply('t-first', batchCounts(docs(1, 'success'), BUCKET_MS));
  const late = writer.apply('t-late', batchCounts(docs(5, 'success'), BUCKET_MS), 1_500);
  now = 2_000;
  await first;
  await expect(late).rejects.toThrow('counting took longer than its lease');
  expect(await totals()).toEqual({ success: 1, systemFailure: 0, userFailure: 0 });
});

test('a counter created elsewhere (another process) is found, and a new one beside it created', async () => {
  await new CounterWriter(db.c.counters, Date.now).apply('t-other', batchCounts(docs(2, 'success'), BUCKET_MS));
  const writer = new CounterWriter(db.c.counters, Date.now);
  await writer.apply('t-mine', batchCounts([...docs(1, 'success'), ...docs(3, 'user_failure', 'razorpay')], BUCKET_MS));
  expect(await totals()).toEqual({ success: 3, systemFailure: 0, userFailure: 0 });
  expect(await totals('razorpay')).toEqual({ success: 0, systemFailure: 0, userFailure: 3 });
});

test('a counter removed behind the writer’s back is created again and counted', async () => {
  const writer = new CounterWriter(db.c.counters, Date.now);
  await writer.apply('t1', batchCounts(docs(2, 'success'), BUCKET_MS));
  await db.c.counters.deleteMany({});
  await writer.apply('t2', batchCounts(docs(5, 'success'), BUCKET_MS));
  expect(await totals()).toEqual({ success: 5, systemFailure: 0, userFailure: 0 });
});

test('a group touching 150 counters is written (FerretDB hangs on update commands of 100 statements or more)', async () => {
  const writer = new CounterWriter(db.c.counters, Date.now);
  const many = Array.from({ length: 150 }, (_, i) => ({ ...docs(1, 'success')[0]!, _id: `m${i}`, at: new Date(AT.getTime() + i * BUCKET_MS) }));
  await writer.apply('t-wide', batchCounts(many, BUCKET_MS));
  expect(await db.c.counters.countDocuments({ applied: 't-wide', success: 1 })).toBe(150);
});
