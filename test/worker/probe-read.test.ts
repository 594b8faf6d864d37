/**
 * The probe's read of bucket-B outcomes (activity readProbe) against the real database: counted
 * from the counter bucket holding `since`; a test restarted in the bucket of the look that ended
 * the last run, less what that run counted there (`bucketStart`, `inBucket`), sees every later
 * outcome once and loses none.
 */
import type { Config } from '../../common/config';
import type { Database } from '../../db/mongo';
import { createActivities } from '../../activities';
import { packRoutes, zeroCounts } from '../../db/counters';
import { lessCounted } from '../../domain';
import { testConfig, testDatabase } from '../support/stack';

let config: Config;
let db: Database;

beforeAll(async () => {
  config = testConfig();
  db = await testDatabase(config);
});

afterAll(async () => {
  await db.db.dropDatabase();
  await db.close();
});

test('a probe read counts the scope\'s outcomes from the counter bucket holding its start to now, and no other scope\'s', async () => {
  const bucketMs = config.detection.counterBucketMs;
  const t0 = Math.floor(Date.now() / bucketMs) * bucketMs - 20 * bucketMs;
  const route = (probeSuccess: number, probeFailure: number) => ({ method: 'netbanking:sbi', gateway: 'payu', ...zeroCounts(), probeSuccess, probeFailure });
  // Bucket 0: 3 failures; bucket 1: 2 failures; bucket 2: 4 successes; bucket 3: 1 success, 1 failure.
  const buckets = [route(0, 3), route(0, 2), route(4, 0), route(1, 1)];
  await db.c.counterDeltas.insertMany(buckets.map((r, i) => ({ _id: `probe-read|${t0 + i * bucketMs}`, bucketStart: t0 + i * bucketMs, packed: packRoutes([r]) })));
  const acts = createActivities({ db, config, temporal: { client: undefined as never, taskQueue: 'unused' }, now: Date.now });
  const scope = { method: 'netbanking:sbi' };

  // The first run starts mid-bucket 0 (the scope was disabled then) and looks mid-bucket 1.
  const first = await acts.readProbe({ scope, since: t0 + bucketMs / 2, now: t0 + bucketMs + bucketMs / 2 });
  expect(first).toMatchObject({ successes: 0, failures: 5, bucketStart: t0 + bucketMs, inBucket: { successes: 0, failures: 2 } });

  // A run from the start of bucket 2 sees buckets 2 and 3 only.
  const second = await acts.readProbe({ scope, since: t0 + 2 * bucketMs, now: t0 + 3 * bucketMs + bucketMs / 2 });
  expect(second).toMatchObject({ successes: 5, failures: 1, bucketStart: t0 + 3 * bucketMs });

  // Other scopes see nothing of it.
  expect(await acts.readProbe({ scope: { method: 'netbanking:hdfc' }, since: t0, now: t0 + 4 * bucketMs })).toMatchObject({ successes: 0, failures: 0 });
});

test('a probe run restarted in the bucket of its last look, less what it counted there, loses no outcome and counts none twice', async () => {
  const bucketMs = config.detection.counterBucketMs;
  const t0 = Math.floor(Date.now() / bucketMs) * bucketMs - 40 * bucketMs;
  const route = (probeSuccess: number, probeFailure: number) => ({ method: 'netbanking:axis', gateway: 'payu', ...zeroCounts(), probeSuccess, probeFailure });
  const delta = (id: string, bucket: number, r: ReturnType<typeof route>) => ({ _id: `probe-exact|${id}`, bucketStart: t0 + bucket * bucketMs, packed: packRoutes([r]) });
  const acts = createActivities({ db, config, temporal: { client: undefined as never, taskQueue: 'unused' }, now: Date.now });
  const scope = { method: 'netbanking:axis' };

  // Bucket 0: 3 failures. Bucket 1 so far: 2 failures; the look mid-bucket 1 ends the run ("still failing").
  await db.c.counterDeltas.insertMany([delta('a', 0, route(0, 3)), delta('b', 1, route(0, 2))]);
  const first = await acts.readProbe({ scope, since: t0 + bucketMs / 2, now: t0 + bucketMs + bucketMs / 2 });
  expect(first).toMatchObject({ successes: 0, failures: 5, bucketStart: t0 + bucketMs, inBucket: { successes: 0, failures: 2 } });

  // The route recovers later in bucket 1 (3 successes), and bucket 2 brings 4 more.
  await db.c.counterDeltas.insertMany([delta('c', 1, route(3, 0)), delta('d', 2, route(4, 0))]);
  const second = await acts.readProbe({ scope, since: first.bucketStart, now: t0 + 2 * bucketMs + bucketMs / 2 });
  // Bucket 1's late successes count (restarted at the next bucket they would be lost); its 2 failures do not count again.
  expect(lessCounted(second, first.inBucket)).toMatchObject({ successes: 7, failures: 0 });
});
