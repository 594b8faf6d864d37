/**
 * PagerDuty's inbound webhook as the world may send it: only a body signed with the configured
 * secret is read; anything unsigned is a 401 before its body is looked at; a signed body that is
 * not PagerDuty's shape is a 400 naming the field; events and incidents that are not ours are
 * answered 200 "ignored" so PagerDuty stops retrying.
 */
import { signPagerDuty } from '../../common/pagerduty-signature';
import { Harness, startApi } from './harness';

const SECRET = 'pd-secret-for-the-api-tests-0000';
let h: Harness;
let unconfigured: Harness;
beforeAll(async () => {
  h = await startApi({ PAGERDUTY_WEBHOOK_SECRET: SECRET });
  unconfigured = await startApi();
});
afterAll(async () => {
  await h?.close();
  await unconfigured?.close();
});

const send = (app: Harness['app'], body: string, signature?: string) =>
  app.inject({ method: 'POST', url: '/v1/integrations/pagerduty', headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'x-pagerduty-signature': signature } : {}) }, payload: body });

const ack = (incidentKey: string) => JSON.stringify({ event: { id: 'ev_1', event_type: 'incident.acknowledged', data: { incident_key: incidentKey } } });

test('an unsigned, wrongly signed or tampered request is a 401, whatever its body', async () => {
  for (const [body, signature] of [
    [ack('dt_x'), undefined],
    [ack('dt_x'), 'v1=00'],
    [ack('dt_x'), signPagerDuty('another-secret', ack('dt_x'))],
    [ack('dt_y'), signPagerDuty(SECRET, ack('dt_x'))],
    ['{not json', undefined],
    ['{"event": 1}', 'v1=zz'],
  ] as const) {
    const res = await send(h.app, body, signature);
    expect({ body, status: res.statusCode, error: res.json().error }).toEqual({ body, status: 401, error: 'unauthorized' });
  }
});

test('without PAGERDUTY_WEBHOOK_SECRET every request is a 401 that says the integration is off', async () => {
  const res = await send(unconfigured.app, ack('dt_x'), signPagerDuty(SECRET, ack('dt_x')));
  expect(res.statusCode).toBe(401);
  expect(res.json().message).toMatch(/PAGERDUTY_WEBHOOK_SECRET/);
});

test('a signed body that is not PagerDuty\'s shape is a 400 naming the field', async () => {
  const cases: [string, string][] = [
    ['{}', 'event'],
    ['{"event": {"event_type": "incident.acknowledged"}}', 'event.id'],
    ['{"event": {"id": "e", "event_type": 5}}', 'event.event_type'],
  ];
  for (const [body, field] of cases) {
    const res = await send(h.app, body, signPagerDuty(SECRET, body));
    expect({ body, status: res.statusCode, field: res.json().field }).toEqual({ body, status: 400, field });
  }
  const garbled = await send(h.app, '{"event": ', signPagerDuty(SECRET, '{"event": '));
  expect(garbled.statusCode).toBe(400);
});

test('a signature among several (a secret being rotated) is enough; other events and unknown incidents are ignored with a 200', async () => {
  const body = ack('dt_unknown');
  const both = `v1=${'0'.repeat(64)}, ${signPagerDuty(SECRET, body)}`;
  const res = await send(h.app, body, both);
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({ outcome: 'ignored', downtimeId: 'dt_unknown', reason: expect.stringContaining('not found') });
  const other = JSON.stringify({ event: { id: 'ev_2', event_type: 'incident.reassigned', data: { incident_key: 'dt_unknown' } } });
  expect((await send(h.app, other, signPagerDuty(SECRET, other))).json()).toMatchObject({ outcome: 'ignored', reason: 'event incident.reassigned is not acted on' });
});
