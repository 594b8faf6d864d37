/**
 * Fault: the worker is killed with SIGKILL between a downtime's PagerDuty events.
 *
 * The worker (whose dispatcher delivers the outbox) and the API run as child processes, with
 * PagerDuty's Events API and Slack's incoming webhook pointed at an HTTP receiver on loopback. A
 * SEV1 downtime is paged; the worker is killed and replaced; on-call acknowledges; the worker is
 * killed and replaced again; the downtime is resolved. PagerDuty must see each event once, in
 * order: the triggers, the acknowledgement, the resolution.
 */
import { eventually } from '../e2e/support';
import { FaultStack, KEYS, api, pagerDutyAndSlack, startFaultStack, stopFaultStack } from './support';

let stack: FaultStack;
let receivers: Awaited<ReturnType<typeof pagerDutyAndSlack>>;

beforeAll(async () => {
  receivers = await pagerDutyAndSlack();
  stack = await startFaultStack({ name: 'pagerduty-kill', workers: ['worker-1'], env: receivers.env });
});
afterAll(async () => {
  await stopFaultStack(stack);
  await receivers?.close();
});

/**
 * An incident manager's request as a client makes it: a 503 (the workflow's task still waits on
 * the killed worker's sticky queue until Temporal gives it to the new one) means read the
 * downtime, and retry after Retry-After unless the request took effect meanwhile.
 */
async function request(path: string, body: object, tookEffect: (d: { acknowledgement?: unknown; status: string }) => boolean): Promise<'applied'> {
  const http = api(stack.env);
  const id = path.split('/')[3]!;
  for (let i = 0; i < 12; i++) {
    const res = await http.post(path, KEYS.operator, body);
    if (res.status === 200) return 'applied';
    if (res.status !== 503) throw new Error(`${path}: ${res.status} ${res.text}`);
    await new Promise((r) => setTimeout(r, 5_000));
    if (tookEffect((await http.get<{ acknowledgement?: unknown; status: string }>(`/v1/downtimes/${id}`, KEYS.operator)).body)) return 'applied';
  }
  throw new Error(`${path}: still 503 after a minute`);
}

test('PagerDuty gets trigger, acknowledge and resolve once each, in order, with the worker SIGKILLed between them', async () => {
  const http = api(stack.env);
  expect((await http.put('/v1/catalog', KEYS.admin, { methods: [{ method: 'upi:gpay', gateways: ['payu'] }] })).status).toBe(200);
  const opened = await http.post<{ id: string }>('/v1/downtimes', KEYS.operator, { scope: { gateway: 'payu' }, reason: 'PayU returns 503', by: 'amy' });
  expect(opened.status).toBe(202);
  const id = opened.body.id;
  expect((await http.post(`/v1/downtimes/${id}/escalate`, KEYS.operator, { by: 'amy', severity: 'SEV1' })).status).toBe(200);
  await eventually('PagerDuty hears the SEV1 page', async () => (receivers.pagerDuty.some((e) => e.payload?.severity === 'critical') ? true : undefined), { timeoutMs: 30_000 });

  await stack.workers[0]!.kill();
  await stack.startWorker('worker-2');
  expect(await request(`/v1/downtimes/${id}/acknowledge`, { by: 'amy' }, (d) => d.acknowledgement !== undefined)).toBe('applied');
  await eventually('PagerDuty hears the acknowledgement', async () => (receivers.pagerDuty.some((e) => e.event_action === 'acknowledge') ? true : undefined), { timeoutMs: 30_000 });

  await stack.workers[1]!.kill();
  await stack.startWorker('worker-3');
  expect(await request(`/v1/downtimes/${id}/resolve`, { by: 'amy' }, (d) => d.status === 'resolved')).toBe('applied');
  await eventually('PagerDuty hears the resolution', async () => (receivers.pagerDuty.some((e) => e.event_action === 'resolve') ? true : undefined), { timeoutMs: 30_000 });
  // Anything left to send would have gone by now: the dispatcher polls every half second.
  await new Promise((r) => setTimeout(r, 3_000));

  expect(receivers.pagerDuty.map((e) => `${e.event_action}${e.payload ? ` ${e.payload.severity}` : ''}`)).toEqual(['trigger error', 'trigger critical', 'acknowledge', 'resolve']);
  expect(receivers.pagerDuty.every((e) => e.dedup_key === id)).toBe(true);
  expect(receivers.slack.map((m) => m.text.split(':')[2]!.trim())).toEqual(['Downtime started', 'Downtime escalated', 'Downtime acknowledged', 'Re-enabled']);
  const deliveries = await stack.db.c.deliveries.find({ downtimeId: id }).toArray();
  expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
});
