/**
 * Hostile input, case by case, against the real database and Temporal: operator injection,
 * prototype pollution, huge arrays, strings and nesting, wrong types, far-future and ancient
 * times, unknown payment methods and gateways, duplicate ids, and duplicated or oversized headers
 * over a real socket. Each refusal names the field (or the header, or the limit); nothing from a
 * refused input is stored; the process keeps serving.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { readCounters } from '../../db/counters';
import { KEYS, Stack, bearer, healthy, jsonOf, operations, shown, startStack, withOwnKey } from './support-fuzz';

jest.setTimeout(120_000);

let stack: Stack;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await startStack();
  app = stack.app;
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(async () => {
  await Promise.all([stack.db.c.transactions.deleteMany({}), stack.db.c.counters.deleteMany({}), stack.db.c.counterDeltas.deleteMany({}), stack.db.c.catalog.deleteMany({})]);
});
afterEach(async () => {
  expect(await healthy(app)).toBe(true);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

const I = bearer(KEYS.ingest);
const O = bearer(KEYS.operator);
const A = bearer(KEYS.admin);
const C = bearer(KEYS.checkout);
const json = { 'content-type': 'application/json' };
const tx = (id: string, extra: Record<string, unknown> = {}) => ({ id, userId: 'u1', method: 'upi:gpay', gateway: 'razorpay', status: 'success', ...extra });
const postTx = (transactions: unknown, headers: Record<string, string> = I) => app.inject({ method: 'POST', url: '/v1/transactions', headers, payload: { transactions } });
/** A raw JSON text body: the only way to send an own "__proto__" key exactly as an attacker would. */
const raw = (method: 'POST' | 'PUT', url: string, key: Record<string, string>, text: string) => app.inject({ method, url, headers: { ...key, ...json }, payload: text });

/** A 400 in the API's shape: the field, and a message that starts with it. */
function expect400(res: LightMyRequestResponse, field: string, detail?: RegExp): void {
  expect({ status: res.statusCode, field: jsonOf(res)?.field, body: res.body }).toEqual({ status: 400, field, body: expect.any(String) });
  expect(String(jsonOf(res)?.message)).toMatch(new RegExp(`^${field.replace(/[.$[\]*+?^(){}|\\]/g, '\\$&')}: `));
  if (detail) expect(String(jsonOf(res)?.message)).toMatch(detail);
}

/** Per-record rejections of a 202, by index. */
function rejections(res: LightMyRequestResponse): Record<number, string> {
  expect(res.statusCode).toBe(202);
  return Object.fromEntries((res.json() as { rejected: { index: number; error: string }[] }).rejected.map((r) => [r.index, r.error]));
}

/** Every stored document of every collection, to prove nothing carries a prototype-reaching key. */
async function keysEverywhere(): Promise<Set<string>> {
  const keys = new Set<string>();
  const walk = (v: unknown) => {
    if (v === null || typeof v !== 'object' || v instanceof Date) return;
    for (const [k, inner] of Object.entries(v)) {
      keys.add(k);
      walk(inner);
    }
  };
  for (const c of Object.values(stack.db.c)) for (const d of await c.find({}).toArray()) walk(d);
  return keys;
}

async function countedTotals(): Promise<{ success: number; systemFailure: number; userFailure: number }> {
  const total = { success: 0, systemFailure: 0, userFailure: 0 };
  for (const d of await readCounters(stack.db, -Infinity, Infinity)) {
    total.success += d.success ?? 0;
    total.systemFailure += d.systemFailure ?? 0;
    total.userFailure += d.userFailure ?? 0;
  }
  return total;
}

const OPERATORS: Record<string, unknown>[] = [{ $where: 'sleep(1000)' }, { $gt: '' }, { $ne: null }, { $regex: '.*' }];

// ---------------------------------------------------------------------------------------------

describe('operator injection', () => {
  test('operator objects as transaction fields are rejected naming the field and the operator, and match nothing', async () => {
    expect((await postTx([tx('real-1')])).json()).toMatchObject({ accepted: 1 });
    const records = ['id', 'userId', 'method', 'gateway', 'status', 'errorCode', 'at'].flatMap((field) => OPERATORS.map((op, i) => tx(`op-${field}-${i}`, { [field]: op })));
    const errors = rejections(await postTx(records));
    expect(Object.keys(errors)).toHaveLength(records.length);
    records.forEach((r, i) => {
      const [field, value] = Object.entries(r as Record<string, unknown>).find(([, v]) => typeof v === 'object')!;
      expect(errors[i]).toBe(`${field}.${Object.keys(value as object)[0]}: field names must not start with "$" or contain "."`);
    });
    expect(await stack.db.c.transactions.find({}).map((d) => d._id).toArray()).toEqual(['real-1']);
  });

  test('operator-shaped path parameters are refused 400 naming id, on every route with an id, and match no record', async () => {
    await stack.db.c.freezeWindows.insertOne({ _id: 'fw_real', name: 'x', startsAt: new Date(), endsAt: new Date(Date.now() + 60_000), createdAt: new Date() });
    const withId = (await operations(app)).filter((o) => o.path.includes('{id}'));
    expect(withId.length).toBeGreaterThanOrEqual(10);
    for (const op of withId) {
      for (const op0 of OPERATORS) {
        const url = op.path.replace('{id}', encodeURIComponent(JSON.stringify(op0)));
        const res = await app.inject({ method: op.method, url, headers: A, ...(op.body ? { payload: { by: 'ana', until: '2099-01-01T00:00:00Z', percent: 5 } } : {}) });
        expect400(res, 'id', /must match pattern/);
      }
    }
    expect(await stack.db.c.freezeWindows.countDocuments()).toBe(1);
  });

  test('operator-shaped query parameters are refused naming the parameter; where unknown parameters are ignored, only the real one counts', async () => {
    const cases: [string, string][] = [
      ['/v1/downtimes?status[$ne]=x', 'status[$ne]'],
      ['/v1/downtimes?limit[$gt]=0', 'limit[$gt]'],
      ['/v1/incidents?status[$ne]=open', 'status[$ne]'],
      ['/v1/problems?status[$in]=open', 'status[$in]'],
      ['/v1/freeze-windows?current[$ne]=true', 'current[$ne]'],
      ['/v1/webhooks/wh_x/deliveries?status[$ne]=x', 'status[$ne]'],
      ['/v1/downtimes?status=%7B%22%24ne%22%3A%22x%22%7D', 'status'],
      ['/v1/payment-options?userId[$gt]=', 'userId'],
    ];
    for (const [url, field] of cases) expect400(await app.inject({ method: 'GET', url, headers: url.includes('webhooks') ? A : url.includes('payment') ? C : O }), field);
    const both = await app.inject({ method: 'GET', url: '/v1/payment-options?userId[$gt]=&userId=u1', headers: C });
    const plain = await app.inject({ method: 'GET', url: '/v1/payment-options?userId=u1', headers: C });
    expect(both.statusCode).toBe(200);
    expect(both.json()).toEqual(plain.json());
  });

  test('operator objects in the bodies of the other routes are refused naming the field; operator-looking strings are stored as plain text', async () => {
    const cases: [string, 'POST' | 'PUT', string, Record<string, unknown>, string][] = [
      [O.authorization, 'POST', '/v1/downtimes', { scope: { gateway: { $ne: null } }, reason: 'r' }, 'scope.gateway'],
      [O.authorization, 'POST', '/v1/downtimes', { scope: { $where: 'x' }, reason: 'r' }, 'scope.$where'],
      [O.authorization, 'POST', '/v1/downtimes', { scope: { gateway: 'x' }, reason: { $where: 'sleep(1000)' } }, 'reason'],
      [O.authorization, 'POST', '/v1/downtimes/dt_x/acknowledge', { by: { $gt: '' } }, 'by'],
      [O.authorization, 'POST', '/v1/downtimes/dt_x/extend', { by: 'ana', until: { $gt: '' } }, 'until'],
      [A.authorization, 'PUT', '/v1/catalog', { methods: [{ method: { $gt: '' }, gateways: ['payu'] }] }, 'methods.0.method'],
      [A.authorization, 'PUT', '/v1/catalog', { methods: [{ method: 'upi:gpay', gateways: [{ $ne: null }] }] }, 'methods.0.gateways.0'],
      [O.authorization, 'POST', '/v1/freeze-windows', { name: { $gt: '' }, startsAt: '2099-01-01T00:00:00Z', endsAt: '2099-01-02T00:00:00Z' }, 'name'],
      [A.authorization, 'POST', '/v1/webhooks', { url: { $gt: '' }, events: ['downtime.started'] }, 'url'],
      [A.authorization, 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/', events: [{ $in: ['downtime.started'] }] }, 'events.0'],
    ];
    for (const [authorization, method, url, payload, field] of cases) expect400(await app.inject({ method, url, headers: { authorization }, payload }), field);
    expect(await stack.db.c.downtimes.countDocuments()).toBe(0);
    expect(await stack.db.c.catalog.countDocuments()).toBe(0);

    const fw = await app.inject({ method: 'POST', url: '/v1/freeze-windows', headers: O, payload: { name: '{"$gt":""}', reason: '$where', startsAt: '2099-01-01T00:00:00Z', endsAt: '2099-01-02T00:00:00Z' } });
    expect(fw.statusCode).toBe(201);
    expect(await stack.db.c.freezeWindows.findOne({ _id: fw.json().id })).toMatchObject({ name: '{"$gt":""}', reason: '$where' });
    expect((await postTx([tx('plain-1', { userId: '{"$where":"sleep(1000)"}' })])).json()).toMatchObject({ accepted: 1 });
    expect(await stack.db.c.transactions.findOne({ _id: 'plain-1' })).toMatchObject({ userId: '{"$where":"sleep(1000)"}' });
    await stack.db.c.freezeWindows.deleteMany({});
  });
});

// ---------------------------------------------------------------------------------------------

describe('prototype pollution', () => {
  const proto = (inner: string) => inner.replace('PROTO', '"__proto__": {"polluted": true}');
  const ctor = (inner: string) => inner.replace('PROTO', '"constructor": {"prototype": {"polluted": true}}');
  const cases: [string, 'POST' | 'PUT', string, string, string][] = [
    ['top level', 'POST', '/v1/transactions', '{"transactions": [], PROTO}', '__proto__'],
    ['a record', 'POST', '/v1/transactions', '{"transactions": [{"id": "p1", "userId": "u", "method": "upi:gpay", "gateway": "payu", "status": "success", PROTO}]}', 'transactions.0.__proto__'],
    ['a value inside a record', 'POST', '/v1/transactions', '{"transactions": [{"id": "p1", "userId": {PROTO}, "method": "upi:gpay", "gateway": "payu", "status": "success"}]}', 'transactions.0.userId.__proto__'],
    ['a scope', 'POST', '/v1/downtimes', '{"scope": {"gateway": "payu", PROTO}, "reason": "r"}', 'scope.__proto__'],
    ['a catalog entry', 'PUT', '/v1/catalog', '{"methods": [{"method": "upi:gpay", "gateways": ["payu"], PROTO}]}', 'methods.0.__proto__'],
    ['an update', 'POST', '/v1/downtimes/dt_x/acknowledge', '{"by": "ana", PROTO}', '__proto__'],
    ['a webhook', 'POST', '/v1/webhooks', '{"url": "http://127.0.0.1:9/", "events": ["downtime.started"], PROTO}', '__proto__'],
  ];

  test.each(cases)('a "__proto__" key in %s is refused naming its path, pollutes nothing and stores nothing', async (_where, method, url, body, field) => {
    expect400(await raw(method, url, url.includes('catalog') || url.includes('webhooks') ? A : url.includes('transactions') ? I : O, proto(body)), field, /not an accepted key/);
    // Escaped, the key is the same key once parsed.
    expect400(await raw(method, url, url.includes('catalog') || url.includes('webhooks') ? A : url.includes('transactions') ? I : O, proto(body).replace('"__proto__"', '"\\u005f_proto__"')), field);
    const ctorField = field.replace('__proto__', 'constructor.prototype');
    expect400(await raw(method, url, url.includes('catalog') || url.includes('webhooks') ? A : url.includes('transactions') ? I : O, ctor(body)), ctorField);
    const keys = await keysEverywhere();
    for (const k of ['__proto__', 'constructor', 'prototype', 'polluted']) expect(keys.has(k)).toBe(false);
  });

  test('plain "constructor" and "prototype" keys are unknown fields: refused naming them, never stored', async () => {
    const res = await postTx([withOwnKey(tx('c1'), 'constructor', 'x'), withOwnKey(tx('c2'), 'prototype', { polluted: true }), tx('c3', { toString: 'x' })]);
    expect(rejections(res)).toEqual({ 0: 'constructor: unknown field', 1: 'prototype: unknown field', 2: 'toString: unknown field' });
    expect400(await app.inject({ method: 'POST', url: '/v1/downtimes', headers: O, payload: { scope: { gateway: 'payu', prototype: 'x' }, reason: 'r' } }), 'scope.prototype', /is not a known field/);
    expect400(await app.inject({ method: 'POST', url: '/v1/downtimes', headers: O, payload: { scope: { gateway: 'payu' }, reason: 'r', constructor: 'x' } }), 'constructor');
    expect400(await app.inject({ method: 'PUT', url: '/v1/catalog', headers: A, payload: { methods: [{ method: 'upi:gpay', gateways: ['payu'], hasOwnProperty: 1 }] } }), 'methods.0.hasOwnProperty');
    const keys = await keysEverywhere();
    for (const k of ['constructor', 'prototype', 'toString', 'hasOwnProperty']) expect(keys.has(k)).toBe(false);
  });

  test('"__proto__" and "constructor" in query strings are refused where parameters are known, ignored where not, and pollute nothing', async () => {
    for (const q of ['__proto__=x', '__proto__[polluted]=1', 'constructor[prototype][polluted]=1']) {
      const key = q.split('=')[0]!;
      expect400(await app.inject({ method: 'GET', url: `/v1/downtimes?${q}`, headers: O }), key, /is not a known field/);
      const open = await app.inject({ method: 'GET', url: `/v1/payment-options?${q}&userId=u1`, headers: C });
      expect(open.statusCode).toBe(200);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('sizes', () => {
  test('a batch of 1,001 records is refused naming transactions and the limit of 1000; nothing is stored', async () => {
    expect400(await postTx(Array.from({ length: 1001 }, (_, i) => tx(`big-${i}`))), 'transactions', /1000 items/);
    expect(await stack.db.c.transactions.countDocuments()).toBe(0);
  });

  test('100,000 records: small ones are refused naming transactions, real ones exceed the body limit (413 naming it)', async () => {
    const small = await raw('POST', '/v1/transactions', I, JSON.stringify({ transactions: Array.from({ length: 100_000 }, () => ({})) }));
    expect400(small, 'transactions', /1000 items/);
    const large = await raw('POST', '/v1/transactions', I, JSON.stringify({ transactions: Array.from({ length: 100_000 }, (_, i) => tx(`huge-${i}`)) }));
    expect(large.statusCode).toBe(413);
    expect(large.json()).toMatchObject({ error: 'payload_too_large', field: 'body', message: 'body: too large: the limit is 1048576 bytes (1 MiB)' });
    const catalog = await raw('PUT', '/v1/catalog', A, JSON.stringify({ methods: Array.from({ length: 100_000 }, () => 0) }));
    expect400(catalog, 'methods', /1000 items/);
    expect(await stack.db.c.transactions.countDocuments()).toBe(0);
    expect(await stack.db.c.catalog.countDocuments()).toBe(0);
  });

  test('strings of 1 MiB exceed the body limit (413); strings just under it are refused naming the field', async () => {
    const mib = 'x'.repeat(1024 * 1024);
    for (const [method, url, key, payload] of [
      ['POST', '/v1/transactions', I, { transactions: [tx('s1', { userId: mib })] }],
      ['POST', '/v1/downtimes', O, { scope: { gateway: 'payu' }, reason: mib }],
      ['PUT', '/v1/catalog', A, { methods: [{ method: mib, gateways: ['payu'] }] }],
    ] as const) {
      const res = await app.inject({ method, url, headers: key, payload });
      expect({ url, status: res.statusCode, field: jsonOf(res)?.field }).toEqual({ url, status: 413, field: 'body' });
    }
    const under = 'x'.repeat(900 * 1024);
    expect(rejections(await postTx([tx('s2', { userId: under })]))).toEqual({ 0: 'userId: expected a string of 1 to 128 characters' });
    expect400(await app.inject({ method: 'POST', url: '/v1/downtimes', headers: O, payload: { scope: { gateway: 'payu' }, reason: under } }), 'reason', /2000 characters/);
    expect400(await app.inject({ method: 'POST', url: '/v1/freeze-windows', headers: O, payload: { name: under, startsAt: '2099-01-01T00:00:00Z', endsAt: '2099-01-02T00:00:00Z' } }), 'name', /200 characters/);
    expect400(await app.inject({ method: 'GET', url: `/v1/payment-options?userId=${under}`, headers: C }), 'userId', /128 characters/);
    const longId = await app.inject({ method: 'GET', url: `/v1/downtimes/${under}`, headers: O });
    expect(longId.statusCode).toBe(414);
    expect(longId.json()).toMatchObject({ field: 'params' });
    expect(await stack.db.c.transactions.countDocuments()).toBe(0);
  });

  test('nesting 100,000 levels deep is refused naming the field, without exhausting the stack', async () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const res = await raw('POST', '/v1/transactions', I, `{"transactions": [${deep(100_000)}, {"id": "d1", "userId": ${deep(100_000)}, "method": "upi:gpay", "gateway": "payu", "status": "success"}]}`);
    expect(rejections(res)).toEqual({ 0: 'transaction: expected an object', 1: 'userId: expected a string of 1 to 128 characters' });
    expect400(await raw('POST', '/v1/webhooks', A, `{"url": "http://127.0.0.1:9/", "events": [${deep(100_000)}, ${deep(100_000)}]}`), 'events.0');
    expect400(await raw('PUT', '/v1/catalog', A, `{"methods": [{"method": "upi:gpay", "gateways": [${deep(100_000)}]}]}`), 'methods.0.gateways.0');
  });
});

// ---------------------------------------------------------------------------------------------

describe('wrong types', () => {
  const WRONG: unknown[] = [42, -1.5, true, false, null, {}, [], ['a', 'b'], { $gt: '' }];

  test.each(['id', 'userId', 'method', 'gateway', 'status'])('a transaction whose %s is not a string is rejected naming it (the ingest never coerces)', async (field) => {
    const records = WRONG.map((v, i) => tx(`w-${field}-${i}`, { [field]: v }));
    const errors = rejections(await postTx(records));
    records.forEach((_, i) => expect({ i, error: errors[i] }).toEqual({ i, error: expect.stringMatching(new RegExp(`^${field}[.:]`)) }));
    expect(await stack.db.c.transactions.countDocuments()).toBe(0);
  });

  test('a wrong errorCode or at is rejected naming it; a null errorCode is the same as none', async () => {
    const errors = rejections(await postTx([tx('e1', { errorCode: 42 }), tx('e2', { errorCode: ['A'] }), tx('e3', { at: 1_700_000_000_000 }), tx('e4', { at: true }), tx('e5', { at: null }), tx('e6', { status: 'failure', errorCode: null })]));
    expect(errors).toEqual({
      0: expect.stringMatching(/^errorCode: /),
      1: expect.stringMatching(/^errorCode: /),
      2: expect.stringMatching(/^at: expected an ISO-8601/),
      3: expect.stringMatching(/^at: expected an ISO-8601/),
      4: expect.stringMatching(/^at: expected an ISO-8601/),
    });
    expect(await stack.db.c.transactions.findOne({ _id: 'e6' })).toMatchObject({ outcome: 'system_failure' });
    expect(await stack.db.c.transactions.findOne({ _id: 'e6' })).not.toHaveProperty('errorCode');
  });

  /** A valid body per route; each field in turn is replaced by values no coercion makes right. */
  const BODIES: [string, 'POST' | 'PUT', string, Record<string, unknown>, string[]][] = [
    ['operator', 'POST', '/v1/downtimes', { scope: { gateway: 'payu', mode: 'upi' }, reason: 'r', until: '2099-01-01T00:00:00Z', by: 'ana', planned: true }, ['scope', 'scope.gateway', 'scope.mode', 'reason', 'until', 'by', 'planned']],
    ['operator', 'POST', '/v1/downtimes/dt_none/acknowledge', { by: 'ana', reason: 'r', note: 'n' }, ['by', 'reason', 'note']],
    ['operator', 'POST', '/v1/downtimes/dt_none/resolve', { by: 'ana', reason: 'r' }, ['by', 'reason']],
    ['operator', 'POST', '/v1/downtimes/dt_none/extend', { by: 'ana', reason: 'r', until: '2099-01-01T00:00:00Z' }, ['by', 'reason', 'until']],
    ['operator', 'POST', '/v1/downtimes/dt_none/escalate', { by: 'ana', reason: 'r', severity: 'SEV1' }, ['by', 'reason', 'severity']],
    ['operator', 'POST', '/v1/downtimes/dt_none/probe-percent', { by: 'ana', reason: 'r', percent: 20 }, ['by', 'reason', 'percent']],
    ['admin', 'PUT', '/v1/catalog', { methods: [{ method: 'upi:gpay', gateways: ['payu'], priority: 1 }] }, ['methods', 'methods.0', 'methods.0.method', 'methods.0.gateways', 'methods.0.priority']],
    ['operator', 'POST', '/v1/freeze-windows', { name: 'n', startsAt: '2099-01-01T00:00:00Z', endsAt: '2099-01-02T00:00:00Z', reason: 'r' }, ['name', 'startsAt', 'endsAt', 'reason']],
    ['admin', 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/', events: ['downtime.started'], description: 'd' }, ['url', 'events', 'description']],
    ['ingest', 'POST', '/v1/transactions', { transactions: [] }, ['transactions']],
  ];

  const replace = (body: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> => {
    const [head, ...rest] = path as [string, ...string[]];
    const copy: Record<string, unknown> = Array.isArray(body) ? ([...body] as unknown as Record<string, unknown>) : { ...body };
    copy[head] = rest.length === 0 ? value : replace(copy[head] as Record<string, unknown>, rest, value);
    return copy;
  };

  test.each(BODIES)('%s %s %s: each field of a wrong type is refused 400 naming it, nothing stored', async (role, method, url, body, fields) => {
    const key = KEYS[role as keyof typeof KEYS];
    const before = await keysEverywhere();
    for (const field of fields) {
      const path = field.split('.');
      // Objects and arrays of several items are never coerced; arrays and objects get a scalar or an object instead.
      const isArray = Array.isArray(path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], body));
      const isObject = !isArray && typeof path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], body) === 'object';
      const wrong = isArray ? [{ $gt: '' }, { a: 1 }] : isObject ? ['a', 'b'] : [{ $gt: '' }, ['a', 'b'], {}];
      for (const value of wrong) {
        const res = await app.inject({ method, url, headers: bearer(key), payload: replace(body, path, value) });
        expect400(res, field);
      }
    }
    expect(await keysEverywhere()).toEqual(before);
  });
});

describe('numbers out of range', () => {
  // Found by the properties: "limit=1e309" was coerced to Infinity, skipped the schema's bounds
  // (Ajv's strictNumbers) and reached MongoDB as a 500.
  test('Infinity, by a huge exponent in a query, a JSON number or a numeric string, is refused naming the field', async () => {
    for (const q of ['limit=1e309', 'limit=-1e309', 'limit=Infinity', 'limit=1e3', 'limit=1.5', 'limit=NaN']) {
      for (const url of ['/v1/downtimes', '/v1/incidents', '/v1/problems', '/v1/freeze-windows']) expect400(await app.inject({ method: 'GET', url: `${url}?${q}`, headers: O }), 'limit');
    }
    expect400(await raw('PUT', '/v1/catalog', A, '{"methods": [{"method": "upi:gpay", "gateways": ["payu"], "priority": 1e309}]}'), 'methods.0.priority');
    expect400(await raw('PUT', '/v1/catalog', A, '{"methods": [{"method": "upi:gpay", "gateways": ["payu"], "priority": "-1e309"}]}'), 'methods.0.priority');
    expect400(await raw('POST', '/v1/downtimes/dt_none/probe-percent', O, '{"by": "ana", "percent": 1e309}'), 'percent');
    expect400(await raw('POST', '/v1/downtimes/dt_none/probe-percent', O, '{"by": "ana", "percent": "Infinity"}'), 'percent');
    expect(await stack.db.c.catalog.countDocuments()).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('far-future, ancient and impossible times', () => {
  test('a transaction in year 9999, 1970, at "NaN" or at a non-ISO time is rejected naming at', async () => {
    const errors = rejections(
      await postTx([
        tx('t9999', { at: '9999-12-31T23:59:59Z' }),
        tx('t1970', { at: '1970-01-01T00:00:00Z' }),
        tx('tnan', { at: 'NaN' }),
        tx('t2402', { at: '2024-02-30T10:00:00Z' }),
        tx('tmonth', { at: '2024-13-01T10:00:00Z' }),
        tx('thour', { at: '2024-11-11T25:00:00Z' }),
        tx('tdate', { at: '2024-11-11' }),
        tx('tnow', { at: new Date(Date.now() - 60_000).toISOString() }),
      ]),
    );
    expect(errors).toEqual({
      0: 'at: more than 5 minutes in the future',
      1: expect.stringMatching(/^at: older than the retention/),
      2: expect.stringMatching(/^at: expected an ISO-8601/),
      3: expect.stringMatching(/^at: /),
      4: expect.stringMatching(/^at: expected an ISO-8601/),
      5: expect.stringMatching(/^at: expected an ISO-8601/),
      6: expect.stringMatching(/^at: expected an ISO-8601/),
    });
    expect(await stack.db.c.transactions.find({}).map((d) => d._id).toArray()).toEqual(['tnow']);
  });

  test('a downtime until 9999 is a valid request; until 1970, Feb 30, "NaN", a leap second or an hour-only offset are refused naming until', async () => {
    const gateway = `hostile-${Date.now().toString(36)}`;
    const far = await app.inject({ method: 'POST', url: '/v1/downtimes', headers: O, payload: { scope: { gateway }, reason: 'planned forever', until: '9999-12-31T23:59:59Z' } });
    expect(far.statusCode).toBe(202);
    stack.started(far.json().scopeKey);
    for (const [until, detail] of [
      ['1970-01-01T00:00:00Z', /must be in the future/],
      ['2024-02-30T10:00:00Z', /format "date-time"/],
      ['NaN', /format "date-time"/],
      // Valid RFC 3339 that Date.parse cannot read: formerly started a downtime with an unreadable end.
      ['2099-12-31T23:59:60Z', /expected an ISO-8601 date-time/],
      ['2099-06-30T10:00:00+05', /expected an ISO-8601 date-time/],
    ] as const) {
      expect400(await app.inject({ method: 'POST', url: '/v1/downtimes', headers: O, payload: { scope: { gateway: `${gateway}-b` }, reason: 'r', until } }), 'until', detail);
      // An unreadable time is refused before the downtime is looked up; a past one by the workflow, once found open.
      const extend = await app.inject({ method: 'POST', url: '/v1/downtimes/dt_none/extend', headers: O, payload: { by: 'ana', until } });
      if (until.startsWith('1970')) expect(extend.statusCode).toBe(404);
      else expect400(extend, 'until');
    }
  });

  test('a freeze window may end in 9999; one that ended in 1970 or starts on Feb 30 is refused naming the field', async () => {
    const far = await app.inject({ method: 'POST', url: '/v1/freeze-windows', headers: O, payload: { name: 'forever', startsAt: '2024-01-01T00:00:00Z', endsAt: '9999-12-31T23:59:59Z' } });
    expect(far.statusCode).toBe(201);
    expect400(await app.inject({ method: 'POST', url: '/v1/freeze-windows', headers: O, payload: { name: 'old', startsAt: '1970-01-01T00:00:00Z', endsAt: '1970-01-02T00:00:00Z' } }), 'endsAt', /must be in the future/);
    expect400(await app.inject({ method: 'POST', url: '/v1/freeze-windows', headers: O, payload: { name: 'feb', startsAt: '2024-02-30T00:00:00Z', endsAt: '2099-01-01T00:00:00Z' } }), 'startsAt');
    expect400(await app.inject({ method: 'POST', url: '/v1/freeze-windows', headers: O, payload: { name: 'leap', startsAt: '2098-12-31T23:59:60Z', endsAt: '2099-01-01T00:00:00Z' } }), 'startsAt');
    await stack.db.c.freezeWindows.deleteMany({});
  });

  // REAL BUG (api/ingest.ts, owned by the lead): Date.parse rolls an impossible day over to the
  // next month, so with the clock on 2024-03-02 "2024-02-30T10:00:00Z" is stored as 2024-03-01.
  // Fails until validateTransaction checks the day against the month (diff in the report).
  test('an impossible calendar date within the retention (Feb 30) is rejected naming at, not stored as another day', async () => {
    const clock = Date.parse('2024-03-02T12:00:00Z');
    const fixed = await startStack({ now: () => clock });
    try {
      const res = await fixed.app.inject({
        method: 'POST',
        url: '/v1/transactions',
        headers: I,
        payload: { transactions: [tx('feb30', { at: '2024-02-30T10:00:00Z' }), tx('feb29', { at: '2024-02-29T10:00:00Z' })] },
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [{ index: 0, error: expect.stringMatching(/^at: /) }] });
      expect(await fixed.db.c.transactions.find({}).map((d) => d._id).toArray()).toEqual(['feb29']);
    } finally {
      await fixed.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('unknown payment methods and gateways', () => {
  // A well-formed method or gateway the catalog does not list is still a real payment attempt:
  // the checkout posts every attempt, the catalog may lag behind it, and detection works per
  // route; dropping such attempts would hide a failing route. So they are stored and counted,
  // and the catalog (not the ingest) decides what checkout shows.
  test('well-formed but uncatalogued methods and gateways are stored and counted under their own route; checkout still shows the catalog only', async () => {
    const put = await app.inject({ method: 'PUT', url: '/v1/catalog', headers: A, payload: { methods: [{ method: 'upi:gpay', gateways: ['razorpay'] }] } });
    expect(put.statusCode).toBe(200);
    const res = await postTx([
      tx('n1', { method: 'upi:brand_new_bank', gateway: 'new-gateway_1' }),
      tx('n2', { method: 'emi:zest', gateway: 'razorpay', status: 'failure', errorCode: 'GATEWAY_TIMEOUT' }),
      tx('n3', { method: 'upi:gpay', gateway: 'not_in_catalog' }),
    ]);
    expect(res.json()).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
    expect(await stack.db.c.transactions.findOne({ _id: 'n2' })).toMatchObject({ mode: 'emi', method: 'emi:zest', outcome: 'system_failure' });
    const routes = (await readCounters(stack.db, -Infinity, Infinity)).map((c) => `${c.method}@${c.gateway}`).sort();
    expect([...new Set(routes)]).toEqual(['emi:zest@razorpay', 'upi:brand_new_bank@new-gateway_1', 'upi:gpay@not_in_catalog']);
    const options = (await app.inject({ method: 'GET', url: '/v1/payment-options?userId=u1', headers: C })).json() as { options: { method: string; gateway: string }[] };
    expect(options.options.map((o) => `${o.method}@${o.gateway}`)).toEqual(['upi:gpay@razorpay']);
  });

  test('malformed methods and gateways are rejected naming the field', async () => {
    const errors = rejections(
      await postTx([
        tx('m1', { method: 'UPI:GPay' }),
        tx('m2', { method: 'gpay' }),
        tx('m3', { method: 'upi:' }),
        tx('m4', { method: 'upi:gpay:x' }),
        tx('m5', { method: 'upi:g pay' }),
        tx('g1', { gateway: 'Pay U' }),
        tx('g2', { gateway: 'payu/../x' }),
        tx('g3', { gateway: '' }),
      ]),
    );
    expect(Object.values(errors).map((e) => e.split(':')[0])).toEqual(['method', 'method', 'method', 'method', 'method', 'gateway', 'gateway', 'gateway']);
    expect(await stack.db.c.transactions.countDocuments()).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('duplicate ids', () => {
  test('within a batch the second record with an id is rejected naming id and the first; the first is stored and counted once', async () => {
    const res = await postTx([tx('d1'), tx('d2'), tx('d1', { status: 'failure', userId: 'other' }), tx('d1')]);
    expect(res.json()).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [
        { index: 2, error: 'id: duplicate of transactions[0] in this batch' },
        { index: 3, error: 'id: duplicate of transactions[0] in this batch' },
      ],
    });
    expect(await stack.db.c.transactions.findOne({ _id: 'd1' })).toMatchObject({ userId: 'u1', status: 'success' });
    expect(await countedTotals()).toEqual({ success: 2, systemFailure: 0, userFailure: 0 });
  });

  test('across batches, sequential or concurrent, a known id is a duplicate: stored once, the first version kept, counted once', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => tx(`x${i}`, i % 5 === 0 ? { status: 'failure', errorCode: i % 10 === 0 ? 'INSUFFICIENT_FUNDS' : 'ISSUER_DOWN' } : {}));
    expect((await postTx(batch)).json()).toEqual({ accepted: 50, duplicates: 0, rejected: [] });
    const replay = await postTx([...batch.slice(0, 20).map((t) => ({ ...t, status: 'failure', userId: 'changed' })), tx('x-new')]);
    expect(replay.json()).toEqual({ accepted: 1, duplicates: 20, rejected: [] });
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => postTx([...batch, tx('x-new2')])));
    const sum = concurrent.map((r) => r.json() as { accepted: number; duplicates: number }).reduce((a, b) => ({ accepted: a.accepted + b.accepted, duplicates: a.duplicates + b.duplicates }));
    expect(sum).toEqual({ accepted: 1, duplicates: 5 * 51 - 1 });
    expect(await stack.db.c.transactions.countDocuments()).toBe(52);
    expect(await stack.db.c.transactions.findOne({ _id: 'x1' })).toMatchObject({ userId: 'u1', status: 'success' });
    expect(await countedTotals()).toEqual({ success: 40 + 2, systemFailure: 5, userFailure: 5 });
  });
});

// ---------------------------------------------------------------------------------------------

describe('headers and methods over a real socket', () => {
  let port: number;
  beforeAll(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });

  /** Sends raw bytes and returns the status line and body of the answer. */
  function exchange(text: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(text));
      let data = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (data += d));
      socket.on('error', reject);
      socket.on('close', () => {
        const [head = '', ...rest] = data.split('\r\n\r\n');
        resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), body: rest.join('\r\n\r\n') });
      });
    });
  }
  const request = (lines: string[], body = '') => exchange(`${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);

  test('two Authorization headers are refused 400 naming authorization, whichever comes first', async () => {
    for (const order of [[KEYS.checkout, 'not-a-key'], ['not-a-key', KEYS.checkout], [KEYS.checkout, KEYS.checkout]]) {
      const res = await request(['GET /v1/payment-options?userId=u1 HTTP/1.1', 'Host: x', ...order.map((k) => `Authorization: Bearer ${k}`)]);
      expect({ order, status: res.status, body: JSON.parse(res.body) }).toEqual({ order, status: 400, body: expect.objectContaining({ field: 'authorization', message: 'authorization: sent more than once' }) });
    }
  });

  test('two Content-Type headers are refused 400 naming content-type; a non-JSON one is 415 naming it', async () => {
    const body = JSON.stringify({ transactions: [tx('h1')] });
    const two = await request(['POST /v1/transactions HTTP/1.1', 'Host: x', `Authorization: Bearer ${KEYS.ingest}`, 'Content-Type: text/plain', 'Content-Type: application/json'], body);
    expect({ status: two.status, body: JSON.parse(two.body) }).toEqual({ status: 400, body: expect.objectContaining({ field: 'content-type' }) });
    const text = await request(['POST /v1/transactions HTTP/1.1', 'Host: x', `Authorization: Bearer ${KEYS.ingest}`, 'Content-Type: text/plain'], body);
    expect({ status: text.status, body: JSON.parse(text.body) }).toEqual({ status: 415, body: expect.objectContaining({ field: 'content-type', message: 'content-type: expected application/json, got "text/plain"' }) });
    expect(await stack.db.c.transactions.countDocuments()).toBe(0);
  });

  test('oversized headers and request lines, smuggling-shaped framing and unknown methods are refused with a 4xx', async () => {
    const big = await request(['GET /v1/payment-options?userId=u1 HTTP/1.1', 'Host: x', `Authorization: Bearer ${'k'.repeat(20_000)}`]);
    expect(big.status).toBe(431);
    const longQuery = await request([`GET /v1/payment-options?userId=${'u'.repeat(1024 * 1024)} HTTP/1.1`, 'Host: x', `Authorization: Bearer ${KEYS.checkout}`]);
    expect(longQuery.status).toBeGreaterThanOrEqual(400);
    expect(longQuery.status).toBeLessThan(500);
    const smuggle = await exchange(`POST /v1/transactions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.ingest}\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`);
    expect(smuggle.status).toBe(400);
    const twoLengths = await exchange(`POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}`);
    expect(twoLengths.status).toBe(400);
    expect((await request(['FOO /v1/transactions HTTP/1.1', 'Host: x'])).status).toBe(400);
    const propfind = await request(['PROPFIND /v1/transactions HTTP/1.1', 'Host: x', `Authorization: Bearer ${KEYS.ingest}`]);
    expect({ status: propfind.status, body: JSON.parse(propfind.body) }).toEqual({ status: 405, body: expect.objectContaining({ error: 'method_not_allowed' }) });
    expect(await stack.db.c.transactions.countDocuments()).toBe(0);
  });

  test('a malformed percent-escape in the path is refused 400 naming url', async () => {
    const res = await request(['GET /v1/downtimes/%E0%A4%A HTTP/1.1', 'Host: x', `Authorization: Bearer ${KEYS.operator}`]);
    expect({ status: res.status, body: JSON.parse(res.body) }).toEqual({ status: 400, body: { error: 'bad_request', field: 'url', message: 'url: not a valid percent-encoded path' } });
  });
});

test('the failing inputs above left the app serving', async () => {
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  expect(shown(res)).toBe('200 {"status":"ok"}');
});
