/**
 * End to end on the real stack, with real receivers on loopback standing in for the world: an
 * HTTP receiver in PagerDuty's Events API v2 and Slack's incoming-webhook shapes, a webhook
 * subscriber that verifies with the official Standard Webhooks library, and a real SMTP server.
 * An operator opens a downtime of PayU and escalates it to SEV1; on-call acknowledges it in
 * PagerDuty (a signed v3 webhook); the operator resolves it. Each channel hears what it should,
 * once, in order, and the downtime lists every delivery.
 */
import { createServer, IncomingMessage, Server } from 'node:http';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { signPagerDuty } from '../../common/pagerduty-signature';
import { createSenders } from '../../worker/channels';
import { startDispatcher } from '../../worker/dispatcher';
import { KEYS } from '../support/stack';
import { startSmtpReceiver } from '../support/smtp-receiver';
import { E2eStack, eventually, startStack } from './support';

jest.setTimeout(120_000);

const PD_SECRET = 'pd-webhook-secret-for-tests-000000';
let http: Server;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let stack: E2eStack;
let dispatcher: { stop(): Promise<void> };
let senders: ReturnType<typeof createSenders>;
const pagerDuty: { event_action: string; dedup_key: string; payload?: { severity: string } }[] = [];
const slack: { text: string }[] = [];
const hooks: { headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/v2/enqueue') pagerDuty.push(JSON.parse(body));
      else if (req.url === '/slack') slack.push(JSON.parse(body));
      else hooks.push({ headers: req.headers, body });
      res.writeHead(req.url === '/v2/enqueue' ? 202 : 200).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  smtp = await startSmtpReceiver();
  stack = await startStack({
    PAGERDUTY_ROUTING_KEY: 'R0UT1NG0000000000000000000000000',
    PAGERDUTY_EVENTS_URL: `${base}/v2/enqueue`,
    PAGERDUTY_WEBHOOK_SECRET: PD_SECRET,
    SLACK_WEBHOOK_URL: `${base}/slack`,
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
  });
  // What the worker process runs beside its Temporal worker.
  senders = createSenders(stack.config, stack.db);
  dispatcher = startDispatcher(stack.db, senders.send, pino({ level: 'silent' }), 100);
});

afterAll(async () => {
  await dispatcher?.stop();
  senders?.close();
  await stack?.close();
  await new Promise((r) => http?.close(r));
  await smtp?.close();
});

function pagerDutyWebhook(eventId: string, eventType: string, incidentKey: string, secret = PD_SECRET) {
  const body = JSON.stringify({ event: { id: eventId, event_type: eventType, resource_type: 'incident', occurred_at: new Date().toISOString(), agent: { type: 'user_reference', summary: 'Amy (on call)' }, data: { id: 'Q1NKQ0', type: 'incident', status: 'acknowledged', incident_key: incidentKey } } });
  return fetch(`${stack.api.base}/v1/integrations/pagerduty`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-pagerduty-signature': signPagerDuty(secret, body) }, body });
}

test('a SEV1 is paged, acknowledged from PagerDuty, resolved, and every channel hears it once, in order', async () => {
  const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  expect((await stack.api.put('/v1/catalog', KEYS.admin, { methods: [{ method: 'upi:gpay', gateways: ['payu', 'razorpay'] }, { method: 'netbanking:sbi', gateways: ['razorpay'] }] })).status).toBe(200);
  expect((await stack.api.put('/v1/partners', KEYS.admin, { partners: [{ name: 'PayU', scope: { gateway: 'payu' }, emails: ['ops@payu.example'] }, { name: 'SBI', scope: { method: 'netbanking:sbi' }, emails: ['nb@sbi.example'] }] })).status).toBe(200);
  const hook = await stack.api.post<{ id: string; secret: string }>('/v1/webhooks', KEYS.admin, { url: `${base}/hooks`, events: ['downtime.started', 'downtime.updated', 'downtime.resolved'] });
  expect(hook.status).toBe(201);

  const opened = await stack.api.post<{ id: string; scopeKey: string }>('/v1/downtimes', KEYS.operator, { scope: { gateway: 'payu' }, reason: 'PayU returns 503 on every call', by: 'amy' });
  expect(opened.status).toBe(202);
  stack.started(opened.body.scopeKey);
  const id = opened.body.id;
  const escalated = await stack.api.post(`/v1/downtimes/${id}/escalate`, KEYS.operator, { by: 'amy', severity: 'SEV1', reason: 'checkout-wide' });
  expect(escalated.status).toBe(200);
  await eventually('PagerDuty is triggered', async () => (pagerDuty.some((e) => e.event_action === 'trigger') ? true : undefined));

  // PagerDuty's webhook: a bad signature is refused; the acknowledgement applies once, however often PagerDuty sends it.
  expect((await pagerDutyWebhook('ev_ack_1', 'incident.acknowledged', id, 'not-the-secret')).status).toBe(401);
  const ack = await pagerDutyWebhook('ev_ack_1', 'incident.acknowledged', id);
  expect(ack.status).toBe(200);
  expect(await ack.json()).toEqual({ outcome: 'acknowledged', downtimeId: id });
  expect(await (await pagerDutyWebhook('ev_ack_1', 'incident.acknowledged', id)).json()).toEqual({ outcome: 'acknowledged', downtimeId: id });
  expect(await (await pagerDutyWebhook('ev_ack_2', 'incident.acknowledged', id)).json()).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('already acknowledged') });
  expect(await (await pagerDutyWebhook('ev_other', 'incident.triggered', id)).json()).toMatchObject({ outcome: 'ignored' });
  const read = await stack.api.get<{ acknowledgement?: { by: string } }>(`/v1/downtimes/${id}`, KEYS.operator);
  expect(read.body.acknowledgement?.by).toBe('PagerDuty: Amy (on call)');

  expect((await stack.api.post(`/v1/downtimes/${id}/resolve`, KEYS.operator, { by: 'amy', reason: 'PayU fixed their load balancer' })).status).toBe(200);

  await eventually('PagerDuty hears the resolution', async () => (pagerDuty.some((e) => e.event_action === 'resolve') ? true : undefined), { timeoutMs: 30_000 });
  // A gateway for every checkout opens at SEV2 (paged), and the escalation to SEV1 pages again: one PagerDuty incident by its dedup_key.
  expect(pagerDuty.map((e) => `${e.event_action}${e.payload ? ` ${e.payload.severity}` : ''}`)).toEqual(['trigger error', 'trigger critical', 'acknowledge', 'resolve']);
  expect(pagerDuty.every((e) => e.dedup_key === id)).toBe(true);

  await eventually('chat hears the resolution', async () => (slack.some((m) => m.text.includes('Re-enabled')) ? true : undefined));
  expect(slack.map((m) => m.text.split(':')[2]!.trim())).toEqual(['Downtime started', 'Downtime escalated', 'Downtime acknowledged', 'Re-enabled']);

  const payuMail = await eventually('PayU is mailed twice', async () => {
    const m = smtp.mail.filter((x) => x.to.includes('ops@payu.example'));
    return m.length === 2 ? m : undefined;
  });
  expect(payuMail.map((m) => /Subject: (\[[A-Za-z]+\])/.exec(m.data)?.[1])).toEqual(['[Downtime]', '[Resolved]']);
  expect(smtp.mail.some((m) => m.to.includes('nb@sbi.example'))).toBe(false);

  // The subscriber verifies every delivery with the official library and gets each event once.
  const events = await eventually('the webhooks arrive', async () => (hooks.length >= 4 ? hooks : undefined));
  const wh = new Webhook(hook.body.secret);
  const types = events.map((h) => (wh.verify(h.body, { 'webhook-id': String(h.headers['webhook-id']), 'webhook-timestamp': String(h.headers['webhook-timestamp']), 'webhook-signature': String(h.headers['webhook-signature']) }) as { type: string }).type);
  expect(types).toEqual(['downtime.started', 'downtime.updated', 'downtime.updated', 'downtime.resolved']);
  expect(new Set(events.map((h) => h.headers['webhook-id'])).size).toBe(events.length);

  // The downtime lists what went out, where, and how it fared.
  const detail = await stack.api.get<{ deliveries: { channel: string; type: string; status: string; attempts: number }[] }>(`/v1/downtimes/${id}`, KEYS.operator);
  const byChannel = (c: string) => detail.body.deliveries.filter((d) => d.channel === c).map((d) => d.type);
  expect(byChannel('pagerduty')).toEqual(['pagerduty.trigger', 'pagerduty.trigger', 'pagerduty.acknowledge', 'pagerduty.resolve']);
  expect(byChannel('slack')).toEqual(['slack.started', 'slack.escalated', 'slack.acknowledged', 'slack.resolved']);
  expect(byChannel('email')).toEqual(['email.started', 'email.resolved']);
  expect(byChannel('webhook')).toHaveLength(4);
  expect(detail.body.deliveries.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
});
