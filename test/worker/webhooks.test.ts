/**
 * Webhook deliveries from the outbox to a real HTTP receiver on loopback: signed, retried with
 * backoff while the receiver fails, and delivered once; a slow receiver does not hold up others.
 */
import { createServer, IncomingMessage, Server } from 'node:http';
import pino from 'pino';
import type { Config } from '../../common/config';
import { verifyWebhook } from '../../common/webhook-signature';
import type { Database } from '../../db/mongo';
import { backoffMs, deliverDue } from '../../worker/webhooks';
import { createActivities } from '../../activities';
import { testConfig, testDatabase } from '../support/stack';

let config: Config;
let db: Database;
let server: Server;
let url: string;
let status = 500;
const received: { headers: IncomingMessage['headers']; body: string }[] = [];
const log = pino({ level: 'silent' });

beforeAll(async () => {
  config = testConfig();
  db = await testDatabase(config);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await db.db.dropDatabase();
  await db.close();
});

test('backoff doubles from one second and is capped', () => {
  expect([1, 2, 3, 4].map(backoffMs)).toEqual([1000, 2000, 4000, 8000]);
  expect(backoffMs(50)).toBe(10 * 60_000);
});

test('an event is retried with backoff while the receiver fails, then delivered once with a valid signature', async () => {
  const secret = 'whsec_test_0123456789abcdef';
  await db.c.webhooks.insertOne({ _id: 'wh_1', url, events: ['downtime.started'], secret, createdAt: new Date() });
  const acts = createActivities({ db, config, temporal: { client: undefined as never, taskQueue: 'unused' }, now: Date.now });
  const at = Date.now();
  // The workflow's notify step runs twice (a retry): one event, one delivery.
  for (let i = 0; i < 2; i++) {
    await acts.notify({ key: 'dt_x:started', downtimeId: 'dt_x', type: 'downtime.started', text: 'netbanking:sbi is down', at, data: { downtimeId: 'dt_x' } });
  }
  expect(await db.c.deliveries.countDocuments({ eventId: 'dt_x:started' })).toBe(1);

  let clock = at;
  const now = () => clock;
  status = 500;
  expect(await deliverDue(db, log, now)).toBe(0);
  const afterFailure = await db.c.deliveries.findOne({ _id: 'dt_x:started:wh_1' });
  expect(afterFailure).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500' });
  expect(afterFailure!.nextAttemptAt.getTime()).toBe(at + 1000);

  // Not due yet: nothing is sent before the backoff elapses.
  expect(await deliverDue(db, log, now)).toBe(0);
  expect(received).toHaveLength(1);

  status = 204;
  clock = at + 1000;
  expect(await deliverDue(db, log, now)).toBe(1);
  clock = at + 60_000;
  expect(await deliverDue(db, log, now)).toBe(0);
  expect(received).toHaveLength(2);
  expect(await db.c.deliveries.findOne({ _id: 'dt_x:started:wh_1' })).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 204 });

  const last = received[1]!;
  expect(last.headers['webhook-id']).toBe('dt_x:started');
  const headers = { timestamp: String(last.headers['webhook-timestamp']), signature: String(last.headers['webhook-signature']) };
  const nowSeconds = Math.floor(clock / 1000);
  expect(verifyWebhook(secret, headers, last.body, nowSeconds)).toBe(true);
  expect(JSON.parse(last.body)).toMatchObject({ id: 'dt_x:started', type: 'downtime.started', data: { downtimeId: 'dt_x' } });
  // An altered body, a wrong secret or a replay outside the tolerance fail verification.
  expect(verifyWebhook(secret, headers, last.body.replace('dt_x', 'dt_y'), nowSeconds)).toBe(false);
  expect(verifyWebhook('whsec_other', headers, last.body, nowSeconds)).toBe(false);
  expect(verifyWebhook(secret, headers, last.body, nowSeconds + 3600)).toBe(false);
});

test('a slow receiver does not hold up another subscriber\'s events, and gets its own one at a time', async () => {
  // The slow partner answers only once the other partner has its event: a dispatcher that waits on
  // one receiver at a time would see it time out instead.
  let fastGot!: () => void;
  const fastArrived = new Promise<void>((r) => (fastGot = r));
  const order: string[] = [];
  let slowOpen = 0;
  let slowMostOpen = 0;
  const receivers = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      order.push(id);
      if (req.url === '/fast') {
        fastGot();
        res.writeHead(204).end();
        return;
      }
      slowOpen += 1;
      slowMostOpen = Math.max(slowMostOpen, slowOpen);
      void fastArrived.then(() => {
        slowOpen -= 1;
        res.writeHead(204).end();
      });
    });
  });
  await new Promise<void>((r) => receivers.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(receivers.address() as { port: number }).port}`;
  try {
    const createdAt = new Date();
    await db.c.webhooks.insertMany([
      { _id: 'wh_slow', url: `${base}/slow`, events: ['downtime.started'], secret: 'whsec_slow_0123456789', createdAt },
      { _id: 'wh_fast', url: `${base}/fast`, events: ['downtime.started'], secret: 'whsec_fast_0123456789', createdAt },
    ]);
    const due = (eventId: string, sub: string, ageMs: number) => ({
      _id: `${eventId}:${sub}`, eventId, subscriptionId: sub, url: `${base}/${sub === 'wh_slow' ? 'slow' : 'fast'}`, type: 'downtime.started',
      body: JSON.stringify({ id: eventId }), status: 'pending' as const, attempts: 0, nextAttemptAt: new Date(Date.now() - ageMs), createdAt,
    });
    // The slow partner's two events are due first, the other's last.
    await db.c.deliveries.insertMany([due('ev_1', 'wh_slow', 3_000), due('ev_2', 'wh_slow', 2_000), due('ev_3', 'wh_fast', 1_000)]);

    expect(await deliverDue(db, log)).toBe(3);
    const states = await db.c.deliveries.find({ eventId: { $in: ['ev_1', 'ev_2', 'ev_3'] } }).sort({ _id: 1 }).toArray();
    expect(states.map((d) => [d._id, d.status, d.attempts])).toEqual([
      ['ev_1:wh_slow', 'delivered', 1],
      ['ev_2:wh_slow', 'delivered', 1],
      ['ev_3:wh_fast', 'delivered', 1],
    ]);
    // The slow partner's second event went out after its first, never both at once.
    expect(order.filter((id) => id !== 'ev_3')).toEqual(['ev_1', 'ev_2']);
    expect(slowMostOpen).toBe(1);
  } finally {
    await new Promise((r) => receivers.close(r));
  }
});
