/** Operator and admin records: freeze windows, webhook subscriptions and deliveries, incidents, problems. */
import { readActiveFreeze } from '../../db/queries';
import { counterDoc } from '../support/counters';
import { Harness, KEYS, bearer, reset, startApi } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => h?.close());
beforeEach(async () => reset(h));

const HOUR = 3_600_000;
const call = (method: 'GET' | 'POST' | 'DELETE', url: string, key?: string, payload?: object) =>
  h.app.inject({ method, url, headers: key ? bearer(key) : {}, ...(payload ? { payload } : {}) });

describe('freeze windows', () => {
  const window = () => ({ name: '11.11 sale', startsAt: new Date(Date.now() - HOUR).toISOString(), endsAt: new Date(Date.now() + HOUR).toISOString(), reason: 'peak' });

  test('a recurring window is listed with its next occurrences, and the probe sees it on during one', async () => {
    // Every day from 00:00 UTC for 23 h 59 m: on now, whatever the time, unless within the last minute of the day.
    const midnight = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z').getTime();
    const res = await call('POST', '/v1/freeze-windows', KEYS.operator, { name: 'daily peak', startsAt: new Date(midnight - 2 * 86_400_000).toISOString(), recurrence: { rule: 'RRULE:FREQ=DAILY', duration: '1439m' } });
    expect(res.statusCode).toBe(201);
    const fw = res.json() as { id: string; endsAt?: string; recurrence: unknown; next: { startsAt: string; endsAt: string }[]; active: boolean };
    expect(fw.recurrence).toEqual({ rule: 'FREQ=DAILY', durationSeconds: 1439 * 60 });
    expect(fw.endsAt).toBeUndefined();
    expect(fw.next).toHaveLength(5);
    expect(fw.next[0]).toEqual({ startsAt: new Date(midnight).toISOString(), endsAt: new Date(midnight + 1439 * 60_000).toISOString() });
    expect(fw.next[1]!.startsAt).toBe(new Date(midnight + 86_400_000).toISOString());
    const inLastMinute = Date.now() >= midnight + 1439 * 60_000;
    expect(fw.active).toBe(!inLastMinute);
    expect((await readActiveFreeze(h.db, midnight + 3_600_000))?.id).toBe(fw.id);
    expect(await readActiveFreeze(h.db, midnight + 1439 * 60_000 + 1)).toBeUndefined();
  });

  test.each([
    ['recurrence.rule', 'an hourly rule', { recurrence: { rule: 'FREQ=HOURLY', duration: '30m' } }],
    ['recurrence.duration', 'a duration that is none', { recurrence: { rule: 'FREQ=DAILY', duration: 'soon' } }],
    ['recurrence.rule', 'a rule whose last occurrence is over', { recurrence: { rule: 'FREQ=DAILY;COUNT=1', duration: '1h' } }],
    ['endsAt', 'a recurring window with an end too', { recurrence: { rule: 'FREQ=DAILY', duration: '1h' }, endsAt: new Date(Date.now() + HOUR).toISOString() }],
    ['endsAt', 'neither an end nor a recurrence', {}],
  ])('a 400 names %s for %s', async (field, _what, over) => {
    const body = { name: 'x', startsAt: new Date(Date.now() - 10 * 86_400_000).toISOString(), ...over };
    const res = await call('POST', '/v1/freeze-windows', KEYS.operator, body);
    expect({ status: res.statusCode, field: res.json().field }).toEqual({ status: 400, field });
  });

  test('an operator creates, lists and deletes a freeze window', async () => {
    const created = await call('POST', '/v1/freeze-windows', KEYS.operator, window());
    expect(created.statusCode).toBe(201);
    const fw = created.json() as { id: string };
    expect(fw).toMatchObject({ id: expect.stringMatching(/^fw_/), name: '11.11 sale', reason: 'peak', active: true });

    const list = await call('GET', '/v1/freeze-windows', KEYS.operator);
    expect(list.json().freezeWindows).toEqual([expect.objectContaining({ id: fw.id, active: true })]);
    const current = await call('GET', '/v1/freeze-windows?current=true', KEYS.operator);
    expect(current.json().freezeWindows).toHaveLength(1);

    expect((await call('DELETE', `/v1/freeze-windows/${fw.id}`, KEYS.operator)).statusCode).toBe(204);
    expect((await call('GET', '/v1/freeze-windows', KEYS.operator)).json().freezeWindows).toEqual([]);
    expect((await call('DELETE', `/v1/freeze-windows/${fw.id}`, KEYS.operator)).statusCode).toBe(404);
  });

  test('refuses a window that ends before it starts, naming endsAt', async () => {
    const res = await call('POST', '/v1/freeze-windows', KEYS.operator, { ...window(), endsAt: new Date(Date.now() - 2 * HOUR).toISOString() });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field: 'endsAt', message: 'endsAt: must be after startsAt' });
  });

  test('refuses a window with a missing name or a malformed date, naming the field', async () => {
    const { name: _name, ...noName } = window();
    const missing = await call('POST', '/v1/freeze-windows', KEYS.operator, noName);
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ field: 'name' });
    const badDate = await call('POST', '/v1/freeze-windows', KEYS.operator, { ...window(), startsAt: 'tomorrow' });
    expect(badDate.statusCode).toBe(400);
    expect(badDate.json()).toMatchObject({ field: 'startsAt' });
  });

  test('refuses callers without a key (401) or without the operator role (403)', async () => {
    expect((await call('GET', '/v1/freeze-windows')).statusCode).toBe(401);
    expect((await call('GET', '/v1/freeze-windows', KEYS.checkout)).statusCode).toBe(403);
    expect((await call('POST', '/v1/freeze-windows', KEYS.ingest, window())).statusCode).toBe(403);
  });
});

describe('webhook subscriptions', () => {
  const subscription = { url: 'https://merchant.example/hooks/downtime', events: ['downtime.started', 'downtime.resolved'], description: 'merchant' };

  test('returns the signing secret once, on creation, and never when listed', async () => {
    const created = await call('POST', '/v1/webhooks', KEYS.admin, subscription);
    expect(created.statusCode).toBe(201);
    const body = created.json() as { id: string; secret: string };
    expect(body).toMatchObject({ id: expect.stringMatching(/^wh_/), url: subscription.url, events: subscription.events, secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) });

    const list = await call('GET', '/v1/webhooks', KEYS.admin);
    expect(list.json().webhooks).toEqual([expect.objectContaining({ id: body.id, url: subscription.url })]);
    expect(list.body).not.toContain(body.secret);
    const one = await call('GET', `/v1/webhooks/${body.id}`, KEYS.admin);
    expect(one.json()).not.toHaveProperty('secret');
    expect((await h.db.c.webhooks.findOne({ _id: body.id }))?.secret).toBe(body.secret);
  });

  test('deletes a subscription, and 404s for one that does not exist', async () => {
    const { id } = (await call('POST', '/v1/webhooks', KEYS.admin, subscription)).json() as { id: string };
    expect((await call('DELETE', `/v1/webhooks/${id}`, KEYS.admin)).statusCode).toBe(204);
    expect((await call('DELETE', `/v1/webhooks/${id}`, KEYS.admin)).statusCode).toBe(404);
    expect((await call('GET', `/v1/webhooks/${id}`, KEYS.admin)).statusCode).toBe(404);
    expect((await call('GET', `/v1/webhooks/${id}/deliveries`, KEYS.admin)).statusCode).toBe(404);
  });

  test.each([
    ['a URL that is not http or https', { ...subscription, url: 'ftp://merchant.example/x' }, 'url'],
    ['a relative URL', { ...subscription, url: '/hooks' }, 'url'],
    ['an unknown event', { ...subscription, events: ['downtime.exploded'] }, 'events.0'],
    ['no events', { ...subscription, events: [] }, 'events'],
    ['no URL', { events: subscription.events }, 'url'],
  ])('refuses %s, naming the field', async (_name, payload, field) => {
    const res = await call('POST', '/v1/webhooks', KEYS.admin, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field });
  });

  test('lists a subscription’s deliveries, newest first, without their bodies', async () => {
    const { id } = (await call('POST', '/v1/webhooks', KEYS.admin, subscription)).json() as { id: string };
    const base = { channel: 'webhook' as const, receiver: id, url: subscription.url, type: 'downtime.started', body: '{"secret":"payload"}', attempts: 1 };
    await h.db.c.deliveries.insertMany([
      { ...base, _id: `ev1:${id}`, eventId: 'ev1', status: 'delivered', nextAttemptAt: new Date(), deliveredAt: new Date(), lastStatus: 200, createdAt: new Date(Date.now() - 60_000) },
      { ...base, _id: `ev2:${id}`, eventId: 'ev2', status: 'pending', nextAttemptAt: new Date(), lastError: 'HTTP 500', lastStatus: 500, createdAt: new Date() },
      { ...base, _id: 'ev3:other', eventId: 'ev3', receiver: 'other', status: 'pending', nextAttemptAt: new Date(), createdAt: new Date() },
    ]);
    const res = await call('GET', `/v1/webhooks/${id}/deliveries`, KEYS.admin);
    expect(res.statusCode).toBe(200);
    expect(res.json().deliveries).toEqual([
      expect.objectContaining({ eventId: 'ev2', status: 'pending', lastError: 'HTTP 500', attempts: 1 }),
      expect.objectContaining({ eventId: 'ev1', status: 'delivered', lastStatus: 200 }),
    ]);
    expect(res.body).not.toContain('payload');
    const pending = await call('GET', `/v1/webhooks/${id}/deliveries?status=pending`, KEYS.admin);
    expect(pending.json().deliveries.map((d: { eventId: string }) => d.eventId)).toEqual(['ev2']);
  });

  test('rotating the secret answers a new one once, and keeps the old one signing for the grace period', async () => {
    const created = (await call('POST', '/v1/webhooks', KEYS.admin, subscription)).json() as { id: string; secret: string };
    const before = Date.now();
    const rotated = await call('POST', `/v1/webhooks/${created.id}/rotate-secret`, KEYS.admin);
    expect(rotated.statusCode).toBe(200);
    const body = rotated.json() as { secret: string; previousSecretValidUntil: string };
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret).not.toBe(created.secret);
    const graceEnds = Date.parse(body.previousSecretValidUntil);
    expect(graceEnds).toBeGreaterThanOrEqual(before + h.config.webhookSecretGraceMs);
    const stored = await h.db.c.webhooks.findOne({ _id: created.id });
    expect(stored).toMatchObject({ secret: body.secret, previousSecrets: [{ secret: created.secret, until: new Date(graceEnds) }] });
    expect((await call('GET', `/v1/webhooks/${created.id}`, KEYS.admin)).body).not.toContain('whsec_');
    expect((await call('POST', '/v1/webhooks/wh_missing/rotate-secret', KEYS.admin)).statusCode).toBe(404);
    expect((await call('POST', `/v1/webhooks/${created.id}/rotate-secret`, KEYS.operator)).statusCode).toBe(403);
  });

  test('is for admins only (403 for an operator key, 401 without one)', async () => {
    expect((await call('GET', '/v1/webhooks', KEYS.operator)).statusCode).toBe(403);
    expect((await call('POST', '/v1/webhooks', KEYS.operator, subscription)).statusCode).toBe(403);
    expect((await call('GET', '/v1/webhooks')).statusCode).toBe(401);
  });
});

describe('incidents and problems', () => {
  async function seedIncident(id: string, status: 'open' | 'resolved', openedAt: number) {
    await h.db.c.incidents.insertOne({
      _id: id,
      downtimeId: id,
      scopeKey: 'netbanking:sbi@*',
      title: 'netbanking:sbi unavailable',
      severity: 'SEV2',
      status,
      openedAt: new Date(openedAt),
      escalations: [],
      ...(status === 'resolved' ? { resolvedAt: new Date(openedAt + 60_000), endReason: 'recovered' as const } : {}),
    });
    await h.db.c.timeline.insertMany([
      { _id: `${id}:disabled`, incidentId: id, at: new Date(openedAt + 1_000), kind: 'disabled', text: 'Hidden at checkout for bucket A' },
      { _id: `${id}:opened`, incidentId: id, at: new Date(openedAt), kind: 'opened', text: 'Downtime opened by detection', by: 'detection' },
    ]);
  }

  test('an open incident moves through its stages; resolved, it is reviewed once, with the impact read from the counters', async () => {
    await seedIncident('dt_work', 'open', Date.now() - HOUR);
    const staged = await call('POST', '/v1/incidents/dt_work/stage', KEYS.operator, { stage: 'monitoring', by: 'amy', note: 'fix deployed, watching' });
    expect(staged.statusCode).toBe(200);
    expect(staged.json()).toMatchObject({ stage: 'monitoring', timeline: expect.arrayContaining([expect.objectContaining({ kind: 'monitoring', text: 'Monitoring: fix deployed, watching', by: 'amy' })]) });
    expect((await call('POST', '/v1/incidents/dt_work/review', KEYS.operator, { by: 'amy', cause: 'x', lessons: ['y'] })).statusCode).toBe(409);

    // It resolves (as the actor closes it) after 200 attempts on its scope, 150 failed by the bank.
    const openedAt = Date.now() - HOUR;
    await h.db.c.downtimes.insertOne({ _id: 'dt_work', scope: { method: 'netbanking:sbi' }, scopeKey: 'netbanking:sbi@*', origin: 'detected', reason: 'r', openedBy: 'detection', status: 'resolved', phase: 'resolved', openedAt: new Date(openedAt), disabledAt: new Date(openedAt), expiresAt: new Date(), probePercent: 10, severity: 'SEV2', baseline: 0.95, threshold: 0.8, workflowId: 'downtime:netbanking:sbi@*', updatedAt: new Date() });
    await h.db.c.incidents.updateOne({ _id: 'dt_work' }, { $set: { status: 'resolved', stage: 'resolved', resolvedAt: new Date(), reviewDueAt: new Date(Date.now() - 1000) } });
    await h.db.c.counters.insertMany([
      counterDoc(openedAt + 60_000, [{ method: 'netbanking:sbi', gateway: 'payu', systemFailure: 150 }, { method: 'upi:gpay', gateway: 'payu', systemFailure: 30 }]),
      counterDoc(openedAt + 120_000, [{ method: 'netbanking:sbi', gateway: 'razorpay', success: 50 }]),
      // Before it was disabled: not its cost.
      counterDoc(openedAt - 60_000, [{ method: 'netbanking:sbi', gateway: 'payu', systemFailure: 500 }]),
    ]);
    expect((await call('GET', '/v1/incidents?overdue=true', KEYS.operator)).json().incidents.map((i: { id: string }) => i.id)).toEqual(['dt_work']);
    expect((await call('POST', '/v1/incidents/dt_work/stage', KEYS.operator, { stage: 'monitoring', by: 'amy' })).statusCode).toBe(409);
    const reviewed = await call('POST', '/v1/incidents/dt_work/review', KEYS.operator, { by: 'amy', cause: 'SBI core banking failover', lessons: ['detected in 40 s'], actions: ['ask SBI for maintenance notices'] });
    expect(reviewed.statusCode).toBe(200);
    expect(reviewed.json()).toMatchObject({ stage: 'reviewed', reviewOverdue: false, review: { by: 'amy', cause: 'SBI core banking failover', lessons: ['detected in 40 s'], impact: { attempts: 200, failed: 150 } } });
    expect((await call('GET', '/v1/incidents?overdue=true', KEYS.operator)).json().incidents).toEqual([]);
    expect((await call('POST', '/v1/incidents/dt_work/review', KEYS.operator, { by: 'amy', cause: 'again', lessons: ['again'] })).statusCode).toBe(409);
    expect((await call('POST', '/v1/incidents/dt_work/review', KEYS.operator, { by: 'amy', cause: 'x', lessons: [] })).json()).toMatchObject({ field: 'lessons' });
  });

  test('a problem becomes a known error with its workaround, then resolved with its root cause, and is not changed by hand after', async () => {
    await h.db.c.problems.insertOne({ _id: 'pb_work', scopeKey: 'netbanking:sbi@*', scope: { method: 'netbanking:sbi' }, status: 'open', openedAt: new Date(), downtimeIds: ['a', 'b', 'c'] });
    const post = (body: object) => call('POST', '/v1/problems/pb_work', KEYS.operator, body);
    expect((await post({ by: 'amy', status: 'investigating', note: 'SBI says their failover flaps' })).json()).toMatchObject({ status: 'investigating', note: 'SBI says their failover flaps' });
    expect((await post({ by: 'amy', status: 'known_error' })).json()).toMatchObject({ field: 'workaround' });
    expect((await post({ by: 'amy', status: 'known_error', workaround: 'route SBI through razorpay' })).json()).toMatchObject({ status: 'known_error', workaround: 'route SBI through razorpay' });
    expect((await post({ by: 'amy', status: 'resolved' })).json()).toMatchObject({ field: 'rootCause' });
    expect((await post({ by: 'amy', status: 'resolved', rootCause: 'SBI fixed their failover' })).json()).toMatchObject({ status: 'resolved', rootCause: 'SBI fixed their failover', resolvedAt: expect.any(String) });
    expect((await post({ by: 'amy', note: 'one more thing' })).statusCode).toBe(409);
  });

  test('lists incidents newest first, filtered by status, and reads one with its timeline in order', async () => {
    await seedIncident('dt_old', 'resolved', Date.now() - 2 * HOUR);
    await seedIncident('dt_new', 'open', Date.now() - HOUR);
    const all = await call('GET', '/v1/incidents', KEYS.operator);
    expect(all.json().incidents.map((i: { id: string }) => i.id)).toEqual(['dt_new', 'dt_old']);
    const open = await call('GET', '/v1/incidents?status=open', KEYS.operator);
    expect(open.json().incidents.map((i: { id: string }) => i.id)).toEqual(['dt_new']);

    const one = await call('GET', '/v1/incidents/dt_old', KEYS.operator);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: 'dt_old', status: 'resolved', endReason: 'recovered', severity: 'SEV2' });
    expect(one.json().timeline.map((t: { kind: string }) => t.kind)).toEqual(['opened', 'disabled']);
  });

  test('404s for an unknown incident and 400s for a bad status filter', async () => {
    expect((await call('GET', '/v1/incidents/dt_missing', KEYS.operator)).statusCode).toBe(404);
    const bad = await call('GET', '/v1/incidents?status=maybe', KEYS.operator);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'status' });
    expect((await call('GET', '/v1/incidents', KEYS.checkout)).statusCode).toBe(403);
  });

  test('lists problems by status and reads one; 404 for an unknown one', async () => {
    await h.db.c.problems.insertMany([
      { _id: 'pb_dt_1', scopeKey: 'netbanking:sbi@*', scope: { method: 'netbanking:sbi' }, status: 'open', openedAt: new Date(), downtimeIds: ['a', 'b', 'c'] },
      { _id: 'pb_dt_0', scopeKey: 'upi@*', scope: { mode: 'upi' }, status: 'resolved', resolvedAt: new Date(), rootCause: 'x', openedAt: new Date(Date.now() - HOUR), downtimeIds: ['d', 'e', 'f'] },
    ]);
    const open = await call('GET', '/v1/problems?status=open', KEYS.operator);
    expect(open.json().problems).toEqual([expect.objectContaining({ id: 'pb_dt_1', downtimeCount: 3, scope: { method: 'netbanking:sbi' } })]);
    expect((await call('GET', '/v1/problems', KEYS.operator)).json().problems).toHaveLength(2);
    expect((await call('GET', '/v1/problems/pb_dt_0', KEYS.operator)).json()).toMatchObject({ id: 'pb_dt_0', status: 'resolved' });
    expect((await call('GET', '/v1/problems/pb_missing', KEYS.operator)).statusCode).toBe(404);
    expect((await call('GET', '/v1/problems')).statusCode).toBe(401);
  });
});
