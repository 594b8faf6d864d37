/**
 * The channels that reach people, from the actor's steps through the outbox and the dispatcher to
 * real receivers on loopback: an HTTP receiver in PagerDuty's Events API v2 and Slack's incoming
 * webhook shapes, and a real SMTP server (the smtp-server package) for partner mail.
 */
import { createServer, Server } from 'node:http';
import pino from 'pino';
import { createActivities } from '../../activities';
import type { Config } from '../../common/config';
import type { Database } from '../../db/mongo';
import { deliverDue } from '../../worker/dispatcher';
import { createSenders } from '../../worker/channels';
import { downtimeInput } from '../support/downtime-input';
import { testConfig, testDatabase } from '../support/stack';
import { startSmtpReceiver } from '../support/smtp-receiver';

const log = pino({ level: 'silent' });
const ROUTING_KEY = 'R0UT1NGKEY0000000000000000000000';

let config: Config;
let db: Database;
let http: Server;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
/** What PagerDuty answers next: 500 makes the dispatcher retry. */
let pagerDutyStatus = 202;
const pagerDuty: Record<string, unknown>[] = [];
/** Every request PagerDuty got, accepted or not: `action status`. */
const pagerDutyArrivals: string[] = [];
const slack: Record<string, unknown>[] = [];
let senders: ReturnType<typeof createSenders>;
let acts: ReturnType<typeof createActivities>;

beforeAll(async () => {
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/v2/enqueue') {
        pagerDutyArrivals.push(`${(JSON.parse(body) as { event_action: string }).event_action} ${pagerDutyStatus}`);
        if (pagerDutyStatus !== 202) return void res.writeHead(pagerDutyStatus).end();
        pagerDuty.push(JSON.parse(body));
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success","message":"Event processed"}');
      } else {
        slack.push(JSON.parse(body));
        res.writeHead(200).end('ok');
      }
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  smtp = await startSmtpReceiver();
  config = testConfig({
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: `${base}/v2/enqueue`,
    SLACK_WEBHOOK_URL: `${base}/services/T000/B000/XXXX`,
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    SMTP_FROM: 'Downtimes <downtimes@example.test>',
    PUBLIC_URL: 'https://downtimes.example.test',
  });
  db = await testDatabase(config);
  senders = createSenders(config, db);
  acts = createActivities({ db, config, temporal: { client: undefined as never, taskQueue: 'unused' }, now: Date.now });
  await db.c.catalog.insertOne({
    _id: 'catalog',
    methods: [
      { method: 'card:hdfc_credit', gateways: ['payu', 'razorpay'], attributes: { issuer: 'hdfc', network: 'visa' } },
      { method: 'netbanking:sbi', gateways: ['razorpay'] },
    ],
    updatedAt: new Date(),
  });
  await db.c.partners.insertMany([
    { _id: 'PayU', scope: { gateway: 'payu' }, emails: ['ops@payu.example', 'noc@payu.example'], updatedAt: new Date() },
    { _id: 'HDFC Bank', scope: { issuer: 'hdfc' }, emails: ['cards@hdfc.example'], updatedAt: new Date() },
    { _id: 'SBI', scope: { method: 'netbanking:sbi' }, emails: ['nb@sbi.example'], updatedAt: new Date() },
  ]);
});

afterAll(async () => {
  senders?.close();
  await new Promise((r) => http.close(r));
  await smtp?.close();
  await db?.db.dropDatabase();
  await db?.close();
});

/** Works the outbox until nothing is due, as the dispatcher's loop would. */
async function drain(now: () => number): Promise<void> {
  for (let i = 0; i < 10; i++) if ((await deliverDue(db, senders.send, log, now)) === 0) break;
}

test('a paged downtime reaches PagerDuty (trigger, acknowledge, resolve, in order, once each), ops chat, and the partners whose routes it shares', async () => {
  const openedAt = Date.now();
  const input = downtimeInput(config, { gateway: 'payu' }, openedAt);
  const id = input.downtimeId;
  const page = { downtimeId: id, severity: 'SEV1' as const, n: 1, at: openedAt, text: 'gateway payu is down' };
  const started = { key: `${id}:started`, downtimeId: id, event: 'started' as const, type: 'downtime.started' as const, text: 'gateway payu is down (SEV1)', at: openedAt, data: {} };
  // The start, retried: written once.
  for (let i = 0; i < 2; i++) await acts.openDowntime(input, 'SEV1', openedAt + input.policy.expiryMs, openedAt, { notify: started, page });

  // PagerDuty is failing when the trigger goes out; the acknowledgement is written meanwhile and must wait for it.
  let clock = openedAt;
  const now = () => clock;
  pagerDutyStatus = 500;
  await drain(now);
  expect(pagerDuty).toHaveLength(0);
  const ack = { key: `${id}:acknowledged`, downtimeId: id, event: 'acknowledged' as const, type: 'downtime.updated' as const, text: 'Acknowledged by amy', at: openedAt + 10, data: {} };
  await acts.notify(ack);
  await acts.notify(ack);
  clock += 500;
  await drain(now);
  expect(pagerDuty).toHaveLength(0);

  pagerDutyStatus = 202;
  clock += 60_000;
  await drain(now);
  await acts.closeDowntime({ downtimeId: id, endReason: 'manual', at: openedAt + 20, by: 'amy', severity: 'SEV1' });
  await acts.notify({ key: `${id}:resolved`, downtimeId: id, event: 'resolved', type: 'downtime.resolved', text: 'gateway payu re-enabled (manual)', at: openedAt + 20, data: {} });
  clock += 60_000;
  await drain(now);

  expect(pagerDuty.map((e) => e.event_action)).toEqual(['trigger', 'acknowledge', 'resolve']);
  // The acknowledgement never went out before the trigger was through.
  expect(pagerDutyArrivals).toEqual(['trigger 500', 'trigger 202', 'acknowledge 202', 'resolve 202']);
  for (const e of pagerDuty) expect(e).toMatchObject({ routing_key: ROUTING_KEY, dedup_key: id });
  expect(pagerDuty[0]).toMatchObject({
    payload: { severity: 'critical', source: 'payment-downtime-orchestrator', component: 'gateway payu', summary: expect.stringContaining('[SEV1]') },
    links: expect.arrayContaining([{ href: `https://downtimes.example.test/v1/downtimes/${id}`, text: 'Downtime in the API' }]),
  });

  expect(slack.map((m) => (m.blocks as { type: string; text?: { text: string } }[])[0]!.text!.text)).toEqual(['Downtime started', 'Downtime acknowledged', 'Re-enabled']);
  expect(JSON.stringify(slack[0])).toContain(`https://downtimes.example.test/v1/downtimes/${id}|API`);

  // PayU's gateway is the scope; HDFC's cards run on payu too; SBI's netbanking does not.
  const to = smtp.mail.map((m) => m.to.join(','));
  expect(to.sort()).toEqual(['cards@hdfc.example', 'cards@hdfc.example', 'ops@payu.example,noc@payu.example', 'ops@payu.example,noc@payu.example']);
  const payuStart = smtp.mail.find((m) => m.to.includes('ops@payu.example') && m.data.includes('Subject: [Downtime]'))!;
  expect(payuStart.data).toContain('Hello PayU');
  expect(payuStart.data).toMatch(/Evidence: success rate 5\.0% over 200 attempts/);
  expect(smtp.mail.some((m) => m.to.includes('ops@payu.example') && m.data.includes('Subject: [Resolved]'))).toBe(true);

  // Every delivery is on record, delivered, and none holds a secret.
  const deliveries = await db.c.deliveries.find({ downtimeId: id }).toArray();
  expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
  expect(deliveries.map((d) => d.channel).sort()).toEqual(['email', 'email', 'email', 'email', 'pagerduty', 'pagerduty', 'pagerduty', 'slack', 'slack', 'slack']);
  expect(JSON.stringify(deliveries)).not.toContain(ROUTING_KEY);
  expect(JSON.stringify(deliveries)).not.toContain('/services/T000');
});

test('an unpaged downtime sends PagerDuty nothing, not even its acknowledgement or close', async () => {
  const openedAt = Date.now();
  const input = downtimeInput(config, { method: 'netbanking:sbi' }, openedAt);
  const id = input.downtimeId;
  pagerDuty.length = 0;
  await acts.openDowntime(input, 'SEV3', openedAt + input.policy.expiryMs, openedAt, {
    notify: { key: `${id}:started`, downtimeId: id, event: 'started', type: 'downtime.started', text: 'netbanking:sbi is down', at: openedAt, data: {} },
  });
  await acts.notify({ key: `${id}:acknowledged`, downtimeId: id, event: 'acknowledged', type: 'downtime.updated', text: 'Acknowledged', at: openedAt + 1, data: {} });
  await acts.notify({ key: `${id}:resolved`, downtimeId: id, event: 'resolved', type: 'downtime.resolved', text: 'netbanking:sbi re-enabled', at: openedAt + 2, data: {} });
  await drain(Date.now);
  expect(pagerDuty).toHaveLength(0);
  expect(await db.c.deliveries.countDocuments({ downtimeId: id, channel: 'pagerduty' })).toBe(0);
  expect((await db.c.deliveries.find({ downtimeId: id, channel: 'email' }).toArray()).map((d) => d.receiver)).toEqual(['partner:SBI', 'partner:SBI']);
});
