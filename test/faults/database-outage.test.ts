/**
 * Fault: the database stops for 30 seconds and comes back on the same data.
 *
 * A MongoDB-wire server of the test's own (FerretDB on SQLite, or mongod), the worker and the API
 * as child processes on it and on the run's Temporal dev server. Two downtimes are probing when
 * the database stops: one with no probe traffic whose expiry falls inside the outage, and one an
 * operator keeps disabled until a time after it. The checkout keeps posting attempts and retries
 * what gets a 503. Afterwards every workflow reaches the state it would have reached, every
 * accepted attempt is stored once and counted once, and nothing is recorded twice.
 */
import { bucketOf } from '../../domain';
import { DowntimeBody, eventually } from '../e2e/support';
import {
  FaultStack,
  IngestClient,
  KEYS,
  api,
  apiUrl,
  background,
  historySummary,
  liveAttempts,
  offeredEarly,
  mixedTraffic,
  report,
  sleep,
  startFaultStack,
  stopFaultStack,
  storedAndCounted,
  watchOptions,
} from './support';

const ICICI = { method: 'netbanking:icici', gateway: 'billdesk' };
const AMAZON = { method: 'wallet:amazonpay', gateway: 'amazon' };
const OUTAGE_MS = 30_000;

let stack: FaultStack;
beforeAll(async () => {
  stack = await startFaultStack({ name: 'database-outage', ownDatabase: true, env: { DOWNTIME_EXPIRY: '25s' }, temporalClient: true });
});
afterAll(() => stopFaultStack(stack));

interface PendingSeen {
  at: number;
  workflow: string;
  activity: string;
  attempt: number;
  lastFailure?: string;
}

test('a 30-second database outage: ingest answers 503 with Retry-After, payment options answer from the snapshot, activities retry, and every workflow reaches its state once it is back', async () => {
  const { env, db } = stack;
  const t = stack.t!;
  const mongo = stack.databaseServer!;
  const http = api(env);
  expect((await http.put('/v1/catalog', KEYS.admin, { methods: [ICICI, AMAZON].map((r) => ({ method: r.method, gateways: [r.gateway] })) })).status).toBe(200);
  const downtime = async (id: string) => (await http.get<DowntimeBody & { expiresAt: string; extendedUntil?: string }>(`/v1/downtimes/${id}`, KEYS.operator)).body;
  const open = async (scope: object, until?: number) => {
    const res = await http.post<{ id: string }>('/v1/downtimes', KEYS.operator, { scope, reason: 'reported down', by: 'ops@example.com', ...(until ? { until: new Date(until).toISOString() } : {}) });
    expect(res.status).toBe(202);
    return res.body.id;
  };
  // Expires (no probe traffic) while the database is down.
  const expiring = await open({ method: ICICI.method });
  // Kept disabled by an operator until after the outage; its probe then proves recovery.
  const held = await open({ method: AMAZON.method }, Date.now() + 60_000);
  for (const id of [expiring, held]) {
    await eventually(`${id} is probing`, async () => ((await downtime(id)).live?.phase === 'probing' ? true : undefined), { timeoutMs: 60_000 });
  }
  let userA = '';
  for (let i = 0; !userA; i += 1) {
    const u = `shopper_a_${i}`;
    if ([10, 50].every((p) => bucketOf(u, expiring, p) === 'A' && bucketOf(u, held, p) === 'A')) userA = u;
  }
  const usersB: string[] = [];
  for (let i = 0; usersB.length < 4; i += 1) if (bucketOf(`shopper_b_${i}`, held, 10) === 'B') usersB.push(`shopper_b_${i}`);
  await eventually('bucket A sees neither method', async () => {
    const o = await http.get<{ options: { method: string }[] }>(`/v1/payment-options?userId=${userA}`, KEYS.checkout);
    return o.body.options.length === 0 ? true : undefined;
  });
  const watcher = watchOptions(apiUrl(env), userA);

  // The checkout posts attempts all along and retries what is refused.
  const ingest = new IngestClient(() => apiUrl(env));
  let batch = 0;
  const load = background(async () => {
    batch += 1;
    await ingest.postUntilAccepted(mixedTraffic(`mix-${batch}`, 50));
  }, 100);
  await sleep(4_000);
  const before = { expiring: await downtime(expiring), held: await downtime(held) };
  const workflows = { [expiring]: `downtime:${ICICI.method}@*`, [held]: `downtime:${AMAZON.method}@*` };
  const runs = Object.fromEntries(await Promise.all(Object.entries(workflows).map(async ([id, wf]) => [id, (await t.client.workflow.getHandle(wf).describe()).runId])));

  // The database goes away for 30 seconds.
  const stoppedAt = Date.now();
  await mongo.stop();
  // One batch posted now, on its own: its answer is the 503 the checkout sees.
  const probing = ingest.attempt(mixedTraffic(`outage-probe-${stoppedAt}`, 10));
  const pending: PendingSeen[] = [];
  while (Date.now() - stoppedAt < OUTAGE_MS) {
    for (const wf of Object.values(workflows)) {
      const raw = (await t.client.workflow.getHandle(wf).describe()).raw;
      for (const p of raw.pendingActivities ?? []) {
        pending.push({ at: Date.now(), workflow: wf, activity: p.activityType?.name ?? '?', attempt: p.attempt ?? 1, lastFailure: p.lastFailure?.message ?? undefined });
      }
    }
    await sleep(1_000);
  }
  const probe = await probing;
  await mongo.start();
  const restartedAt = Date.now();

  // Back: the held downtime's bucket B pays again, successfully.
  let okBatch = 0;
  const probeTraffic = background(async () => {
    okBatch += 1;
    await ingest.postUntilAccepted(liveAttempts(`ok-${okBatch}`, usersB, AMAZON, 4));
  }, 400);
  const expired = await eventually('the downtime whose expiry fell in the outage expires', async () => {
    const d = await downtime(expiring);
    return d.status === 'resolved' ? d : undefined;
  }, { timeoutMs: 120_000, intervalMs: 500 });
  const recovered = await eventually('the held downtime recovers through its probe once its hold ends', async () => {
    const d = await downtime(held);
    return d.status === 'resolved' ? d : undefined;
  }, { timeoutMs: 120_000, intervalMs: 500 });
  await probeTraffic.stop();
  await load.stop();
  await sleep(1_000);
  const seen = await watcher.stop();

  // Each reached the state it would have reached without the outage.
  expect(expired).toMatchObject({ status: 'resolved', endReason: 'expired' });
  expect(recovered).toMatchObject({ status: 'resolved', endReason: 'recovered', lastProbe: { verdict: 'recovered' } });
  expect(Date.parse(recovered.resolvedAt!)).toBeGreaterThanOrEqual(Date.parse(before.held.extendedUntil ?? before.held.expiresAt));

  // Payment options answered from the snapshot all along, hiding both until each was re-enabled.
  expect(seen.filter((o) => o.status !== 200)).toEqual([]);
  // The held one not before its hold ended (no proven share while kept disabled until a time).
  const expiredAt = Date.parse(expired.resolvedAt!);
  const holdEnd = Date.parse(before.held.extendedUntil ?? before.held.expiresAt);
  const early = [...offeredEarly(seen, ICICI.method, expiredAt, expiredAt), ...offeredEarly(seen, AMAZON.method, holdEnd, Date.parse(recovered.resolvedAt!))];
  expect(early).toEqual([]);
  const duringOutage = seen.filter((o) => o.at >= stoppedAt && o.at < restartedAt);
  expect(duringOutage.length).toBeGreaterThan(0);

  // Ingest refused with 503 and Retry-After while down; every batch it accepted is stored once and counted once.
  expect(probe).toMatchObject({ status: 503, retryAfter: expect.any(String), body: { error: 'database_unavailable' } });
  const stats = ingest.stats();
  const refused = ingest.batches.flatMap((b) => b.attempts).filter((a) => a.status === 503);
  expect(refused.length).toBeGreaterThan(0);
  expect(refused.every((a) => a.retryAfter !== undefined)).toBe(true);
  expect(stats.rejected).toBe(0);
  const accepted = ingest.acceptedIds();
  const final = await eventually('the counters count every stored attempt once', async () => {
    const s = await storedAndCounted(db);
    return s.counted === s.storedCount ? s : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1_000, describe: () => 'see the report' }).catch(async (err: Error) => {
    const s = await storedAndCounted(db);
    report('database-outage-counters', { accepted: accepted.size, stored: s.storedCount, counted: s.counted, ingest: stats });
    throw err;
  });
  expect([...accepted].filter((id) => !final.stored.has(id))).toEqual([]);
  expect([...final.stored].filter((id) => !accepted.has(id))).toEqual([]);

  const histories = [];
  for (const [id, wf] of Object.entries(workflows)) {
    const h = await historySummary(t!, wf, runs[id]);
    expect(h.workflowTasksFailed).toBe(0);
    expect(h.completed).toBe(true);
    histories.push({ workflow: wf, ...h });
  }
  // Steps failed against the stopped database and were retried: activities seen pending, or local
  // activities (a look's read and save) whose markers say they completed on a later attempt.
  const maxAttempt = Math.max(0, ...pending.map((p) => p.attempt), ...histories.map((h) => h.maxActivityAttempt));
  expect(maxAttempt).toBeGreaterThan(1);

  // One record each; each notification and timeline step once.
  for (const [id, r] of [[expiring, ICICI], [held, AMAZON]] as const) {
    expect(await db.c.downtimes.countDocuments({ scopeKey: `${r.method}@*` })).toBe(1);
    const n = await db.c.notifications.find({ downtimeId: id }).toArray();
    expect(n.map((x) => `${x.channel}:${x.event}`).sort()).toEqual(['ops:downtime.resolved', 'ops:downtime.started']);
    const kinds = (await db.c.timeline.find({ incidentId: id }).toArray()).map((e) => e.kind);
    for (const kind of ['opened', 'disabled', 'downtime.started', 'resolved', 'downtime.resolved']) {
      expect({ id, kind, n: kinds.filter((k) => k === kind).length }).toEqual({ id, kind, n: 1 });
    }
    expect(await db.c.incidents.findOne({ _id: id })).toMatchObject({ status: 'resolved' });
  }

  const worst = new Map<string, PendingSeen>();
  for (const p of pending) if ((worst.get(`${p.workflow} ${p.activity}`)?.attempt ?? 0) < p.attempt) worst.set(`${p.workflow} ${p.activity}`, p);
  report('database-outage', {
    outageMs: restartedAt - stoppedAt,
    ingestWhileDown: { status: probe.status, retryAfter: probe.retryAfter, ms: probe.ms },
    ingest: stats,
    stored: final.storedCount,
    counted: final.counted,
    acceptedIds: accepted.size,
    paymentOptionChecks: seen.length,
    paymentOptionChecksDuringOutage: duringOutage.length,
    paymentOptionsNon200: seen.filter((o) => o.status !== 200).length,
    bucketAShownBeforeReEnable: early.length,
    retriedActivitiesDuringOutage: [...worst.values()].map((p) => ({ workflow: p.workflow, activity: p.activity, attempt: p.attempt, lastFailure: p.lastFailure?.slice(0, 120) })),
    ends: {
      [expiring]: { endReason: expired.endReason, expiresAt: before.expiring.expiresAt, resolvedAt: expired.resolvedAt },
      [held]: { endReason: recovered.endReason, heldUntil: before.held.extendedUntil, resolvedAt: recovered.resolvedAt },
    },
    workerSurvived: stack.workers[0]!.running(),
    apiSurvived: stack.apis[0]!.running(),
    histories,
  });
});
