/**
 * The checkout's snapshot between whole refreshes: the open downtimes alone are re-read every
 * DOWNTIME_REFRESH, so a disable and a re-enable reach checkout without waiting for
 * SNAPSHOT_REFRESH (here an hour, so only the downtime re-read can bring them), while the success
 * rates stay as the last whole refresh read them and unchanged downtimes keep the snapshot. The
 * test writes the records as the actor's activities do: the write, then the downtime's new change
 * stamp.
 */
import { bucketOf, normalizeScope, scopeKey } from '../../domain';
import { counterDoc } from '../support/counters';
import type { DowntimeDoc } from '../../db/mongo';
import { changedDowntimes, markDowntimeChanged, readDowntimeStamps } from '../../db/downtime-changes';
import { Harness, KEYS, bearer, putCatalog, startApi, usersByBucket } from './harness';
import { testDatabase } from '../support/stack';

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

/** Deletes every downtime record and marks each closed, as closing them would. */
async function clear(): Promise<void> {
  const ids = (await h.db.c.downtimes.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
  await h.db.c.downtimes.deleteMany({});
  await Promise.all(ids.map((id) => markDowntimeChanged(h.db, id, { closed: true })));
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
  await markDowntimeChanged(h.db, id);
  await eventually(async () => (await shown(a)).length === 0, 'the method hidden from a bucket-A user');

  await h.db.c.downtimes.updateOne({ _id: id }, { $set: { status: 'resolved', phase: 'resolved', resolvedAt: new Date(), endReason: 'recovered' } });
  await markDowntimeChanged(h.db, id, { closed: true });
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
  await markDowntimeChanged(h.db, id);
  await eventually(async () => (await shown(user)).length === 0, 'hidden at a 10% probe share');
  await h.db.c.downtimes.updateOne({ _id: id }, { $set: { probePercent: 50 } });
  await markDowntimeChanged(h.db, id);
  await eventually(async () => (await shown(user)).length === 1, 'shown as a probe at 50%');
  await clear();
});

test('re-reading unchanged downtimes keeps the snapshot, and the success rates wait for the whole refresh', async () => {
  await clear();
  await eventually(async () => h.app.deps.snapshot.current.downtimes.length === 0, 'no open downtime');
  const before = h.app.deps.snapshot.current;
  await new Promise((r) => setTimeout(r, 600));
  // Six re-reads found the same downtimes: the same snapshot (and its cached answers).
  expect(h.app.deps.snapshot.current).toBe(before);

  const bucketMs = h.config.detection.counterBucketMs;
  const bucketStart = Math.floor(Date.now() / bucketMs) * bucketMs;
  await h.db.c.counters.insertOne(counterDoc(bucketStart, [{ method: 'netbanking:sbi', gateway: 'payu', success: 1, systemFailure: 99 }]));
  await h.db.c.downtimes.insertOne(downtime('dt_refresh_rates'));
  await markDowntimeChanged(h.db, 'dt_refresh_rates');
  await eventually(async () => h.app.deps.snapshot.current.downtimes.length === 1, 'the new downtime');
  expect(h.app.deps.snapshot.current.rates.get('netbanking:sbi@payu')).toEqual(before.rates.get('netbanking:sbi@payu'));
  await h.app.deps.snapshot.refreshNow();
  expect(h.app.deps.snapshot.current.rates.get('netbanking:sbi@payu')).toEqual({ successes: 1, systemFailures: 99 });
});

test('between writes the re-reads skip the downtimes, and a new change stamp brings a write at once', async () => {
  await clear();
  await eventually(async () => h.app.deps.snapshot.current.downtimes.length === 0, 'no open downtime');
  // Written without a new stamp (as no activity writes): the re-reads every 100 ms do not read it.
  await h.db.c.downtimes.insertOne(downtime('dt_refresh_token'));
  await new Promise((r) => setTimeout(r, 800));
  expect(h.app.deps.snapshot.current.downtimes).toHaveLength(0);
  await markDowntimeChanged(h.db, 'dt_refresh_token');
  await eventually(async () => h.app.deps.snapshot.current.downtimes.length === 1, 'the downtime once its stamp moved');
  await clear();
});

test('more downtimes changed at once than are looked up one by one are all read, and all closes are seen', async () => {
  await clear();
  const ids = Array.from({ length: 150 }, (_, i) => `dt_refresh_many_${i}`);
  await h.db.c.downtimes.insertMany(ids.map((id) => downtime(id)));
  await Promise.all(ids.map((id) => markDowntimeChanged(h.db, id)));
  await eventually(async () => h.app.deps.snapshot.current.downtimes.length === 150, 'all 150 open');
  // A few change (looked up one by one), then all close (read whole).
  await h.db.c.downtimes.updateMany({ _id: { $in: ids.slice(0, 3) } }, { $set: { probePercent: 40 } });
  await Promise.all(ids.slice(0, 3).map((id) => markDowntimeChanged(h.db, id)));
  await eventually(async () => h.app.deps.snapshot.current.downtimes.filter((d) => d.probePercent === 40).length === 3, 'three widened');
  expect(h.app.deps.snapshot.current.downtimes).toHaveLength(150);
  await clear();
  await eventually(async () => h.app.deps.snapshot.current.downtimes.length === 0, 'none open');
});

test('in a wave of changes a new downtime reaches checkout first, and every change is seen once the wave passes', async () => {
  await clear();
  const ids = Array.from({ length: 150 }, (_, i) => `dt_wave_${i}`);
  await h.db.c.downtimes.insertMany(ids.map((id) => downtime(id)));
  await Promise.all(ids.map((id) => markDowntimeChanged(h.db, id)));
  await eventually(async () => h.app.deps.snapshot.current.downtimes.length === 150, 'all 150 open');
  // Every record changes again every 100 ms (more than are looked up per refresh) until the new one is seen.
  let percent = 10;
  let waving = true;
  const wave = (async () => {
    while (waving) {
      percent += 1;
      await h.db.c.downtimes.updateMany({ _id: { $in: ids } }, { $set: { probePercent: percent } });
      await Promise.all(ids.map((id) => markDowntimeChanged(h.db, id)));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, 300));
    await h.db.c.downtimes.insertOne(downtime('dt_wave_new'));
    await markDowntimeChanged(h.db, 'dt_wave_new');
    const markedAt = Date.now();
    await eventually(async () => h.app.deps.snapshot.current.downtimes.some((d) => d.id === 'dt_wave_new'), 'the new downtime during the wave');
    // Within a few refreshes of 100 ms, not after the wave.
    expect(Date.now() - markedAt).toBeLessThan(1_000);
  } finally {
    waving = false;
    await wave;
  }
  await eventually(async () => h.app.deps.snapshot.current.downtimes.filter((d) => d.probePercent === percent).length === 150, 'every change of the wave');
  await clear();
});

test('concurrent marks from two processes lose no stamp', async () => {
  const other = await testDatabase(h.config);
  try {
    const before = await readDowntimeStamps(h.db);
    const ids = Array.from({ length: 40 }, (_, i) => `dt_stamp_${i}`);
    await Promise.all(ids.map((id, i) => markDowntimeChanged(i % 2 ? other : h.db, id)));
    const after = await readDowntimeStamps(h.db);
    expect(changedDowntimes(before, after).sort()).toEqual([...ids].sort());
    // Marked again by the other process: only that one reads as changed.
    await markDowntimeChanged(other, 'dt_stamp_0');
    expect(changedDowntimes(after, await readDowntimeStamps(h.db))).toEqual(['dt_stamp_0']);
  } finally {
    await other.close();
  }
});
