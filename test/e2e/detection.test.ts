/**
 * End to end, on the real Temporal dev server and the real database: the checkout posts payment
 * attempts, detection (run exactly as the Schedule runs it) finds the failing bank, the downtime
 * workflow hides it for bucket A and keeps it as a probe for bucket B, and the probe's
 * successes bring it back for everyone.
 */
import { randomBytes } from 'node:crypto';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { Config } from '../../common/config';
import { DETECTION_SCHEDULE_ID, type DetectionResult } from '../../common/definitions';
import type { Database } from '../../db/mongo';
import { bucketOf } from '../../domain';
import type { detectionWorkflow } from '../../workflows/detection';
import { ensureDetectionSchedule } from '../../worker/schedule';
import { KEYS } from '../support/stack';
import type { TransactionRecord } from '../../common/transaction';
import { DowntimeBody, E2eStack, PaymentOptionsBody, attempts, eventually, startStack, userInBucket } from './support';

jest.setTimeout(120_000);

// A bank no other test uses: a downtime's workflow id is its scope's, on the dev server every test
// file shares, and another file's downtime of the same scope, running without a worker, would be
// signalled by detection here instead of a new one started.
const BANK = { method: 'netbanking:federal', gateway: 'payu' };
const GPAY_RAZORPAY = { method: 'upi:gpay', gateway: 'razorpay' };
const GPAY_PAYU = { method: 'upi:gpay', gateway: 'payu' };
const CARD = { method: 'card:hdfc_debit', gateway: 'razorpay' };
const SCOPE_KEY = 'netbanking:federal@*';
const SYSTEM_CODES = ['BANK_UNAVAILABLE', 'GATEWAY_TIMEOUT', 'ISSUER_DOWN', 'NETWORK_ERROR', null];

let stack: E2eStack;
let config: Config;
let db: Database;
let temporal: E2eStack['temporal'];
let api: E2eStack['api'];
const suffix = randomBytes(4).toString('hex');

beforeAll(async () => {
  stack = await startStack({ SNAPSHOT_REFRESH: '200ms', MIN_PROBE_SAMPLES: '10' });
  ({ config, db, temporal, api } = stack);
  // A failed run must not leave this test's downtime running for the suites after it.
  stack.started(SCOPE_KEY);
});

afterAll(async () => {
  await stack?.close();
});

async function postTransactions(txs: TransactionRecord[]): Promise<void> {
  for (let i = 0; i < txs.length; i += 1000) {
    const batch = txs.slice(i, i + 1000);
    const res = await api.post<{ accepted: number; duplicates: number; rejected: unknown[] }>('/v1/transactions', KEYS.ingest, { transactions: batch });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: batch.length, duplicates: 0, rejected: [] });
  }
}

async function optionsFor(userId: string): Promise<PaymentOptionsBody> {
  const res = await api.get<PaymentOptionsBody>(`/v1/payment-options?userId=${encodeURIComponent(userId)}`, KEYS.checkout);
  expect(res.status).toBe(200);
  return res.body;
}

async function downtime(id: string): Promise<DowntimeBody> {
  const res = await api.get<DowntimeBody>(`/v1/downtimes/${id}`, KEYS.operator);
  expect(res.status).toBe(200);
  return res.body;
}

const shown = (o: PaymentOptionsBody, method: string) => o.options.find((x) => x.method === method);

let detectionRuns = 0;

/** One detection cycle, as the Schedule starts it: the detection workflow on the worker's task queue. */
function detect(): Promise<DetectionResult> {
  detectionRuns += 1;
  return temporal.client.workflow.execute<typeof detectionWorkflow>('detectionWorkflow', {
    taskQueue: config.temporal.taskQueue,
    workflowId: `detection-e2e-${suffix}-${detectionRuns}`,
    workflowExecutionTimeout: '1m',
  });
}

// Runs first: the Schedule it creates drives detection on this worker until it is deleted.
test('the detection Schedule is created once, left unchanged when ensured again, and runs detection on the worker', async () => {
  const handle = temporal.client.schedule.getHandle(DETECTION_SCHEDULE_ID);
  try {
    expect(await ensureDetectionSchedule(temporal.client, config.temporal.taskQueue, config.detection.intervalMs)).toBe('created');
    const described = await handle.describe();
    expect(described.spec.intervals).toEqual([expect.objectContaining({ every: config.detection.intervalMs })]);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'detectionWorkflow', taskQueue: config.temporal.taskQueue });
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);

    expect(await ensureDetectionSchedule(temporal.client, config.temporal.taskQueue, config.detection.intervalMs)).toBe('unchanged');

    // It fires every DETECTION_INTERVAL: the first detection it starts completes on the worker (nothing posted yet: nothing failing).
    const first = await eventually(
      'the Schedule takes its first action',
      async () => (await handle.describe()).info.recentActions[0],
      { timeoutMs: 4 * config.detection.intervalMs + 5_000, intervalMs: 250 },
    );
    const started = first.action.workflow;
    const result: DetectionResult = await temporal.client.workflow.getHandle(started.workflowId, started.firstExecutionRunId).result();
    expect(result).toMatchObject({ failing: [], started: [] });

    // A changed interval is applied in place, not by a second schedule.
    expect(await ensureDetectionSchedule(temporal.client, config.temporal.taskQueue, 5 * config.detection.intervalMs)).toBe('updated');
    expect((await handle.describe()).spec.intervals).toEqual([expect.objectContaining({ every: 5 * config.detection.intervalMs })]);
  } finally {
    // The schedule id is fixed per namespace: leave none behind for other suites, and let the
    // detections it started finish before the next test posts its traffic.
    const actions = await handle
      .pause('end of test')
      .then(() => handle.describe())
      .then((d) => [...d.info.recentActions.map((r) => r.action), ...d.info.runningActions])
      .catch(() => []);
    await handle.delete().catch(() => undefined);
    await Promise.all(
      actions.map((a) => temporal.client.workflow.getHandle(a.workflow.workflowId, a.workflow.firstExecutionRunId).result().catch(() => undefined)),
    );
  }
});

test('posted transactions for a failing route lead, through detection and the workflow, to the method disappearing for a bucket-A user, staying visible with a warning for a bucket-B user, and coming back after recovery', async () => {
  const catalog = await api.put('/v1/catalog', KEYS.admin, {
    methods: [
      { method: 'netbanking:federal', gateways: ['payu'] },
      { method: 'upi:gpay', gateways: ['razorpay', 'payu'] },
      { method: 'card:hdfc_debit', gateways: ['razorpay'] },
    ],
  });
  expect(catalog.status).toBe(200);

  // Before the outage: every method is offered to everyone.
  await eventually('the snapshot serves the catalog', async () => {
    const o = await optionsFor('early_shopper');
    return o.options.length === 3 ? o : undefined;
  });
  expect((await optionsFor('early_shopper')).options).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ method: 'netbanking:federal', gateway: 'payu', state: 'available' }),
      expect.objectContaining({ method: 'upi:gpay', gateway: 'razorpay', state: 'available' }),
      expect.objectContaining({ method: 'card:hdfc_debit', gateway: 'razorpay', state: 'available' }),
    ]),
  );

  // Healthy history (the baseline window), backdated 90 to 30 s: a few system failures, and user failures that never count.
  const now = Date.now();
  const [hFrom, hTo] = [now - 90_000, now - 30_000];
  await postTransactions([
    ...attempts('base', BANK, 80, hFrom, hTo, (i) => (i % 20 === 7 ? 'GATEWAY_TIMEOUT' : i % 10 === 3 ? 'INVALID_OTP' : undefined)),
    ...attempts('base', GPAY_RAZORPAY, 100, hFrom, hTo, (i) => (i % 25 === 5 ? 'NETWORK_ERROR' : i % 8 === 1 ? 'USER_CANCELLED' : undefined)),
    ...attempts('base', GPAY_PAYU, 40, hFrom, hTo, (i) => (i % 20 === 11 ? 'GATEWAY_ERROR' : undefined)),
    ...attempts('base', CARD, 60, hFrom, hTo, (i) => (i % 12 === 2 ? 'INSUFFICIENT_FUNDS' : undefined)),
  ]);
  // The outage, in the detection window (the last 12 s): the bank fails nearly every attempt, the rest stays healthy,
  // including upi:gpay through the same gateway (so the gateway payu is not to blame).
  const [oFrom, oTo] = [now - 12_000, now - 500];
  await postTransactions([
    ...attempts('outage', BANK, 45, oFrom, oTo, (i) => (i % 15 === 0 ? undefined : i % 9 === 4 ? 'INVALID_PIN' : SYSTEM_CODES[i % SYSTEM_CODES.length])),
    ...attempts('outage', GPAY_RAZORPAY, 50, oFrom, oTo, (i) => (i % 10 === 3 ? 'USER_CANCELLED' : undefined)),
    ...attempts('outage', GPAY_PAYU, 30, oFrom, oTo, (i) => (i === 17 ? 'GATEWAY_TIMEOUT' : undefined)),
    ...attempts('outage', CARD, 30, oFrom, oTo, (i) => (i % 10 === 6 ? 'EXPIRED_CARD' : undefined)),
  ]);

  // Detection every DETECTION_INTERVAL until the downtime of the bank (the method on every gateway) is open.
  const results: DetectionResult[] = [];
  const opened = await eventually(
    `a downtime for ${SCOPE_KEY} is open`,
    async () => {
      results.push(await detect());
      const open = await api.get<{ downtimes: DowntimeBody[] }>('/v1/downtimes?status=open', KEYS.operator);
      return open.body.downtimes.find((d) => d.scopeKey === SCOPE_KEY);
    },
    { timeoutMs: 30_000, intervalMs: config.detection.intervalMs, describe: () => results },
  );
  // One downtime for the bank, not one per route and not the gateway payu it shares with upi:gpay.
  expect(results[0]).toMatchObject({ failing: [SCOPE_KEY], started: [SCOPE_KEY], superseded: [] });
  for (const r of results) expect(r.failing).toEqual([SCOPE_KEY]);
  expect(opened).toMatchObject({ origin: 'detected', status: 'open', scope: { method: 'netbanking:federal', mode: 'netbanking' } });
  const id = opened.id;

  // The workflow disables the scope for bucket A and starts probing.
  const probing = await eventually('the downtime is disabled and probing', async () => {
    const d = await downtime(id);
    return d.disabledAt && d.live?.phase === 'probing' ? d : undefined;
  });
  expect(probing.live).toMatchObject({ downtimeId: id, status: 'open' });
  // Ops go from the answer to the actor's page in the Temporal Web UI.
  expect(probing.links.temporalUi).toBe(`${config.temporal.uiUrl}/namespaces/default/workflows/${encodeURIComponent(`downtime:${SCOPE_KEY}`)}`);
  const basePercent = probing.probePercent;
  expect(basePercent).toBe(config.probe.percent);
  // A stays in A even if the probe widens to its maximum; B is in B at the base share, hence at any wider one.
  const userA = userInBucket('checkout_a', id, 'A', [basePercent, config.probe.maxPercent]);
  const userB = userInBucket('checkout_b', id, 'B', [basePercent]);
  expect(bucketOf(userA, id, basePercent)).toBe('A');
  expect(bucketOf(userB, id, basePercent)).toBe('B');

  const seenByA = await eventually('bucket A no longer sees netbanking:federal', async () => {
    const o = await optionsFor(userA);
    return shown(o, 'netbanking:federal') ? undefined : o;
  });
  expect(seenByA.unavailable).toEqual([{ method: 'netbanking:federal', downtimeId: id }]);
  expect(seenByA.options).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ method: 'upi:gpay', gateway: 'razorpay', state: 'available' }),
      expect.objectContaining({ method: 'card:hdfc_debit', gateway: 'razorpay', state: 'available' }),
    ]),
  );
  expect(seenByA.options).toHaveLength(2);

  const seenByB = await optionsFor(userB);
  expect(seenByB.unavailable).toEqual([]);
  expect(shown(seenByB, 'netbanking:federal')).toEqual({ method: 'netbanking:federal', mode: 'netbanking', gateway: 'payu', state: 'probe', warning: expect.stringMatching(/netbanking:federal.*(trouble|fail)/i) });
  // The probe is offered last, after what works.
  expect(seenByB.options.at(-1)?.method).toBe('netbanking:federal');
  expect(shown(seenByB, 'upi:gpay')).toMatchObject({ gateway: 'razorpay', state: 'available' });
  expect(shown(seenByB, 'card:hdfc_debit')).toMatchObject({ gateway: 'razorpay', state: 'available' });

  // The bank is back. The checkout runs as usual: each shopper asks for options and pays with
  // netbanking:federal when it is offered (bucket B: the probe), otherwise with the first option.
  let round = 0;
  let probePayments = 0;
  const resolved = await eventually(
    'the probe proves recovery and the downtime resolves',
    async () => {
      round += 1;
      const shoppers = [userB, ...Array.from({ length: 60 }, (_, i) => `returning_${round}_${i}`)];
      const seen = await Promise.all(shoppers.map(async (userId) => ({ userId, o: await optionsFor(userId) })));
      const txs: TransactionRecord[] = seen.map(({ userId, o }, i) => {
        const pick = shown(o, 'netbanking:federal') ?? o.options[0]!;
        if (pick.method === 'netbanking:federal') probePayments += 1;
        return { id: `recovery-${round}-${i}`, userId, method: pick.method, gateway: pick.gateway, status: 'success' };
      });
      // Bucket A keeps not seeing it while it is down: at most as a probe, with its warning, once
      // the probe has proven the recovery and waits for its sample minimum (PROVEN_PROBE_PERCENT).
      const a = await optionsFor(userA);
      const d = await downtime(id);
      const toA = shown(a, 'netbanking:federal');
      if (d.status === 'open' && toA) {
        expect(toA.state).toBe('probe');
        expect(d.lastProbe!.llr).toBeGreaterThanOrEqual(d.lastProbe!.upperBound);
      }
      await postTransactions(txs);
      return d.status === 'resolved' ? d : undefined;
    },
    { timeoutMs: 45_000, intervalMs: 500, describe: () => ({ round, probePayments }) },
  );
  expect(resolved).toMatchObject({ status: 'resolved', endReason: 'recovered', live: null, lastProbe: { verdict: 'recovered' } });
  expect(resolved.lastProbe!.samples).toBeGreaterThanOrEqual(config.probe.minSamples);
  expect(resolved.lastProbe!.successes).toBe(resolved.lastProbe!.samples);
  expect(probePayments).toBeGreaterThanOrEqual(config.probe.minSamples);
  // The resolved notification is recorded by the activity after the one that resolves the record.
  const timeline = await eventually('the resolved notification is on the timeline', async () => {
    const kinds = (await downtime(id)).timeline!.map((t) => t.kind);
    return kinds.includes('downtime.resolved') ? kinds : undefined;
  });
  expect(timeline).toEqual(expect.arrayContaining(['opened', 'disabled', 'downtime.started', 'resolved', 'downtime.resolved']));

  // Re-enabled for everyone: the bucket-A shopper sees it again, through its gateway.
  const back = await eventually('bucket A sees netbanking:federal again', async () => {
    const o = await optionsFor(userA);
    return shown(o, 'netbanking:federal')?.state === 'available' ? o : undefined;
  });
  expect(shown(back, 'netbanking:federal')).toEqual({ method: 'netbanking:federal', mode: 'netbanking', gateway: 'payu', state: 'available' });
  expect(back.unavailable).toEqual([]);
  expect(back.options).toHaveLength(3);
  expect(shown(await optionsFor(userB), 'netbanking:federal')).toMatchObject({ state: 'available' });

  // Ops and subscribers heard about it exactly once each way (no partner mail: no SMTP here); one downtime in all.
  const ops = await db.c.notifications.find({ downtimeId: id, channel: 'ops' }).toArray();
  expect(ops.filter((n) => n.event === 'downtime.started')).toHaveLength(1);
  expect(ops.filter((n) => n.event === 'downtime.resolved')).toHaveLength(1);
  expect(await db.c.deliveries.countDocuments({ downtimeId: id, channel: { $ne: 'webhook' } })).toBe(0);
  expect(await db.c.webhookEvents.countDocuments({ downtimeId: id, type: 'downtime.started' })).toBe(1);
  expect(await db.c.webhookEvents.countDocuments({ downtimeId: id, type: 'downtime.resolved' })).toBe(1);
  const all = await api.get<{ downtimes: DowntimeBody[] }>('/v1/downtimes', KEYS.operator);
  expect(all.body.downtimes.map((d) => d.id)).toEqual([id]);
  expect(await db.c.incidents.findOne({ _id: id })).toMatchObject({ status: 'resolved', endReason: 'recovered' });
});
