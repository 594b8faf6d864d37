/**
 * Fault: the worker process is killed with SIGKILL while a downtime is probing, and started again.
 *
 * The worker and the API are real child processes on the run's Temporal dev server and database.
 * An operator opens a downtime; bucket-B shoppers keep paying and failing (so the probe keeps it
 * disabled); a bucket-A shopper asks for payment options all along. The worker dies without any
 * handler running, stays dead for several probe intervals, and a new one takes over the same
 * workflow run. Then the bank recovers: the probe proves it and the method comes back once.
 */
import { randomBytes } from 'node:crypto';
import { PROBE_FLOOR_FRACTION } from '../../domain';
import { DowntimeBody, eventually, userInBucket } from '../e2e/support';
import {
  FaultStack,
  KEYS,
  api,
  apiUrl,
  background,
  historySummary,
  liveAttempts,
  offeredEarly,
  report,
  sleep,
  startFaultStack,
  stopFaultStack,
  verifiesWebhook,
  watchOptions,
} from './support';

const SBI = { method: 'netbanking:sbi', gateway: 'payu' };
const SCOPE_KEY = 'netbanking:sbi@*';

let stack: FaultStack;
beforeAll(async () => {
  stack = await startFaultStack({ name: 'worker-kill', workers: ['worker-1'], temporalClient: true, receiver: true });
});
afterAll(() => stopFaultStack(stack));

test('a worker killed with SIGKILL mid-probe: the downtime continues on the same run, never flaps to enabled, and nothing is recorded or sent twice', async () => {
  const { env, db, workers } = stack;
  const t = stack.t!;
  const receiver = stack.receiver!;
  const http = api(env);
  expect((await http.put('/v1/catalog', KEYS.admin, { methods: [{ method: SBI.method, gateways: [SBI.gateway] }, { method: 'upi:gpay', gateways: ['razorpay'] }] })).status).toBe(200);
  const hook = await http.post<{ id: string; secret: string }>('/v1/webhooks', KEYS.admin, { url: receiver.url, events: ['downtime.started', 'downtime.updated', 'downtime.resolved'] });
  expect(hook.status).toBe(201);

  const opened = await http.post<{ id: string }>('/v1/downtimes', KEYS.operator, { scope: { method: SBI.method }, reason: 'the bank reports an outage', by: 'ops@example.com' });
  expect(opened.status).toBe(202);
  const id = opened.body.id;
  const downtime = async () => (await http.get<DowntimeBody>(`/v1/downtimes/${id}`, KEYS.operator)).body;
  await eventually('the downtime is disabled and probing', async () => {
    const d = await downtime();
    return d.disabledAt && d.live?.phase === 'probing' ? d : undefined;
  }, { timeoutMs: 60_000 });

  const percents = [Number(env.PROBE_PERCENT ?? 10), 50];
  const userA = userInBucket('shopper_a', id, 'A', percents);
  // Probe users at the base share and at the quarter the share drops to once "still failing" is
  // proven (a manual downtime has no traffic figure to raise it): otherwise, after the first proof,
  // whether any of them still counts as a probe sample is a matter of their hashes.
  const usersB = [1, 2, 3, 4].map((k) => userInBucket(`shopper_b${k}`, id, 'B', [percents[0]!, percents[0]! * PROBE_FLOOR_FRACTION]));
  const base = apiUrl(env);
  await eventually('bucket A no longer sees netbanking:sbi', async () => {
    const o = await http.get<{ options: { method: string }[] }>(`/v1/payment-options?userId=${userA}`, KEYS.checkout);
    return o.body.options.some((x) => x.method === SBI.method) ? undefined : true;
  });
  // From here on the bucket-A shopper must never see the bank while it is down.
  const watcher = watchOptions(base, userA);

  // The bank keeps failing for the bucket-B shoppers who still try it.
  const run = randomBytes(3).toString('hex');
  let failingBatches = 0;
  const ingestStatuses: number[] = [];
  const failing = background(async () => {
    failingBatches += 1;
    const res = await http.post('/v1/transactions', KEYS.ingest, { transactions: liveAttempts(`fail-${run}-${failingBatches}`, usersB, SBI, 3, 'BANK_UNAVAILABLE') });
    ingestStatuses.push(res.status);
  }, 400);

  const failingSeen = await eventually('the probe concludes "still failing"', async () => {
    const d = await downtime();
    return d.lastProbe?.verdict === 'failing' ? d : undefined;
  }, { timeoutMs: 60_000 });
  const workflowId = `downtime:${SCOPE_KEY}`;
  const before = await t.client.workflow.getHandle(workflowId).describe();

  // Kill while an activity of the probe is in flight if one shows up within two probe intervals.
  let inFlight: string | undefined;
  const lookUntil = Date.now() + 4_000;
  while (!inFlight && Date.now() < lookUntil) {
    const raw = (await t.client.workflow.getHandle(workflowId).describe()).raw;
    inFlight = raw.pendingActivities?.[0]?.activityType?.name ?? undefined;
    if (!inFlight) await sleep(30);
  }
  const killedAt = Date.now();
  const exit = await workers[0]!.kill();
  expect(exit.signal).toBe('SIGKILL');

  // Dead for several probe intervals, traffic still flowing.
  await sleep(8_000);
  // An operator reading the downtime meanwhile gets the record; the live state cannot come from a dead worker.
  const readStarted = Date.now();
  const whileDead = (await downtime()) as DowntimeBody & { liveError?: string };
  const readWhileDeadMs = Date.now() - readStarted;
  expect(whileDead.status).toBe('open');

  const restartedAt = Date.now();
  await stack.startWorker('worker-2');
  const readyAt = Date.now();

  // The same run continues: the next probe ticks come from the new worker.
  const continued = await eventually('the new worker probes the same downtime', async () => {
    const doc = await db.c.downtimes.findOne({ _id: id });
    return doc && doc.updatedAt.getTime() > readyAt && doc.lastProbe?.verdict === 'failing' ? doc : undefined;
  }, { timeoutMs: 90_000, intervalMs: 250 });
  const resumedAt = continued.updatedAt.getTime();
  await failing.stop();

  // The bank is back: bucket B's attempts succeed and the probe proves it.
  let healthyBatches = 0;
  const healedFrom = Date.now();
  const healthy = background(async () => {
    healthyBatches += 1;
    const res = await http.post('/v1/transactions', KEYS.ingest, { transactions: liveAttempts(`ok-${run}-${healthyBatches}`, usersB, SBI, 4) });
    ingestStatuses.push(res.status);
  }, 400);
  const resolved = await eventually('the probe proves recovery', async () => {
    const d = await downtime();
    return d.status === 'resolved' ? d : undefined;
  }, { timeoutMs: 90_000, intervalMs: 300 });
  await healthy.stop();
  expect(resolved).toMatchObject({ status: 'resolved', endReason: 'recovered', lastProbe: { verdict: 'recovered' } });
  await eventually('bucket A sees netbanking:sbi again', async () => (watcher.seen.at(-1)?.methods.includes(SBI.method) ? true : undefined), { timeoutMs: 20_000 });
  await sleep(1_000);
  const seen = (await watcher.stop()).map((o) => ({ ...o, shown: o.methods.includes(SBI.method) }));

  // The checkout never failed, and bucket A saw the bank not while it failed, as available only
  // once it was re-enabled (before, at most as a probe once the recovery was proven), and then for good.
  const resolvedAt = Date.parse(resolved.resolvedAt!);
  expect(seen.filter((o) => o.status !== 200)).toEqual([]);
  const shownEarly = offeredEarly(seen, SBI.method, healedFrom, resolvedAt);
  expect(shownEarly).toEqual([]);
  const firstShown = seen.findIndex((o) => o.shown);
  expect(seen.slice(firstShown).every((o) => o.shown)).toBe(true);
  expect(ingestStatuses.every((s) => s === 202)).toBe(true);

  // One downtime, one incident; each notification, timeline entry and webhook once.
  expect(await db.c.downtimes.countDocuments({ scopeKey: SCOPE_KEY })).toBe(1);
  expect(await db.c.incidents.findOne({ _id: id })).toMatchObject({ status: 'resolved', endReason: 'recovered' });
  const notifications = await db.c.notifications.find({ downtimeId: id }).toArray();
  const byEvent = (channel: string, event: string) => notifications.filter((n) => n.channel === channel && n.event === event).length;
  expect([byEvent('ops', 'downtime.started'), byEvent('ops', 'downtime.resolved')]).toEqual([1, 1]);
  const timeline = await db.c.timeline.find({ incidentId: id }).toArray();
  const kinds = timeline.map((e) => e.kind);
  for (const kind of ['opened', 'disabled', 'downtime.started', 'resolved', 'downtime.resolved']) {
    expect({ kind, n: kinds.filter((k) => k === kind).length }).toEqual({ kind, n: 1 });
  }
  // Entries that may recur (a page, a "still failing at expiry") never repeat with the same text at the same time.
  const distinct = new Set(timeline.map((e) => `${e.kind}|${e.at.getTime()}|${e.text}`));
  expect(distinct.size).toBe(timeline.length);
  const events = await db.c.webhookEvents.find({ downtimeId: id }).toArray();
  expect(events.map((e) => e.type).sort()).toEqual(['downtime.resolved', 'downtime.started']);
  const deliveries = await eventually('every webhook is delivered', async () => {
    const ds = await db.c.deliveries.find({ eventId: { $in: events.map((e) => e._id) } }).toArray();
    return ds.length === events.length && ds.every((d) => d.status === 'delivered') ? ds : undefined;
  }, { timeoutMs: 30_000 });
  const arrivals = new Map<string, number>();
  for (const a of receiver.arrivals) arrivals.set(a.id, (arrivals.get(a.id) ?? 0) + 1);
  expect([...arrivals.keys()].sort()).toEqual(events.map((e) => e._id).sort());
  for (const a of receiver.arrivals) {
    expect(verifiesWebhook(hook.body.secret, a)).toBe(true);
  }
  expect([...arrivals.values()].every((n) => n === 1)).toBe(true);

  // Temporal: the run that was probing before the kill is the run that completed, without a failed workflow task.
  const after = await t.client.workflow.getHandle(workflowId).describe();
  expect(after.runId).toBe(before.runId);
  expect(after.status.name).toBe('COMPLETED');
  const history = await historySummary(t, workflowId, before.runId);
  expect(history.workflowTasksFailed).toBe(0);
  expect(history.completed).toBe(true);

  report('worker-kill', {
    downtimeId: id,
    killedWithActivityInFlight: inFlight ?? null,
    probeVerdictBeforeKill: failingSeen.lastProbe?.verdict,
    deadMs: restartedAt - killedAt,
    newWorkerReadyMs: readyAt - restartedAt,
    firstProbeTickAfterKillMs: resumedAt - killedAt,
    statusWhileDead: whileDead.status,
    operatorReadWhileDead: { ms: readWhileDeadMs, live: whileDead.live ?? null, liveError: whileDead.liveError },
    paymentOptionChecks: seen.length,
    paymentOptionsNon200: seen.filter((o) => o.status !== 200).length,
    bucketAShownWhileDown: shownEarly.length,
    bucketAShownToHiddenFlips: seen.slice(firstShown).filter((o) => !o.shown).length,
    ingestBatches: ingestStatuses.length,
    ingestNon202: ingestStatuses.filter((s) => s !== 202).length,
    downtimeRecords: 1,
    notifications: notifications.map((n) => `${n.channel}:${n.event}`),
    timelineKinds: kinds,
    webhookEvents: events.length,
    webhookDeliveries: deliveries.map((d) => ({ event: d.type, attempts: d.attempts })),
    receiverArrivalsPerEvent: Object.fromEntries(arrivals),
    sameRun: after.runId === before.runId,
    history,
  });
});
