/** POST /v1/transactions: per-record validation, idempotent storage and the counters detection and probes read. */
import { MongoNetworkError } from 'mongodb';
import { COUNT_LEASE_MS, DatabaseUnavailableError, Ingestor } from '../../api/ingest';
import { readCounters } from '../../db/counters';
import type { CounterDoc } from '../../db/mongo';
import { Harness, KEYS, bearer, insertDowntime, reset, startApi, usersByBucket } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startApi({ USER_ERROR_CODES: 'CUSTOMER_ABANDONED' });
});
afterAll(async () => h?.close());
beforeEach(async () => reset(h));

const post = (transactions: unknown, key = KEYS.ingest) =>
  h.app.inject({ method: 'POST', url: '/v1/transactions', headers: bearer(key), payload: { transactions } });

const tx = (id: string, extra: Record<string, unknown> = {}) => ({ id, userId: 'u1', method: 'upi:gpay', gateway: 'razorpay', status: 'success', ...extra });

/** The route's counters, as detection and the probe read them, summed over its buckets. */
async function counted(method: string, gateway: string): Promise<Omit<CounterDoc, '_id' | 'method' | 'gateway' | 'bucketStart'>> {
  const docs = (await readCounters(h.db, -Infinity, Infinity)).filter((c) => c.method === method && c.gateway === gateway);
  const sum = { success: 0, systemFailure: 0, userFailure: 0, probeSuccess: 0, probeFailure: 0, covered: 0 };
  for (const d of docs) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += (d[k] as number | undefined) ?? 0;
  return sum as never;
}

describe('authentication', () => {
  test('refuses a batch without a key (401) and with a checkout key (403)', async () => {
    const none = await h.app.inject({ method: 'POST', url: '/v1/transactions', payload: { transactions: [tx('t1')] } });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect((await post([tx('t1')], KEYS.checkout)).statusCode).toBe(403);
    expect(await h.db.c.transactions.countDocuments()).toBe(0);
  });
});

describe('storing and counting', () => {
  test('stores a valid batch and counts successes, system failures and user failures per route and bucket', async () => {
    const at = new Date(Date.now() - 30_000).toISOString();
    const res = await post([
      tx('t1', { at }),
      tx('t2', { at, status: 'failure', errorCode: 'GATEWAY_TIMEOUT' }),
      tx('t3', { at, status: 'failure' }),
      tx('t4', { at, status: 'failure', errorCode: 'INSUFFICIENT_FUNDS' }),
      tx('t5', { at, status: 'failure', errorCode: 'CUSTOMER_ABANDONED' }),
      tx('t6', { at, gateway: 'payu' }),
    ]);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 6, duplicates: 0, rejected: [] });

    expect(await counted('upi:gpay', 'razorpay')).toEqual({ success: 1, systemFailure: 2, userFailure: 2, probeSuccess: 0, probeFailure: 0, covered: 0 });
    expect(await counted('upi:gpay', 'payu')).toMatchObject({ success: 1, systemFailure: 0 });
    const bucketMs = h.config.detection.counterBucketMs;
    const bucketStart = Math.floor(Date.parse(at) / bucketMs) * bucketMs;
    expect(await readCounters(h.db, bucketStart, bucketStart)).toContainEqual(expect.objectContaining({ method: 'upi:gpay', gateway: 'razorpay', bucketStart, success: 1 }));

    const stored = await h.db.c.transactions.findOne({ _id: 't4' });
    expect(stored).toMatchObject({ userId: 'u1', mode: 'upi', outcome: 'user_failure', errorCode: 'INSUFFICIENT_FUNDS', at: new Date(at) });
  });

  test('a retried batch is stored and counted once, its transactions reported as duplicates', async () => {
    const batch = [tx('r1'), tx('r2', { status: 'failure', errorCode: 'BANK_UNAVAILABLE' }), tx('r3')];
    expect((await post(batch)).json()).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
    const again = await post([...batch, tx('r4')]);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ accepted: 1, duplicates: 3, rejected: [] });
    expect(await counted('upi:gpay', 'razorpay')).toMatchObject({ success: 3, systemFailure: 1 });
    expect(await h.db.c.transactions.countDocuments()).toBe(4);
  });

  test('concurrent batches creating the same counter each count once', async () => {
    const at = new Date().toISOString();
    const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 25 }, (_, i) => tx(`c${b}-${i}`, { at })));
    const answers = await Promise.all(batches.map((batch) => post(batch)));
    expect(answers.map((a) => a.statusCode)).toEqual(batches.map(() => 202));
    expect(await counted('upi:gpay', 'razorpay')).toMatchObject({ success: 200 });
  });

  test('counts a bucket-B user’s attempts on a route under a disabled downtime as probe samples', async () => {
    const downtime = await insertDowntime(h, { method: 'netbanking:sbi' }, { probePercent: 50 });
    const { a, b } = usersByBucket(downtime._id, 50);
    const res = await post([
      { id: 'p1', userId: b, method: 'netbanking:sbi', gateway: 'payu', status: 'success' },
      { id: 'p2', userId: b, method: 'netbanking:sbi', gateway: 'payu', status: 'failure', errorCode: 'ISSUER_DOWN' },
      { id: 'p3', userId: b, method: 'netbanking:sbi', gateway: 'payu', status: 'failure', errorCode: 'INVALID_OTP' },
      { id: 'p4', userId: a, method: 'netbanking:sbi', gateway: 'payu', status: 'success' },
      { id: 'p5', userId: b, method: 'upi:gpay', gateway: 'payu', status: 'success' },
    ]);
    expect(res.json()).toMatchObject({ accepted: 5 });

    expect(await counted('netbanking:sbi', 'payu')).toEqual({ success: 2, systemFailure: 1, userFailure: 1, covered: 4, probeSuccess: 1, probeFailure: 1 });
    expect(await counted('upi:gpay', 'payu')).toMatchObject({ success: 1, covered: 0, probeSuccess: 0 });
    expect(await h.db.c.transactions.findOne({ _id: 'p1' })).toMatchObject({ downtimeId: downtime._id, bucket: 'B' });
    expect(await h.db.c.transactions.findOne({ _id: 'p4' })).toMatchObject({ downtimeId: downtime._id, bucket: 'A' });
    expect(await h.db.c.transactions.findOne({ _id: 'p5' })).not.toHaveProperty('downtimeId');
  });

  test('a downtime that is open but not yet disabled covers nothing', async () => {
    await insertDowntime(h, { gateway: 'payu' }, { disabled: false });
    await post([{ id: 'n1', userId: 'x', method: 'upi:gpay', gateway: 'payu', status: 'success' }]);
    expect(await counted('upi:gpay', 'payu')).toMatchObject({ success: 1, covered: 0 });
  });

  test('counts accepted and rejected transactions in the metrics', async () => {
    await post([tx('m1'), { id: 'bad id!' }]);
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/transactions_ingested_total\{result="accepted"\} [1-9]/);
    expect(metrics.body).toMatch(/transactions_rejected_total [1-9]/);
  });
});

describe('exactly-once counting when a batch is interrupted', () => {
  /** An ingestor on the real database whose `collection.method` fails once, as if the process died there. */
  function interruptedAt(collection: 'counterDeltas' | 'pendingCounts', method: 'insertMany' | 'deleteOne', clock: { now: number }) {
    const real = h.db.c[collection];
    let failed = false;
    const failing = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === method && !failed) {
          return () => {
            failed = true;
            return Promise.reject(new MongoNetworkError('connection reset (injected)'));
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const db = { ...h.db, c: { ...h.db.c, [collection]: failing } };
    const { config, snapshot, metrics } = h.app.deps;
    return new Ingestor({ db, config, snapshot, metrics, now: () => clock.now });
  }

  test('transactions stored by a batch that died before counting are counted once by the recovery pass', async () => {
    const clock = { now: Date.now() };
    const ingestor = interruptedAt('counterDeltas', 'insertMany', clock);
    const batch = [tx('x1'), tx('x2', { status: 'failure', errorCode: 'BANK_UNAVAILABLE' })];
    await expect(ingestor.ingest(batch)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(await h.db.c.transactions.countDocuments()).toBe(2);

    // The checkout retries: the stored ones are duplicates, and not counted by the retry.
    expect(await ingestor.ingest(batch)).toEqual({ accepted: 0, duplicates: 2, rejected: [] });
    expect(await counted('upi:gpay', 'razorpay')).toMatchObject({ success: 0, systemFailure: 0 });

    expect(await ingestor.recoverUncounted()).toBe(0); // still within the batch's lease
    clock.now += 2 * COUNT_LEASE_MS + 1;
    expect(await ingestor.recoverUncounted()).toBe(2);
    expect(await counted('upi:gpay', 'razorpay')).toMatchObject({ success: 1, systemFailure: 1 });
    expect(await ingestor.recoverUncounted()).toBe(0);
    expect(await counted('upi:gpay', 'razorpay')).toMatchObject({ success: 1, systemFailure: 1 });
  });

  test('a batch counted but not marked done is not counted again by the recovery pass', async () => {
    const clock = { now: Date.now() };
    const ingestor = interruptedAt('pendingCounts', 'deleteOne', clock);
    await expect(ingestor.ingest([tx('y1'), tx('y2'), tx('y3', { gateway: 'payu' })])).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(await counted('upi:gpay', 'razorpay')).toMatchObject({ success: 2 });
    clock.now += 2 * COUNT_LEASE_MS + 1;
    expect(await ingestor.recoverUncounted()).toBe(3);
    expect(await counted('upi:gpay', 'razorpay')).toMatchObject({ success: 2 });
    expect(await counted('upi:gpay', 'payu')).toMatchObject({ success: 1 });
    expect(await h.db.c.pendingCounts.countDocuments()).toBe(0);
  });
});

describe('per-record validation', () => {
  test('rejects bad records one by one, naming the field, and stores the good ones', async () => {
    const now = Date.now();
    const res = await post([
      tx('ok.1:a_b-c'),
      tx('v1', { method: 'gpay' }),
      { id: 'v2', method: 'upi:gpay', gateway: 'razorpay', status: 'success' },
      tx('v3', { status: 'pending' }),
      tx('v4', { $where: 'sleep(1000)' }),
      tx('v5', { 'meta.x': 1 }),
      tx('v6', { gateway: { $ne: null } }),
      tx('v7', { at: new Date(now + 10 * 60_000).toISOString() }),
      tx('v8', { at: new Date(now - 8 * 86_400_000).toISOString() }),
      tx('v9', { at: 'yesterday' }),
      tx('bad id with spaces'),
      tx('v10', { amount: 100 }),
      'not an object',
      tx('ok.1:a_b-c'),
      tx('v11', { errorCode: 42 }),
      tx('x'.repeat(129)),
      tx('v12', { '': { $in: ['a'] } }),
    ]);
    expect(res.statusCode).toBe(202);
    const body = res.json() as { accepted: number; rejected: { index: number; error: string }[] };
    expect(body.accepted).toBe(1);
    const errors = Object.fromEntries(body.rejected.map((r) => [r.index, r.error]));
    expect(errors).toEqual({
      1: expect.stringMatching(/^method: expected mode:name/),
      2: expect.stringMatching(/^userId: /),
      3: expect.stringMatching(/^status: /),
      4: expect.stringMatching(/^\$where: .*"\$"/),
      5: expect.stringMatching(/^meta\.x: /),
      6: expect.stringMatching(/^gateway\.\$ne: /),
      7: 'at: more than 5 minutes in the future',
      8: expect.stringMatching(/^at: older than the retention/),
      9: expect.stringMatching(/^at: expected an ISO-8601/),
      10: expect.stringMatching(/^id: /),
      11: 'amount: unknown field',
      12: 'transaction: expected an object',
      13: 'id: duplicate of transactions[0] in this batch',
      14: expect.stringMatching(/^errorCode: /),
      15: expect.stringMatching(/^id: /),
      // The operator under an empty key is named by its whole path, the empty key quoted.
      16: '"".$in: field names must not start with "$" or contain "."',
    });
    expect(await h.db.c.transactions.find({}).map((d) => d._id).toArray()).toEqual(['ok.1:a_b-c']);
    expect(await counted('upi:gpay', 'razorpay')).toMatchObject({ success: 1 });
  });

  test('refuses the whole batch with 400 naming transactions when the envelope is wrong', async () => {
    const missing = await h.app.inject({ method: 'POST', url: '/v1/transactions', headers: bearer(KEYS.ingest), payload: { items: [] } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: 'bad_request', field: 'transactions' });

    const tooMany = await post(Array.from({ length: 1001 }, (_, i) => tx(`big${i}`)));
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toMatchObject({ field: 'transactions', message: expect.stringMatching(/^transactions: .*1000/) });
    expect(await h.db.c.transactions.countDocuments()).toBe(0);
  });

  test('accepts a full batch of 1000 and counts each once', async () => {
    const res = await post(Array.from({ length: 1000 }, (_, i) => tx(`full${i}`, { status: i % 10 === 0 ? 'failure' : 'success' })));
    expect(res.json()).toEqual({ accepted: 1000, duplicates: 0, rejected: [] });
    expect(await counted('upi:gpay', 'razorpay')).toMatchObject({ success: 900, systemFailure: 100 });
  });

  test('answers 413 with a JSON message for a body over 1 MiB', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/transactions',
      headers: { ...bearer(KEYS.ingest), 'content-type': 'application/json' },
      payload: JSON.stringify({ transactions: [tx('huge', { userId: 'u'.repeat(1024 * 1024) })] }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.json()).toMatchObject({ message: expect.stringMatching(/too large/i) });
  });

  test('answers 400 with a JSON message for a body that is not JSON', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/transactions',
      headers: { ...bearer(KEYS.ingest), 'content-type': 'application/json' },
      payload: '{"transactions": [',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toHaveProperty('message');
  });
});

test('an unknown field whose name is empty or not a plain word is named quoted, and the batch keeps its valid records', async () => {
  const res = await post([{ ...tx('q1'), '': 1 }, { ...tx('q2'), 'two words': 1 }, tx('q3')]);
  expect(res.statusCode).toBe(202);
  expect(res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [{ index: 0, error: '"": unknown field' }, { index: 1, error: '"two words": unknown field' }] });
});
