/**
 * Webhook deliveries from the outbox to a real HTTP receiver on loopback: signed by the Standard
 * Webhooks specification (verified here with its official library, as a receiver would), retried
 * with backoff while the receiver fails, and delivered once; a rotated secret keeps verifying for
 * its grace period; a slow receiver does not hold up others.
 */
import { createServer, IncomingMessage, Server } from 'node:http';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import type { Config } from '../../common/config';
import { newWebhookSecret } from '../../common/webhook-signature';
import type { Database, DeliveryDoc } from '../../db/mongo';
import { backoffMs, deliverDue } from '../../worker/dispatcher';
import { createSenders } from '../../worker/channels';
import { createActivities } from '../../activities';
import { WebhookService } from '../../api/services/webhooks';
import { connectDatabase } from '../../db/mongo';
import { testConfig, testDatabase } from '../support/stack';

let config: Config;
let db: Database;
let server: Server;
let url: string;
let status = 500;
const received: { headers: IncomingMessage['headers']; body: string }[] = [];
const log = pino({ level: 'silent' });

let send: ReturnType<typeof createSenders>['send'];

/** What a receiver does with a delivery: the official library's verify, which throws on a bad signature or an old timestamp. */
function verified(secret: string, r: { headers: IncomingMessage['headers']; body: string }): unknown {
  const h = r.headers;
  return new Webhook(secret).verify(r.body, { 'webhook-id': String(h['webhook-id']), 'webhook-timestamp': String(h['webhook-timestamp']), 'webhook-signature': String(h['webhook-signature']) });
}

beforeAll(async () => {
  config = testConfig();
  db = await testDatabase(config);
  send = createSenders(config, db).send;
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

test('an event is retried with backoff while the receiver fails, then delivered once, verified by the official Standard Webhooks library', async () => {
  const secret = newWebhookSecret();
  await db.c.webhooks.insertOne({ _id: 'wh_1', url, events: ['downtime.started'], secret, createdAt: new Date() });
  const acts = createActivities({ db, config, temporal: { client: undefined as never, taskQueue: 'unused' }, now: Date.now });
  const at = Date.now();
  // The workflow's notify step runs twice (a retry): one event, one delivery.
  for (let i = 0; i < 2; i++) {
    await acts.notify({ key: 'dt_x:started', downtimeId: 'dt_x', event: 'started', type: 'downtime.started', text: 'netbanking:sbi is down', at, data: { downtimeId: 'dt_x' } });
  }
  expect(await db.c.deliveries.countDocuments({ eventId: 'dt_x:started' })).toBe(1);

  let clock = at;
  const now = () => clock;
  status = 500;
  expect(await deliverDue(db, send, log, now)).toBe(0);
  const afterFailure = await db.c.deliveries.findOne({ _id: 'dt_x:started:wh_1' });
  expect(afterFailure).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500' });
  expect(afterFailure!.nextAttemptAt.getTime()).toBe(at + 1000);

  // Not due yet: nothing is sent before the backoff elapses.
  expect(await deliverDue(db, send, log, now)).toBe(0);
  expect(received).toHaveLength(1);

  status = 204;
  clock = at + 1000;
  expect(await deliverDue(db, send, log, now)).toBe(1);
  clock = at + 60_000;
  expect(await deliverDue(db, send, log, now)).toBe(0);
  expect(received).toHaveLength(2);
  expect(await db.c.deliveries.findOne({ _id: 'dt_x:started:wh_1' })).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 204 });

  const last = received[1]!;
  expect(last.headers['webhook-id']).toBe('dt_x:started');
  expect(String(last.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  expect(verified(secret, last)).toMatchObject({ id: 'dt_x:started', type: 'downtime.started', data: { downtimeId: 'dt_x' } });
  // An altered body, a wrong secret, or the captured delivery replayed under a new id fail verification.
  expect(() => verified(secret, { ...last, body: last.body.replace('dt_x', 'dt_y') })).toThrow();
  expect(() => verified(newWebhookSecret(), last)).toThrow();
  expect(() => verified(secret, { ...last, headers: { ...last.headers, 'webhook-id': 'dt_x:replayed' } })).toThrow();
});

test('after a secret rotation deliveries verify with the new secret and, during the grace period, the old one; after it, only the new', async () => {
  let clock = Date.now();
  const now = () => clock;
  const service = new WebhookService({ db, now, secretGraceMs: 60_000 });
  const created = await service.create({ url, events: ['downtime.updated'] });
  const rotated = await service.rotateSecret(created.id);
  status = 204;
  received.length = 0;
  const deliver = async (eventId: string) => {
    const delivery: DeliveryDoc = { _id: `${eventId}:${created.id}`, channel: 'webhook', receiver: created.id, eventId, url, type: 'downtime.updated', body: JSON.stringify({ id: eventId }), status: 'pending', attempts: 0, nextAttemptAt: new Date(clock), createdAt: new Date(clock) };
    await db.c.deliveries.insertOne(delivery);
    expect(await deliverDue(db, send, log, now)).toBe(1);
    return received.at(-1)!;
  };
  const during = await deliver('ev_rotating');
  expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
  expect(verified(rotated.secret, during)).toEqual({ id: 'ev_rotating' });
  expect(verified(created.secret, during)).toEqual({ id: 'ev_rotating' });

  clock += 61_000;
  const after = await deliver('ev_rotated');
  expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
  expect(verified(rotated.secret, after)).toEqual({ id: 'ev_rotated' });
  expect(() => verified(created.secret, after)).toThrow();
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
      { _id: 'wh_slow', url: `${base}/slow`, events: ['downtime.started'], secret: newWebhookSecret(), createdAt },
      { _id: 'wh_fast', url: `${base}/fast`, events: ['downtime.started'], secret: newWebhookSecret(), createdAt },
    ]);
    const due = (eventId: string, sub: string, ageMs: number) => ({
      _id: `${eventId}:${sub}`, channel: 'webhook' as const, receiver: sub, eventId, url: `${base}/${sub === 'wh_slow' ? 'slow' : 'fast'}`, type: 'downtime.started',
      body: JSON.stringify({ id: eventId }), status: 'pending' as const, attempts: 0, nextAttemptAt: new Date(Date.now() - ageMs), createdAt,
    });
    // The slow partner's two events are due first, the other's last.
    await db.c.deliveries.insertMany([due('ev_1', 'wh_slow', 3_000), due('ev_2', 'wh_slow', 2_000), due('ev_3', 'wh_fast', 1_000)]);

    expect(await deliverDue(db, send, log)).toBe(3);
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

test('two dispatchers on one outbox (two connections, as two workers have) send every delivery once, and a turn abandoned by a dead dispatcher is taken again after its lease', async () => {
  const hits = new Map<string, number>();
  const receivers = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      hits.set(id, (hits.get(id) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receivers.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(receivers.address() as { port: number }).port}`;
  const second = await connectDatabase(config.mongo.uri!, config.mongo.db);
  try {
    const createdAt = new Date();
    const subs = Array.from({ length: 12 }, (_, i) => `wh_pair_${i}`);
    await db.c.webhooks.insertMany(subs.map((s) => ({ _id: s, url: `${base}/${s}`, events: ['downtime.started'], secret: newWebhookSecret(), createdAt })));
    const deliveries: DeliveryDoc[] = Array.from({ length: 240 }, (_, i) => ({
      _id: `ev_pair_${i}:${subs[i % subs.length]}`, channel: 'webhook', receiver: subs[i % subs.length]!, eventId: `ev_pair_${i}`, url: `${base}/${subs[i % subs.length]}`,
      type: 'downtime.started', body: JSON.stringify({ id: `ev_pair_${i}` }), status: 'pending', attempts: 0, nextAttemptAt: new Date(Date.now() - 1_000), createdAt,
    }));
    await db.c.deliveries.insertMany(deliveries);
    const [a, b] = await Promise.all([deliverDue(db, send, log), deliverDue(second, createSenders(config, second).send, log)]);
    expect(a + b).toBe(240);
    expect(hits.size).toBe(240);
    expect([...hits.values()].filter((n) => n > 1)).toEqual([]);
    expect(await db.c.deliveries.countDocuments({ eventId: /^ev_pair_/, status: 'delivered', attempts: 1 })).toBe(240);

    // A dispatcher took a delivery's turn and died before leasing it: nobody sends it until that
    // turn is a lease old, then one does.
    const at = Date.now();
    await db.c.deliveries.insertOne({ ...deliveries[0]!, _id: 'ev_orphan:wh_pair_0', eventId: 'ev_orphan', body: '{"id":"ev_orphan"}', nextAttemptAt: new Date(at) });
    await db.c.claims.insertOne({ _id: 'delivery:ev_orphan:wh_pair_0#0', at: new Date(at) });
    expect(await deliverDue(db, send, log, () => at + 1_000)).toBe(0);
    expect(await deliverDue(db, send, log, () => at + 31_000)).toBe(1);
    expect(hits.get('ev_orphan')).toBe(1);
  } finally {
    await second.close();
    await new Promise((r) => receivers.close(r));
  }
});
