/**
 * Detection's activity (detectFailingScopes) against the real database: a scope that fails again
 * soon after its recovery is judged on the buckets since that recovery, and its evidence says
 * how long they span, so the downtime it opens divides its attempts by the time they took (the
 * probe's floor share and prompt looks follow the scope's real traffic). And a quiet scope that
 * fails again right after its recovery is found on its first few failures, against the outage
 * rate its downtime stored when it closed.
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
  const recovered = resolvedDoc('dt_detect_recovered', scope, now, recoveredAt);
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

test('a quiet scope failing again right after its recovery or expiry is found on its first failures, against the stored outage rate', async () => {
  const bucketMs = config.detection.counterBucketMs;
  const now = Math.floor(Date.now() / bucketMs) * bucketMs + bucketMs / 2;
  const recoveredAt = now - 15_000;
  // Four attempts since the recovery, all failing: far short of the windows' minimum.
  const failing = { method: 'card:hdfc_debit', gateway: 'cashfree', ...zeroCounts(), systemFailure: 2 };
  const since = Math.ceil(recoveredAt / bucketMs) * bucketMs;
  await db.c.counterDeltas.insertMany([since, since + bucketMs].map((b) => ({ _id: `relapse|${b}`, bucketStart: b, packed: packRoutes([failing]) })));
  const scope = normalizeScope({ method: 'card:hdfc_debit' });
  const acts = createActivities({ db, config, temporal: { client: undefined as never, taskQueue: 'unused' }, now: () => now });
  const hdfc = async () => (await acts.detectFailingScopes(now)).failing.find((h) => h.scope.method === 'card:hdfc_debit');

  await db.c.downtimes.insertOne(resolvedDoc('dt_relapse_unmeasured', scope, now, recoveredAt));
  expect(await hdfc()).toBeUndefined();
  await db.c.downtimes.deleteOne({ _id: 'dt_relapse_unmeasured' });

  // Reopened where it was seen failing: no catalog says the card has no other gateway.
  await db.c.downtimes.insertOne({ ...resolvedDoc('dt_relapse', scope, now, recoveredAt), outageRate: 0.04 });
  expect(await hdfc()).toMatchObject({ key: 'card:hdfc_debit@cashfree', attempts: 4, successes: 0, failing: true });
  await db.c.downtimes.deleteOne({ _id: 'dt_relapse' });

  // Re-enabled at its expiry without proof of health: watched all the same.
  await db.c.downtimes.insertOne({ ...resolvedDoc('dt_relapse_expired', scope, now, recoveredAt), endReason: 'expired', outageRate: 0.04 });
  expect(await hdfc()).toMatchObject({ key: 'card:hdfc_debit@cashfree', attempts: 4, successes: 0, failing: true });
});

/** A detected downtime of `scope` that recovered through the probe at `recoveredAt`. */
function resolvedDoc(id: string, scope: DowntimeDoc['scope'], now: number, recoveredAt: number): DowntimeDoc {
  return {
    _id: id,
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
}
