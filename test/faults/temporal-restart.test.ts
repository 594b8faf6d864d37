/**
 * Fault: the Temporal dev server is stopped and started again on its state file.
 *
 * A Temporal dev server of the test's own (SQLite state file, fixed port), the worker and the API
 * as child processes on it, the run's database. Two downtimes are open and probing when the
 * server stops. While it is down the checkout keeps its answers, ingest keeps storing, and
 * operator calls answer 503 saying the workflow service is unavailable. Once it is back on the
 * same state, the same workflow runs carry on: an acknowledgement lands, one downtime recovers
 * through its probe and the other expires on the timer it set before the outage.
 */
import { bucketOf } from '../../domain';
import { DowntimeBody, Reply, eventually } from '../e2e/support';
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
  temporalClient,
  watchOptions,
} from './support';

const PAYTM = { method: 'wallet:paytm', gateway: 'paytm_pg' };
const PHONEPE = { method: 'upi:phonepe', gateway: 'razorpay' };
const AXIS = { method: 'card:axis_credit', gateway: 'payu' };

let stack: FaultStack;
beforeAll(async () => {
  stack = await startFaultStack({ name: 'temporal-restart', ownTemporal: true, env: { DOWNTIME_EXPIRY: '75s' } });
});
afterAll(() => stopFaultStack(stack));

interface Timed<T> extends Reply<T> {
  ms: number;
}

test('Temporal stopped and restarted on its state file: open downtimes continue; meanwhile payment options answer and operator calls get 503', async () => {
  const { env, db } = stack;
  const server = stack.temporalServer!;
  const http = api(env);
  const timed = async <T>(call: () => Promise<Reply<T>>): Promise<Timed<T>> => {
    const started = Date.now();
    const res = await call();
    return { ...res, ms: Date.now() - started };
  };
  expect((await http.put('/v1/catalog', KEYS.admin, { methods: [PAYTM, PHONEPE, AXIS].map((r) => ({ method: r.method, gateways: [r.gateway] })) })).status).toBe(200);

  const open = async (method: string) => {
    const res = await http.post<{ id: string }>('/v1/downtimes', KEYS.operator, { scope: { method }, reason: `${method} reported down`, by: 'ops@example.com' });
    expect(res.status).toBe(202);
    return res.body.id;
  };
  const downtime = async (id: string) => (await http.get<DowntimeBody>(`/v1/downtimes/${id}`, KEYS.operator)).body;
  const expiring = await open(PAYTM.method);
  const recovering = await open(PHONEPE.method);
  for (const id of [expiring, recovering]) {
    await eventually(`${id} is disabled and probing`, async () => {
      const d = await downtime(id);
      return d.disabledAt && d.live?.phase === 'probing' ? d : undefined;
    }, { timeoutMs: 60_000 });
  }
  const percents = [10, 50];
  let userA = '';
  for (let i = 0; !userA; i += 1) {
    const u = `shopper_a_${i}`;
    if (percents.every((p) => bucketOf(u, expiring, p) === 'A' && bucketOf(u, recovering, p) === 'A')) userA = u;
  }
  const usersB: string[] = [];
  for (let i = 0; usersB.length < 4; i += 1) if (bucketOf(`shopper_b_${i}`, recovering, 10) === 'B') usersB.push(`shopper_b_${i}`);
  await eventually('bucket A sees neither method', async () => {
    const o = await http.get<{ options: { method: string }[] }>(`/v1/payment-options?userId=${userA}`, KEYS.checkout);
    return o.body.options.some((x) => x.method === PAYTM.method || x.method === PHONEPE.method) ? undefined : true;
  });
  const watcher = watchOptions(apiUrl(env), userA);

  const t = await temporalClient(env.TEMPORAL_ADDRESS!);
  const runs = await Promise.all([PAYTM, PHONEPE].map(async (r) => (await t.client.workflow.getHandle(`downtime:${r.method}@*`).describe()).runId));
  await t.close();

  // Temporal goes away.
  const stoppedAt = Date.now();
  await server.stop();

  const whileDown = {
    acknowledge: await timed(() => http.post<{ error: string; message: string }>(`/v1/downtimes/${expiring}/acknowledge`, KEYS.operator, { by: 'ana', note: 'looking' })),
    resolve: await timed(() => http.post<{ error: string; message: string }>(`/v1/downtimes/${recovering}/resolve`, KEYS.operator, { by: 'ana' })),
    open: await timed(() => http.post<{ error: string; message: string }>('/v1/downtimes', KEYS.operator, { scope: { method: AXIS.method }, reason: 'card issuer down', by: 'ana' })),
    read: await timed(() => http.get<DowntimeBody & { liveError?: string }>(`/v1/downtimes/${expiring}`, KEYS.operator)),
    ingest: await timed(() => http.post<{ accepted: number }>('/v1/transactions', KEYS.ingest, { transactions: liveAttempts(`during-${stoppedAt}`, ['shopper_x'], AXIS, 20) })),
    options: await timed(() => http.get<{ options: { method: string }[] }>(`/v1/payment-options?userId=${userA}`, KEYS.checkout)),
  };
  for (const call of [whileDown.acknowledge, whileDown.resolve, whileDown.open]) {
    expect({ status: call.status, error: call.body.error }).toEqual({ status: 503, error: 'temporal_unavailable' });
    expect(call.body.message).toMatch(/workflow service|temporal/i);
  }
  expect(whileDown.read.status).toBe(200);
  expect(whileDown.read.body).toMatchObject({ id: expiring, status: 'open', live: null });
  expect(whileDown.ingest).toMatchObject({ status: 202, body: { accepted: 20 } });
  expect(whileDown.options.status).toBe(200);
  await sleep(5_000);
  const downMs = Date.now() - stoppedAt;

  // Back on the same state file and port.
  await server.start();
  const restartedAt = Date.now();
  let ackAttempts = 0;
  const ack = await eventually('an acknowledgement lands once Temporal is back', async () => {
    ackAttempts += 1;
    const res = await http.post<{ state: { acknowledgement?: { by: string } } }>(`/v1/downtimes/${expiring}/acknowledge`, KEYS.operator, { by: 'ana', note: 'looking' });
    if (res.status === 503) return undefined;
    return res;
  }, { timeoutMs: 90_000, intervalMs: 500 });
  const ackMs = Date.now() - restartedAt;
  expect(ack.status).toBe(200);
  expect(ack.body.state.acknowledgement).toMatchObject({ by: 'ana' });
  // The workflow's validator still refuses a second one.
  const again = await http.post<{ message: string }>(`/v1/downtimes/${expiring}/acknowledge`, KEYS.operator, { by: 'bob' });
  expect([400, 409]).toContain(again.status);
  expect(again.body.message).toMatch(/already acknowledged by ana/);
  expect(stack.workers[0]!.running()).toBe(true);

  // The manual downtime refused during the outage can be opened now, and resolved.
  const third = await http.post<{ id: string }>('/v1/downtimes', KEYS.operator, { scope: { method: AXIS.method }, reason: 'card issuer down', by: 'ana' });
  expect(third.status).toBe(202);
  await eventually('the third downtime is probing', async () => ((await downtime(third.body.id)).live?.phase === 'probing' ? true : undefined), { timeoutMs: 60_000 });
  const resolvedThird = await http.post<{ state: { status: string } }>(`/v1/downtimes/${third.body.id}/resolve`, KEYS.operator, { by: 'ana' });
  expect(resolvedThird).toMatchObject({ status: 200, body: { state: { status: 'resolved' } } });

  // The bank behind upi:phonepe is back: bucket B proves it; wallet:paytm gets no probe traffic and expires.
  let batches = 0;
  const healedFrom = Date.now();
  const healthy = background(async () => {
    batches += 1;
    await http.post('/v1/transactions', KEYS.ingest, { transactions: liveAttempts(`ok-${restartedAt}-${batches}`, usersB, PHONEPE, 4) });
  }, 400);
  const recovered = await eventually('upi:phonepe recovers through its probe', async () => {
    const d = await downtime(recovering);
    return d.status === 'resolved' ? d : undefined;
  }, { timeoutMs: 90_000, intervalMs: 500 });
  await healthy.stop();
  const expired = await eventually('wallet:paytm expires on its timer', async () => {
    const d = await downtime(expiring);
    return d.status === 'resolved' ? d : undefined;
  }, { timeoutMs: 120_000, intervalMs: 500 });
  expect(recovered).toMatchObject({ endReason: 'recovered' });
  expect(expired).toMatchObject({ endReason: 'expired', acknowledgement: { by: 'ana' } });
  await sleep(1_000);
  const seen = await watcher.stop();

  // The checkout answered all along, and bucket A saw neither method before it was re-enabled.
  expect(seen.filter((o) => o.status !== 200)).toEqual([]);
  const expiredAt = Date.parse(expired.resolvedAt!);
  const early = [...offeredEarly(seen, PAYTM.method, expiredAt, expiredAt), ...offeredEarly(seen, PHONEPE.method, healedFrom, Date.parse(recovered.resolvedAt!))];
  expect(early).toEqual([]);
  const duringOutage = seen.filter((o) => o.at >= stoppedAt && o.at < restartedAt);

  // The same runs carried on, without a failed workflow task; one record each, nothing sent twice.
  const t2 = await temporalClient(env.TEMPORAL_ADDRESS!);
  const histories = [];
  for (const [i, r] of [PAYTM, PHONEPE].entries()) {
    const d = await t2.client.workflow.getHandle(`downtime:${r.method}@*`).describe();
    expect({ run: d.runId, status: d.status.name }).toEqual({ run: runs[i], status: 'COMPLETED' });
    const h = await historySummary(t2, `downtime:${r.method}@*`, runs[i]);
    expect(h.workflowTasksFailed).toBe(0);
    histories.push({ scope: `${r.method}@*`, ...h });
  }
  await t2.close();
  // Each notice once: the acknowledged downtime also told ops of its acknowledgement, once.
  for (const [id, r, told] of [[expiring, PAYTM, ['ops:downtime.resolved', 'ops:downtime.started', 'ops:downtime.updated']], [recovering, PHONEPE, ['ops:downtime.resolved', 'ops:downtime.started']]] as const) {
    expect(await db.c.downtimes.countDocuments({ scopeKey: `${r.method}@*` })).toBe(1);
    const n = await db.c.notifications.find({ downtimeId: id }).toArray();
    expect(n.map((x) => `${x.channel}:${x.event}`).sort()).toEqual(told);
  }
  expect(await db.c.downtimes.countDocuments({ scopeKey: `${AXIS.method}@*` })).toBe(1);
  expect(await db.c.timeline.countDocuments({ incidentId: expiring, kind: 'acknowledged' })).toBe(1);

  report('temporal-restart', {
    temporalDownMs: downMs,
    whileDown: Object.fromEntries(
      Object.entries(whileDown).map(([k, v]) => {
        const body = v.body as { error?: string; message?: string; liveError?: string; accepted?: number };
        return [k, { status: v.status, ms: v.ms, error: body.error, message: body.message, liveError: body.liveError, accepted: body.accepted }];
      }),
    ),
    paymentOptionChecksDuringOutage: duringOutage.length,
    paymentOptionsNon200: seen.filter((o) => o.status !== 200).length,
    bucketAShownBeforeReEnable: early.length,
    acknowledgeAfterRestart: { attempts: ackAttempts, msAfterRestart: ackMs },
    workerSurvived: stack.workers[0]!.running(),
    ends: { [expiring]: expired.endReason, [recovering]: recovered.endReason, [third.body.id]: 'manual' },
    histories,
  });
});
