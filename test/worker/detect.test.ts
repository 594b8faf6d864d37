/**
 * Detection's activity (detectFailingScopes) against the real database: a scope that fails again
 * soon after its recovery is judged on the buckets since that recovery, and its evidence says
 * how long they span, so the downtime it opens divides its attempts by the time they took (the
 * probe's floor share and prompt looks follow the scope's real traffic).
 */
import type { Config } from '../../common/config';
import type { Database, DowntimeDoc } from '../../db/mongo';
import { createActivities } from '../../activities';
import { packRoutes, zeroCounts } from '../../db/counters';
import { normalizeScope, scopeKey } from '../../domain';
import { testConfig, testDatabase } from '../support/stack';

let config: Config;
let db: Database;

beforeAll(async () => {
  config = testConfig({ DETECTION_WINDOW: '5m', COUNTER_BUCKET: '10s' });
  db = await testDatabase(config);
});

afterAll(async () => {
  await db.db.dropDatabase();
  await db.close();
});

test('a scope failing again after its recovery reports the window since the recovery, not the whole detection window', async () => {
  const bucketMs = config.detection.counterBucketMs;
  const now = Math.floor(Date.now() / bucketMs) * bucketMs + bucketMs / 2;
  const recoveredAt = now - 95_000;
  // Failing all through the detection window: 60 attempts per 10-second bucket, 3 succeed.
  const failing = { method: 'netbanking:sbi', gateway: 'payu', ...zeroCounts(), success: 3, systemFailure: 57 };
  const first = Math.floor((now - config.detection.windowMs) / bucketMs) * bucketMs;
  const deltas = [];
  for (let b = first; b <= now; b += bucketMs) deltas.push({ _id: `detect|${b}`, bucketStart: b, packed: packRoutes([failing]) });
  await db.c.counterDeltas.insertMany(deltas);
  const scope = normalizeScope({ method: 'netbanking:sbi' });
  const recovered: DowntimeDoc = {
    _id: 'dt_detect_recovered',
    scope,
    scopeKey: scopeKey(scope),
    origin: 'detected',
    reason: 'test',
    openedBy: 'detection',
    status: 'resolved',
    phase: 'resolved',
    openedAt: new Date(now - 200_000),
    disabledAt: new Date(now - 200_000),
    expiresAt: new Date(now + 60_000),
    probePercent: 10,
    severity: 'SEV3',
    baseline: 0.95,
    threshold: 0.8,
    endReason: 'recovered',
    resolvedAt: new Date(recoveredAt),
    workflowId: `downtime:${scopeKey(scope)}`,
    updatedAt: new Date(recoveredAt),
  };
  await db.c.downtimes.insertOne(recovered);
  const acts = createActivities({ db, config, temporal: { client: undefined as never, taskQueue: 'unused' }, now: () => now });

  const { failing: found } = await acts.detectFailingScopes(now);
  const sbi = found.find((h) => h.scope.method === 'netbanking:sbi');
  // Counted from the first bucket starting at or after the recovery: 95 s, ten buckets (the last half way).
  const countedFrom = Math.ceil(recoveredAt / bucketMs) * bucketMs;
  expect(sbi).toMatchObject({ windowMs: now - countedFrom });
  expect(sbi!.attempts).toBe(60 * Math.ceil((now - countedFrom) / bucketMs));
  // Its traffic as the downtime reads it: the real 6 attempts a second (its 600 attempts over the
  // whole 5-minute window would say 2).
  expect(sbi!.attempts / (sbi!.windowMs! / 1000)).toBeGreaterThan(5.5);
});
