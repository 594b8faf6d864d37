/**
 * Two of everything, and still once: with two workers' dispatchers on one outbox, every webhook,
 * PagerDuty event, Slack message and partner mail reaches its receiver once; with two APIs, a
 * probe success that reaches both wakes its actor once. The receivers are real servers on
 * loopback (HTTP for webhooks, PagerDuty and Slack; SMTP for mail).
 */
import { temporal } from '@temporalio/proto';
import { loadConfig } from '../../common/config';
import { startManualDowntime } from '../../common/starter';
import { downtimeInput } from '../support/downtime-input';
import { ReceivedMail, startSmtpReceiver } from '../support/smtp-receiver';
import { DowntimeBody, eventually, httpClient, userInBucket } from '../e2e/support';
import { KEYS, apiUrl, pagerDutyAndSlack, report, sleep } from '../faults/support';
import { ScaleStack, startScaleStack, stopScaleStack } from './support';

let stack: ScaleStack;
let receivers: Awaited<ReturnType<typeof pagerDutyAndSlack>>;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
const PROBE_INTERVAL_MS = 6_000;

beforeAll(async () => {
  receivers = await pagerDutyAndSlack();
  smtp = await startSmtpReceiver();
  stack = await startScaleStack({
    name: 'scale-once',
    temporalClient: true,
    receiver: true,
    env: {
      ...receivers.env,
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      PROBE_INTERVAL: `${PROBE_INTERVAL_MS / 1000}s`,
    },
  });
});
afterAll(async () => {
  await stopScaleStack(stack);
  await receivers?.close();
  await smtp?.close();
});

/** The mail's Message-ID, its header unfolded (a long one is wrapped onto the next line). */
const messageId = (m: ReceivedMail) => /^Message-ID:\s*(\S+)/im.exec(m.data.replace(/\r?\n[ \t]+/g, ' '))?.[1];

test('with two dispatchers running, every webhook, page, chat message and mail is delivered once', async () => {
  const lb = httpClient(stack.base);
  const banks = ['hdfc', 'icici', 'axis', 'kotak', 'yes', 'pnb', 'bob'].map((b) => `netbanking:${b}`);
  const catalog = ['upi:gpay', 'card:visa_debit', 'netbanking:sbi', ...banks].map((method) => ({ method, gateways: ['payu', 'razorpay'] }));
  expect((await lb.put('/v1/catalog', KEYS.admin, { methods: catalog })).status).toBe(200);
  expect((await lb.put('/v1/partners', KEYS.admin, { partners: [{ name: 'PayU', scope: { gateway: 'payu' }, emails: ['ops@payu.example'] }, { name: 'SBI', scope: { method: 'netbanking:sbi' }, emails: ['nb@sbi.example'] }] })).status).toBe(200);
  expect((await lb.post('/v1/webhooks', KEYS.admin, { url: stack.receiver!.url, events: ['downtime.started', 'downtime.updated', 'downtime.resolved'] })).status).toBe(201);

  // Opened together and resolved together: bursts of deliveries due at once, which both
  // dispatchers find on the same pass.
  const scopes = [{ gateway: 'payu' }, { method: 'netbanking:sbi' }, { method: 'upi:gpay' }, ...banks.map((method) => ({ method }))];
  const opened = await Promise.all(scopes.map((scope) => lb.post<{ id: string }>('/v1/downtimes', KEYS.operator, { scope, reason: 'reported down', by: 'amy' })));
  expect(opened.map((o) => o.status)).toEqual(scopes.map(() => 202));
  const ids = opened.map((o) => o.body.id);
  const escalated = await Promise.all(ids.slice(0, 2).map((id) => lb.post(`/v1/downtimes/${id}/escalate`, KEYS.operator, { by: 'amy', severity: 'SEV1' })));
  expect(escalated.map((e) => e.status)).toEqual([200, 200]);
  for (const id of ids) await eventually(`${id} disabled`, async () => ((await lb.get<DowntimeBody>(`/v1/downtimes/${id}`, KEYS.operator)).body.disabledAt ? true : undefined), { timeoutMs: 60_000 });
  const resolved = await Promise.all(ids.map((id) => lb.post(`/v1/downtimes/${id}/resolve`, KEYS.operator, { by: 'amy' })));
  expect(resolved.map((r) => r.status)).toEqual(ids.map(() => 200));
  const deliveries = await eventually('every delivery delivered', async () => {
    const all = await stack.db.c.deliveries.find({}).toArray();
    return all.length > 0 && all.every((d) => d.status === 'delivered') ? all : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  // Anything sent twice would have arrived by now: the dispatchers poll every half second.
  await sleep(3_000);

  const count = (channel: string) => deliveries.filter((d) => d.channel === channel).length;
  const arrivals = { webhook: stack.receiver!.arrivals.length, pagerduty: receivers.pagerDuty.length, slack: receivers.slack.length, email: smtp.mail.length };
  const expected = { webhook: count('webhook'), pagerduty: count('pagerduty'), slack: count('slack'), email: count('email') };
  expect(arrivals).toEqual(expected);
  // Every channel was exercised, with the ids receivers de-duplicate by all distinct.
  for (const n of Object.values(expected)) expect(n).toBeGreaterThan(0);
  expect(new Set(stack.receiver!.arrivals.map((a) => a.id)).size).toBe(arrivals.webhook);
  expect(new Set(smtp.mail.map(messageId)).size).toBe(arrivals.email);
  expect(new Set(receivers.pagerDuty.map((e) => `${e.dedup_key} ${e.event_action} ${e.payload?.severity ?? ''}`)).size).toBe(arrivals.pagerduty);
  expect(deliveries.filter((d) => d.attempts !== 1).map((d) => d._id)).toEqual([]);
  report('scale-once-deliveries', { downtimes: ids.length, deliveries: expected, arrivals, duplicates: 0 });
});

test('a probe success that reaches both APIs at once wakes its actor once', async () => {
  const config = loadConfig(stack.env);
  const method = 'netbanking:hdfc_wake';
  expect((await httpClient(stack.base).put('/v1/catalog', KEYS.admin, { methods: [{ method, gateways: ['payu'] }] })).status).toBe(200);
  // A detected hard outage (10 successes in 200 attempts): after its first look its record asks to be woken by a success.
  const input = downtimeInput(config, { method, gateway: 'payu' }, Date.now());
  await startManualDowntime(stack.t!.client, config.temporal.taskQueue, input);
  const id = input.downtimeId;
  const first = await eventually('the first look asks for a wake on success', async () => {
    const d = await stack.db.c.downtimes.findOne({ _id: id });
    return d?.wakeOnProbeSuccess ? d : undefined;
  }, { timeoutMs: PROBE_INTERVAL_MS * 3, intervalMs: 100 });
  // Both replicas' snapshots know (they re-read a changed downtime every DOWNTIME_REFRESH).
  await sleep(1_000);

  const users = [1, 2].map((k) => userInBucket(`wake_b${k}`, id, 'B', [first.probePercent]));
  const direct = stack.apiEnvs.map((e) => httpClient(apiUrl(e)));
  const posted = await Promise.all(direct.map((api, i) => api.post('/v1/transactions', KEYS.ingest, { transactions: [{ id: `wake-${id}-${i}`, userId: users[i]!, method, gateway: 'payu', status: 'success' }] })));
  expect(posted.map((p) => p.status)).toEqual([202, 202]);
  await eventually('the actor looked at the successes', async () => {
    const d = (await httpClient(stack.base).get<DowntimeBody>(`/v1/downtimes/${id}`, KEYS.operator)).body;
    return (d.lastProbe?.successes ?? 0) >= 1 ? d : undefined;
  }, { timeoutMs: PROBE_INTERVAL_MS / 2, intervalMs: 100 });
  await sleep(1_000);

  const history = await stack.t!.client.workflow.getHandle(`downtime:${input.scopeKey}`).fetchHistory();
  const signals = (history.events ?? []).filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).map((e) => e.workflowExecutionSignaledEventAttributes?.signalName);
  expect(signals.filter((s) => s === 'probeSuccess')).toHaveLength(1);
  const metrics = await Promise.all(direct.map(async (api) => (await api.get<string>('/metrics')).text));
  const wakes = (result: string) => metrics.reduce((n, m) => n + Number(new RegExp(`^probe_wake_signals_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(m)?.[1] ?? 0), 0);
  expect({ sent: wakes('sent'), taken: wakes('taken') }).toEqual({ sent: 1, taken: 1 });
  report('scale-once-wake', { probeSuccessSignals: signals.filter((s) => s === 'probeSuccess').length, wakesSent: wakes('sent'), wakesLeftToTheOtherReplica: wakes('taken') });
});
