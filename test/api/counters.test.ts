/**
 * Append-only counting on the real database: each batch's counts inserted once under its token,
 * folded by compaction into one counter per route and bucket, and read the same before, during
 * and after a compaction run, including one that died half-way.
 */
import { batchCounts, deltaDocs, writeCounts } from '../../api/counter-writer';
import { counterDoc } from '../support/counters';
import { CountersBusyError, MAX_DELTAS_PER_RUN, RECENT_RUNS, compactCounters, countedAttempts, packRoutes, readCounters, unpackRoutes } from '../../db/counters';
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
beforeEach(async () => {
  await Promise.all([db.c.counters.deleteMany({}), db.c.counterDeltas.deleteMany({}), db.c.counterCompactions.deleteMany({})]);
});

const BUCKET_MS = 10_000;
const T0 = 1_700_000_000_000;
const docs = (n: number, outcome: TransactionDoc['outcome'], gateway = 'payu', at = T0): TransactionDoc[] =>
  Array.from({ length: n }, (_, i) => ({ _id: `${outcome}-${gateway}-${at}-${i}`, userId: 'u', method: 'upi:gpay', mode: 'upi', gateway, status: outcome === 'success' ? 'success' : 'failure', outcome, at: new Date(at), receivedAt: new Date(at) }));

async function totals(gateway = 'payu', bucketStart = T0) {
  const c = (await readCounters(db, bucketStart, bucketStart)).find((x) => x.gateway === gateway);
  return { success: c?.success ?? 0, systemFailure: c?.systemFailure ?? 0, userFailure: c?.userFailure ?? 0 };
}

const write = (token: string, batch: TransactionDoc[]) => writeCounts(db.c.counterDeltas, token, batchCounts(batch, BUCKET_MS), Date.now());

test('a batch written twice under its token (request, then recovery pass) is counted once', async () => {
  const a = [...docs(3, 'success'), ...docs(2, 'user_failure')];
  await write('token-a', a);
  await Promise.all([write('token-a', a), write('token-b', docs(4, 'system_failure')), write('token-c', docs(1, 'success', 'razorpay'))]);
  expect(await totals()).toEqual({ success: 3, systemFailure: 4, userFailure: 2 });
  expect(await totals('razorpay')).toEqual({ success: 1, systemFailure: 0, userFailure: 0 });
});

test('concurrent batches on the same route are all counted (no read-modify-write to lose)', async () => {
  await Promise.all(Array.from({ length: 8 }, (_, i) => write(`t${i}`, docs(25, 'success').map((d) => ({ ...d, _id: `${d._id}-${i}` })))));
  expect(await totals()).toEqual({ success: 200, systemFailure: 0, userFailure: 0 });
});

test('a batch spanning two buckets writes one delta per bucket, each with its routes', () => {
  const counts = batchCounts([...docs(2, 'success'), ...docs(1, 'system_failure', 'razorpay', T0 + BUCKET_MS)], BUCKET_MS);
  const deltas = deltaDocs('tok', counts);
  expect(deltas.map((d) => d._id)).toEqual([`tok|${T0}`, `tok|${T0 + BUCKET_MS}`]);
  expect(unpackRoutes(deltas[1]!.packed, deltas[1]!.bucketStart)).toEqual([{ method: 'upi:gpay', gateway: 'razorpay', bucketStart: T0 + BUCKET_MS, success: 0, systemFailure: 1, userFailure: 0, probeSuccess: 0, probeFailure: 0, covered: 0 }]);
});

test('compaction folds closed buckets into one counter document per bucket, and leaves the open bucket as deltas', async () => {
  for (let i = 0; i < 5; i += 1) await write(`closed-${i}`, docs(10, 'success'));
  await write('open', docs(3, 'success', 'payu', T0 + BUCKET_MS));
  const before = await readCounters(db, T0, T0 + BUCKET_MS);

  const run = await compactCounters(db, T0 + BUCKET_MS + 1, T0 + BUCKET_MS);
  expect(run).toEqual({ deltas: 5, counters: 1 });
  expect(await readCounters(db, T0, T0 + BUCKET_MS)).toEqual(expect.arrayContaining(before));
  expect(await db.c.counters.countDocuments({})).toBe(1);
  expect(await db.c.counterDeltas.countDocuments({})).toBe(1);
  expect(await db.c.counterCompactions.countDocuments({ _id: { $nin: ['latest'] } })).toBe(0);

  // A late batch for the compacted bucket is a delta again, and counts with it.
  await write('late', docs(2, 'system_failure'));
  expect(await totals()).toEqual({ success: 50, systemFailure: 2, userFailure: 0 });
  expect(await countedAttempts(db)).toBe(55);
});

test('a compaction run that died after writing half its counters changes no read, and the next run finishes it', async () => {
  await write('a', docs(4, 'success'));
  await write('b', docs(6, 'system_failure', 'razorpay', T0 + BUCKET_MS));
  // The dead run: its marker lists both deltas, and the counters of the first of its two buckets are written.
  const dead = '0000000000-dead';
  const ids = (await db.c.counterDeltas.find({}).toArray()).map((d) => d._id);
  await db.c.counterCompactions.insertOne({ _id: dead, state: 'folding', ids, startedAt: new Date(T0) });
  await db.c.counters.insertOne({ _id: `${dead}|${T0}`, run: dead, bucketStart: T0, packed: packRoutes([{ method: 'upi:gpay', gateway: 'payu', success: 4, systemFailure: 0, userFailure: 0, probeSuccess: 0, probeFailure: 0, covered: 0 }]) });
  expect(await totals()).toEqual({ success: 4, systemFailure: 0, userFailure: 0 });
  expect(await totals('razorpay', T0 + BUCKET_MS)).toEqual({ success: 0, systemFailure: 6, userFailure: 0 });

  const run = await compactCounters(db, T0 + 3 * BUCKET_MS, T0 + 2 * BUCKET_MS);
  expect(run).toEqual({ deltas: 2, counters: 2 });
  expect(await totals()).toEqual({ success: 4, systemFailure: 0, userFailure: 0 });
  expect(await totals('razorpay', T0 + BUCKET_MS)).toEqual({ success: 0, systemFailure: 6, userFailure: 0 });
  expect(await db.c.counterDeltas.countDocuments({})).toBe(0);
  expect(await db.c.counters.countDocuments({})).toBe(2);
  expect(await db.c.counterCompactions.countDocuments({ _id: dead })).toBe(0);
});

test('stored counters that are not well-formed are skipped, not thrown on', async () => {
  await write('a', docs(3, 'success'));
  await db.c.counterDeltas.insertMany([
    { _id: `junk1|${T0}`, bucketStart: T0, packed: 'not json' },
    { _id: `junk2|${T0}`, bucketStart: T0, packed: JSON.stringify([['upi:gpay'], 'x', ['upi:gpay', 'payu', 'NaN', -5, null, 1, 0, 0]]) },
  ]);
  expect(await totals()).toEqual({ success: 3, systemFailure: 0, userFailure: 0 });
});

test('the deltas of a committed run whose deletion failed are not counted twice, and the next run deletes them', async () => {
  await write('a', docs(5, 'success'));
  const done = '0000000000-done';
  const ids = (await db.c.counterDeltas.find({}).toArray()).map((d) => d._id);
  await db.c.counterCompactions.insertOne({ _id: done, state: 'committed', ids, startedAt: new Date(T0) });
  await db.c.counters.insertOne(counterDoc(T0, [{ method: 'upi:gpay', gateway: 'payu', success: 5 }], done));
  expect(await totals()).toEqual({ success: 5, systemFailure: 0, userFailure: 0 });
  expect(await compactCounters(db, T0 + 2 * BUCKET_MS, T0 + BUCKET_MS)).toEqual({ deltas: 1, counters: 0 });
  expect(await totals()).toEqual({ success: 5, systemFailure: 0, userFailure: 0 });
  expect(await db.c.counterDeltas.countDocuments({})).toBe(0);
});

test('a backlog larger than one run is folded over several runs', async () => {
  const packed = packRoutes([{ method: 'upi:gpay', gateway: 'payu', success: 1, systemFailure: 0, userFailure: 0, probeSuccess: 0, probeFailure: 0, covered: 0 }]);
  await db.c.counterDeltas.insertMany(Array.from({ length: MAX_DELTAS_PER_RUN + 10 }, (_, i) => ({ _id: `bulk${i}|${T0}`, bucketStart: T0, packed })));
  expect(await compactCounters(db, T0 + 2 * BUCKET_MS, T0 + BUCKET_MS)).toEqual({ deltas: MAX_DELTAS_PER_RUN, counters: 1 });
  expect(await totals()).toEqual({ success: MAX_DELTAS_PER_RUN + 10, systemFailure: 0, userFailure: 0 });
  expect(await compactCounters(db, T0 + 2 * BUCKET_MS, T0 + BUCKET_MS)).toEqual({ deltas: 10, counters: 1 });
  expect(await totals()).toEqual({ success: MAX_DELTAS_PER_RUN + 10, systemFailure: 0, userFailure: 0 });
  expect(await db.c.counterDeltas.countDocuments({})).toBe(0);
});

test('a second compactor backs off while the first holds the lease', async () => {
  await db.c.counterCompactions.insertOne({ _id: 'lock', until: new Date(T0 + 60_000) });
  expect(await compactCounters(db, T0, T0)).toBeUndefined();
  expect(await compactCounters(db, T0 + 60_001, T0)).toMatchObject({ deltas: 0 });
});

test.each([
  ['from the collection', () => countedAttempts(db)],
  ['from the cache of a recent window', async () => (await readCounters(db, T0, T0 + 100 * BUCKET_MS, T0 + 100 * BUCKET_MS)).reduce((n, c) => n + c.success, 0)],
])('reads taken while batches arrive and compaction runs never miss or double a batch (%s)', async (_, counted: () => Promise<number>) => {
  let written = 0;
  let done = false;
  const work = (async () => {
    for (let k = 1; k <= 20; k += 1) {
      const n = 1 + (k % 7);
      await write(`r${k}`, docs(n, 'success', k % 2 ? 'payu' : 'razorpay', T0 + k * BUCKET_MS).map((d) => ({ ...d, _id: `${d._id}-${k}` })));
      written += n;
      await compactCounters(db, T0 + 100 * BUCKET_MS, T0 + k * BUCKET_MS);
    }
  })().finally(() => (done = true));
  const reader = async () => {
    const bad: string[] = [];
    let reads = 0;
    while (!done) {
      const low = written;
      let sum: number;
      try {
        sum = await counted();
      } catch (err) {
        // Compaction steps overlapped every attempt of this read: it said so instead of answering.
        if (err instanceof CountersBusyError) continue;
        throw err;
      }
      const high = written;
      reads += 1;
      if (sum < low || sum > high) bad.push(`read ${sum} while ${low}..${high} were written`);
    }
    return { bad, reads };
  };
  const results = await Promise.all([reader(), reader(), work]);
  const [a, b] = results;
  expect([...a.bad, ...b.bad]).toEqual([]);
  expect(a.reads + b.reads).toBeGreaterThan(20);
  expect(await countedAttempts(db)).toBe(written);
  expect(await db.c.counterDeltas.countDocuments({})).toBe(1); // the last bucket is still open
});

test('a read that overlaps a whole compaction run reads again instead of counting the batch twice', async () => {
  await write('a', docs(7, 'success'));
  // Between the reader's first look at the markers and its read of the counters, a run folds the
  // delta and commits (its counter written, its delta not yet deleted).
  let interleaved = false;
  const counters = new Proxy(db.c.counters, {
    get(target, prop, receiver) {
      if (prop === 'find' && !interleaved) {
        interleaved = true;
        return (...args: Parameters<typeof target.find>) => {
          const cursor = target.find(...args);
          const toArray = async () => {
            const ids = (await db.c.counterDeltas.find({}).toArray()).map((d) => d._id);
            await db.c.counterCompactions.insertOne({ _id: 'run-x', state: 'committed', ids, startedAt: new Date(T0) });
            await db.c.counterCompactions.updateOne({ _id: 'latest' }, { $set: { run: 'run-x:committed' } }, { upsert: true });
            await target.insertOne(counterDoc(T0, [{ method: 'upi:gpay', gateway: 'payu', success: 7 }], 'run-x'));
            return cursor.toArray();
          };
          return { toArray };
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const racing = { ...db, c: { ...db.c, counters } } as Database;
  expect(await countedAttempts(racing)).toBe(7);
  expect(interleaved).toBe(true);
});

test('a read that a compaction step overlaps every time says so instead of giving a figure', async () => {
  await write('busy', docs(3, 'success', 'payu', T0));
  // Every read of the counters sees the marker state change under it (a run starting each time).
  let steps = 0;
  const counters = new Proxy(db.c.counters, {
    get(target, prop, receiver) {
      if (prop === 'find') {
        return (...args: Parameters<typeof target.find>) => {
          const cursor = target.find(...args);
          return {
            toArray: async () => {
              steps += 1;
              await db.c.counterCompactions.updateOne({ _id: 'latest' }, { $set: { run: `run-busy-${steps}:folding` } }, { upsert: true });
              return cursor.toArray();
            },
          };
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const racing = { ...db, c: { ...db.c, counters } } as Database;
  await expect(countedAttempts(racing)).rejects.toBeInstanceOf(CountersBusyError);
  expect(steps).toBeGreaterThan(5);
  // Once the runs stop, the same read answers.
  await db.c.counterCompactions.deleteOne({ _id: 'latest' });
  expect(await countedAttempts(db)).toBe(3);
});

/** The database with its `counters` collection's whole-collection reads (`find`) and `_id` lookups (`findOne`) counted. */
function counting(): { db: Database; finds: () => number; lookups: () => number } {
  let finds = 0;
  let lookups = 0;
  const counters = new Proxy(db.c.counters, {
    get(target, prop, receiver) {
      if (prop === 'find') finds += 1;
      if (prop === 'findOne') lookups += 1;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: { ...db, c: { ...db.c, counters } } as Database, finds: () => finds, lookups: () => lookups };
}

test('a reader keeps compacted counters in memory and fetches each new run by _id, so its reads stop growing with the collection', async () => {
  const reader = counting();
  const now = T0 + 200 * BUCKET_MS;
  let expected = 0;
  const round = async (k: number) => {
    await write(`cache-${k}`, docs(k, 'success', 'payu', T0 + k * BUCKET_MS).map((d) => ({ ...d, _id: `${d._id}-cache-${k}` })));
    expected += k;
    await compactCounters(db, now, T0 + (k + 1) * BUCKET_MS);
  };
  await round(1);
  const sum = async () => (await readCounters(reader.db, T0, now, now)).reduce((n, c) => n + c.success, 0);
  expect(await sum()).toBe(expected);
  const findsAfterFirst = reader.finds();
  for (let k = 2; k <= 6; k += 1) {
    await round(k);
    expect(await sum()).toBe(expected);
  }
  // Five runs later: no whole read of the collection, one lookup per bucket each run wrote.
  expect(reader.finds()).toBe(findsAfterFirst);
  expect(reader.lookups()).toBe(5);
  // The same figures as a reader that reads the collection.
  expect(await sum()).toBe((await readCounters(db, T0, now, now)).reduce((n, c) => n + c.success, 0));
});

test('a reader that fell behind the listing of recent runs reads the collection again and misses nothing', async () => {
  const reader = counting();
  const now = T0 + 500 * BUCKET_MS;
  let expected = 0;
  const round = async (k: number) => {
    await write(`behind-${k}`, docs(1, 'system_failure', 'payu', T0 + k * BUCKET_MS).map((d) => ({ ...d, _id: `${d._id}-behind-${k}` })));
    expected += 1;
    await compactCounters(db, now, T0 + (k + 1) * BUCKET_MS);
  };
  await round(0);
  const failures = async () => (await readCounters(reader.db, T0, now, now)).reduce((n, c) => n + c.systemFailure, 0);
  expect(await failures()).toBe(1);
  const finds = reader.finds();
  // More runs than the listing holds happen between two reads.
  for (let k = 1; k <= RECENT_RUNS + 2; k += 1) await round(k);
  expect(await failures()).toBe(expected);
  expect(reader.finds()).toBe(finds + 1);
  // The markers recreated (their collection emptied): the cache is not trusted either.
  await db.c.counterCompactions.deleteMany({});
  await round(RECENT_RUNS + 3);
  expect(await failures()).toBe(expected);
  expect(reader.finds()).toBe(finds + 2);
});
