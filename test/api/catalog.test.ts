/** The catalog: admins replace it whole (fully validated), any key reads it, the checkout sees it at once. */
import { Harness, KEYS, bearer, reset, startApi } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => h?.close());
beforeEach(async () => reset(h));

const put = (payload: unknown, key = KEYS.admin) => h.app.inject({ method: 'PUT', url: '/v1/catalog', headers: bearer(key), payload: payload as object });

test('is empty before the first PUT', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: bearer(KEYS.checkout) });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({ methods: [] });
});

test('an admin replaces the catalog, any key reads it back, and the checkout offers it immediately', async () => {
  const methods = [
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'], priority: 10 },
    { method: 'netbanking:sbi', gateways: ['payu'] },
  ];
  const res = await put({ methods });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({ methods });
  for (const key of [KEYS.ingest, KEYS.checkout, KEYS.operator]) {
    const read = await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: bearer(key) });
    expect(read.json()).toMatchObject({ methods, updatedAt: expect.any(String) });
  }
  const offered = await h.app.inject({ method: 'GET', url: '/v1/payment-options?userId=u1', headers: bearer(KEYS.checkout) });
  expect(offered.json().options.map((o: { method: string }) => o.method)).toEqual(['upi:gpay', 'netbanking:sbi']);

  expect((await put({ methods: [{ method: 'card:visa', gateways: ['payu'] }] })).statusCode).toBe(200);
  const replaced = await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: bearer(KEYS.ingest) });
  expect(replaced.json().methods).toEqual([{ method: 'card:visa', gateways: ['payu'] }]);
});

test('refuses a read without a key (401) and a write by an operator (403)', async () => {
  expect((await h.app.inject({ method: 'GET', url: '/v1/catalog' })).statusCode).toBe(401);
  expect((await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: bearer('not-a-known-key-at-all') })).statusCode).toBe(401);
  expect((await put({ methods: [] }, KEYS.operator)).statusCode).toBe(403);
});

test.each([
  ['a method without a mode', { methods: [{ method: 'gpay', gateways: ['payu'] }] }, 'methods.0.method'],
  ['an uppercase method', { methods: [{ method: 'UPI:gpay', gateways: ['payu'] }] }, 'methods.0.method'],
  ['no gateways', { methods: [{ method: 'upi:gpay', gateways: [] }] }, 'methods.0.gateways'],
  ['a repeated gateway', { methods: [{ method: 'upi:gpay', gateways: ['payu', 'payu'] }] }, 'methods.0.gateways'],
  ['more than 20 gateways', { methods: [{ method: 'upi:gpay', gateways: Array.from({ length: 21 }, (_, i) => `g${i}`) }] }, 'methods.0.gateways'],
  ['a bad gateway name', { methods: [{ method: 'upi:gpay', gateways: ['Pay U'] }] }, 'methods.0.gateways.0'],
  ['a priority that is not a number', { methods: [{ method: 'upi:gpay', gateways: ['payu'], priority: 'high' }] }, 'methods.0.priority'],
  // A JSON body carries its own types: text is not read as a number.
  ['a priority written as text', { methods: [{ method: 'upi:gpay', gateways: ['payu'], priority: '10' }] }, 'methods.0.priority'],
  ['an empty priority', { methods: [{ method: 'upi:gpay', gateways: ['payu'], priority: '' }] }, 'methods.0.priority'],
  ['gateways given as one string', { methods: [{ method: 'upi:gpay', gateways: 'payu' }] }, 'methods.0.gateways'],
  ['an unknown field', { methods: [{ method: 'upi:gpay', gateways: ['payu'], share: 1 }] }, 'methods.0.share'],
  ['a method listed twice', { methods: [{ method: 'upi:gpay', gateways: ['payu'] }, { method: 'upi:gpay', gateways: ['razorpay'] }] }, 'methods.1.method'],
  ['no methods', {}, 'methods'],
])('refuses a catalog with %s, naming the field', async (_name, payload, field) => {
  const res = await put(payload);
  expect(res.statusCode).toBe(400);
  expect(res.json()).toMatchObject({ error: 'bad_request', field });
  expect(res.json().message).toMatch(new RegExp(`^${field.replace(/\./g, '\\.')}: `));
  const read = await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: bearer(KEYS.admin) });
  expect(read.json().methods).toEqual([]);
});
