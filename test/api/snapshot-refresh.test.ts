/**
 * The checkout's snapshot between whole refreshes: the open downtimes alone are re-read every
 * DOWNTIME_REFRESH, so a disable and a re-enable reach checkout without waiting for
 * SNAPSHOT_REFRESH (here an hour, so only the downtime re-read can bring them), while the success
 * rates stay as the last whole refresh read them and unchanged downtimes keep the snapshot. The
 * test writes the records as the actor's activities do: the write, then a new change token.
 */
import { bucketOf, normalizeScope, scopeKey } from '../../domain';
import { counterDoc } from '../support/counters';
import type { DowntimeDoc } from '../../db/mongo';
import { markDowntimesChanged } from '../../db/downtime-changes';
import { Harness, KEYS, bearer, putCatalog, startApi, usersByBucket } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startApi({ SNAPSHOT_REFRESH: '1h', DOWNTIME_REFRESH: '100ms' });
  await putCatalog(h, [{ method: 'netbanking:sbi', gateways: ['payu'] }]);
});
afterAll(async () => h?.close());

const shown = async (userId: string): Promise<string[]> =>
  (await h.app.inject({ method: 'GET', url: `/v1/payment-options?userId=${userId}`, headers: bearer(KEYS.checkout) })).json().options.map((o: { method: string }) => o.method);

/** Polls until `check` holds (a few seconds at most); the refresh runs on its own timer. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not seen within 5 s: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function downtime(id: string): DowntimeDoc {
  const scope = normalizeScope({ method: 'netbanking:sbi' });
  const at = new Date();
  return {
    _id: id,
    scope,
    scopeKey: scopeKey(scope),
    origin: 'detected',
    reason: 'test',
    openedBy: 'detection',
    status: 'open',
    phase: 'probing',
    openedAt: at,
    disabledAt: at,
    expiresAt: new Date(at.getTime() + 60_000),
    probePercent: 10,
    severity: 'SEV3',
    baseline: 0.9,
    threshold: 0.765,
    workflowId: `downtime:${scopeKey(scope)}`,
    updatedAt: at,
  };
}

test('a downtime written between whole refreshes hides the method at checkout, and its re-enable shows it again', async () => {
  const id = 'dt_refresh_hide';
  const { a } = usersByBucket(id, 10);
  expect(await shown(a)).toEqual(['netbanking:sbi']);
  const wholeAt = h.app.deps.snapshot.current.at;

  await h.db.c.downtimes.insertOne(downtime(id));
  await markDowntimesChanged(h.db);
  await eventually(async () => (await shown(a)).length === 0, 'the method hidden from a bucket-A user');

  await h.db.c.downtimes.updateOne({ _id: id }, { $set: { status: 'resolved', phase: 'resolved', resolvedAt: new Date(), endReason: 'recovered' } });
  await markDowntimesChanged(h.db);
  await eventually(async () => (await shown(a)).length === 1, 'the method shown again');
  // Both came without a whole refresh.
  expect(h.app.deps.snapshot.current.at).toBe(wholeAt);
});

test('a widened probe share reaches checkout between whole refreshes', async () => {
  const id = 'dt_refresh_widen';
  // A user in bucket B at 50% but not at 10%.
  let user = '';
  for (let i = 0; !user; i += 1) {
    const candidate = `widen_${i}`;
    if (bucketOf(candidate, id, 10) === 'A' && bucketOf(candidate, id, 50) === 'B') user = candidate;
  }
  await h.db.c.downtimes.insertOne(downtime(id));
  await markDowntimesChanged(h.db);
  await eventually(async () => (await shown(user)).length === 0, 'hidden at a 10% probe share');
  await h.db.c.downtimes.updateOne({ _id: id }, { $set: { probePercent: 50 } });
  await markDowntimesChanged(h.db);
  await eventually(async () => (await shown(user)).length === 1, 'shown as a probe at 50%');
  await h.db.c.downtimes.deleteMany({});
  await markDowntimesChanged(h.db);
});

test('re-reading unchanged downtimes keeps the snapshot, and the success rates wait for the whole refresh', async () => {
  await h.db.c.downtimes.deleteMany({});
  await markDowntimesChanged(h.db);
  await eventually(async () => h.app.deps.snapshot.current.downtimes.length === 0, 'no open downtime');
  const before = h.app.deps.snapshot.current;
  await new Promise((r) => setTimeout(r, 600));
  // Six re-reads found the same downtimes: the same snapshot (and its cached answers).
  expect(h.app.deps.snapshot.current).toBe(before);

  const bucketMs = h.config.detection.counterBucketMs;
  const bucketStart = Math.floor(Date.now() / bucketMs) * bucketMs;
  await h.db.c.counters.insertOne(counterDoc(bucketStart, [{ method: 'netbanking:sbi', gateway: 'payu', success: 1, systemFailure: 99 }]));
  await h.db.c.downtimes.insertOne(downtime('dt_refresh_rates'));
  await markDowntimesChanged(h.db);
  await eventually(async () => h.app.deps.snapshot.current.downtimes.length === 1, 'the new downtime');
  expect(h.app.deps.snapshot.current.rates.get('netbanking:sbi@payu')).toEqual(before.rates.get('netbanking:sbi@payu'));
  await h.app.deps.snapshot.refreshNow();
  expect(h.app.deps.snapshot.current.rates.get('netbanking:sbi@payu')).toEqual({ successes: 1, systemFailures: 99 });
});

test('between writes the re-reads skip the downtimes, and a new change token brings a write at once', async () => {
  await h.db.c.downtimes.deleteMany({});
  await markDowntimesChanged(h.db);
  await eventually(async () => h.app.deps.snapshot.current.downtimes.length === 0, 'no open downtime');
  // Written without a new token (as no activity writes): the re-reads every 100 ms do not read it.
  await h.db.c.downtimes.insertOne(downtime('dt_refresh_token'));
  await new Promise((r) => setTimeout(r, 800));
  expect(h.app.deps.snapshot.current.downtimes).toHaveLength(0);
  await markDowntimesChanged(h.db);
  await eventually(async () => h.app.deps.snapshot.current.downtimes.length === 1, 'the downtime once the token moved');
  await h.db.c.downtimes.deleteMany({});
  await markDowntimesChanged(h.db);
});
