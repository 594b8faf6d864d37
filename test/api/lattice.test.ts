/**
 * The catalog describes the world (method attributes, gateway aggregators) and downtimes take
 * scopes over it: what a checkout sees when a card network, a bank, a UPI app or an aggregator is
 * down, and the 400s that name the field. Today's catalogs and scopes keep working unchanged.
 */
import { downtimeWorkflowId } from '../../common/definitions';
import { bucketOf } from '../../domain';
import { testClient } from '../support/stack';
import { Harness, KEYS, bearer, insertDowntime, putCatalog, reset, startApi } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => h?.close());
beforeEach(async () => reset(h));

const put = (payload: unknown) => h.app.inject({ method: 'PUT', url: '/v1/catalog', headers: bearer(KEYS.admin), payload: payload as object });
const open = (scope: unknown) =>
  h.app.inject({ method: 'POST', url: '/v1/downtimes', headers: bearer(KEYS.operator), payload: { scope, reason: 'lattice test' } as object });
const options = async (user: string) =>
  (await h.app.inject({ method: 'GET', url: `/v1/payment-options?userId=${user}`, headers: bearer(KEYS.checkout) })).json() as {
    options: { method: string; gateway: string; state: string }[];
    unavailable: { method: string; downtimeId: string }[];
  };
/** A user in bucket A of the downtime: the one who sees it hidden. */
const bucketA = (downtimeId: string, percent: number) => Array.from({ length: 500 }, (_, i) => `user${i}`).find((u) => bucketOf(u, downtimeId, percent) === 'A')!;

const world: { methods: { method: string; gateways: string[]; priority?: number; attributes: Record<string, string> }[]; gateways: { gateway: string; aggregator?: string }[] } = {
  methods: [
    { method: 'card:hdfc_credit', gateways: ['payu', 'razorpay'], priority: 1, attributes: { issuer: 'hdfc', network: 'visa', type: 'credit' } },
    { method: 'card:icici_credit', gateways: ['payu', 'razorpay'], attributes: { issuer: 'icici', network: 'visa', type: 'credit' } },
    { method: 'card:sbi_debit', gateways: ['payu', 'razorpay'], attributes: { issuer: 'sbi', network: 'mastercard', type: 'debit' } },
    { method: 'netbanking:hdfc', gateways: ['payu'], attributes: { issuer: 'hdfc' } },
    { method: 'upi:phonepe', gateways: ['razorpay', 'payu'], attributes: { psp: 'phonepe' } },
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'], attributes: { psp: 'gpay' } },
  ],
  gateways: [{ gateway: 'payu', aggregator: 'juspay' }, { gateway: 'razorpay' }],
};

test('the catalog takes method attributes and gateway aggregators, and gives them back', async () => {
  const res = await put(world);
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject(world);
  const read = await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: bearer(KEYS.checkout) });
  expect(read.json()).toMatchObject(world);
});

test.each<[string, unknown, string]>([
  ['an unknown attribute name', { methods: [{ method: 'card:x', gateways: ['payu'], attributes: { bank: 'hdfc' } }] }, 'methods.0.attributes.bank'],
  ['an attribute value that is no id', { methods: [{ method: 'card:x', gateways: ['payu'], attributes: { issuer: 'HD FC' } }] }, 'methods.0.attributes.issuer'],
  ['an aggregator for a gateway no method uses', { methods: [{ method: 'card:x', gateways: ['payu'] }], gateways: [{ gateway: 'cashfree', aggregator: 'juspay' }] }, 'gateways.0.gateway'],
  ['a gateway listed twice', { methods: [{ method: 'card:x', gateways: ['payu'] }], gateways: [{ gateway: 'payu' }, { gateway: 'payu', aggregator: 'juspay' }] }, 'gateways.1.gateway'],
])('a catalog with %s is a 400 naming the field, and the catalog stays as it was', async (_name, payload, field) => {
  await putCatalog(h, [{ method: 'upi:gpay', gateways: ['payu'] }]);
  const res = await put(payload);
  expect(res.statusCode).toBe(400);
  expect(res.json()).toMatchObject({ error: 'bad_request', field });
  expect(res.json().message.startsWith(`${field}: `)).toBe(true);
  const kept = await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: bearer(KEYS.admin) });
  expect(kept.json().methods).toEqual([{ method: 'upi:gpay', gateways: ['payu'] }]);
});

test.each<[string, unknown, string]>([
  ['two processor-side dimensions', { gateway: 'payu', aggregator: 'juspay' }, 'scope.aggregator'],
  ['an unknown attribute', { bank: 'hdfc' }, 'scope.bank'],
  ['a method with an attribute', { method: 'card:hdfc_credit', network: 'visa' }, 'scope.network'],
])('a downtime scope with %s is a 400 naming the field', async (_name, scope, field) => {
  const res = await open(scope);
  expect(res.statusCode).toBe(400);
  expect(res.json()).toMatchObject({ error: 'bad_request', field });
});

test('a {network: visa} downtime hides every Visa card on every gateway and keeps every Mastercard offered', async () => {
  await putCatalog(h, world.methods, world.gateways);
  const downtime = await insertDowntime(h, { network: 'visa' }, { probePercent: 10 });
  const answer = await options(bucketA(downtime._id, 10));
  expect(answer.unavailable.map((u) => u.method).sort()).toEqual(['card:hdfc_credit', 'card:icici_credit']);
  expect(answer.options.map((o) => o.method)).toContain('card:sbi_debit');
  // Bucket B still sees them, as probes, so their attempts prove when Visa is back.
  const probe = Array.from({ length: 500 }, (_, i) => `user${i}`).find((u) => bucketOf(u, downtime._id, 10) === 'B')!;
  expect((await options(probe)).options.find((o) => o.method === 'card:hdfc_credit')).toMatchObject({ state: 'probe' });
});

test('an {issuer: hdfc} downtime hides its netbanking and its cards, and no other bank', async () => {
  await putCatalog(h, world.methods, world.gateways);
  const downtime = await insertDowntime(h, { issuer: 'hdfc' }, { probePercent: 10 });
  const answer = await options(bucketA(downtime._id, 10));
  expect(answer.unavailable.map((u) => u.method).sort()).toEqual(['card:hdfc_credit', 'netbanking:hdfc']);
  expect(answer.options.filter((o) => o.state === 'available').map((o) => o.method).sort()).toEqual(['card:icici_credit', 'card:sbi_debit', 'upi:gpay', 'upi:phonepe']);
});

test('a {psp: phonepe} downtime hides PhonePe while Google Pay stays', async () => {
  await putCatalog(h, world.methods, world.gateways);
  const downtime = await insertDowntime(h, { psp: 'phonepe' }, { probePercent: 10 });
  const answer = await options(bucketA(downtime._id, 10));
  expect(answer.unavailable.map((u) => u.method)).toEqual(['upi:phonepe']);
  expect(answer.options.find((o) => o.method === 'upi:gpay')).toMatchObject({ state: 'available' });
});

test('an {aggregator: juspay} downtime fails every method over to the direct gateway, and hides what only juspay carries', async () => {
  await putCatalog(h, world.methods, world.gateways);
  const downtime = await insertDowntime(h, { aggregator: 'juspay' }, { probePercent: 10 });
  const answer = await options(bucketA(downtime._id, 10));
  for (const m of ['card:hdfc_credit', 'card:icici_credit', 'card:sbi_debit', 'upi:phonepe', 'upi:gpay']) {
    expect(answer.options.find((o) => o.method === m)).toMatchObject({ gateway: 'razorpay', state: 'available' });
  }
  expect(answer.unavailable.map((u) => u.method)).toEqual(['netbanking:hdfc']);
});

test('an operator opens a downtime of {network: visa}: its key, and its workflow filterable by DowntimeNetwork in the Web UI', async () => {
  await putCatalog(h, world.methods, world.gateways);
  const res = await open({ network: 'visa' });
  expect(res.statusCode).toBe(202);
  expect(res.json()).toMatchObject({ scopeKey: '*:*+network=visa@*', status: 'open' });
  // No worker runs here: the workflow started is what the answer proves, with its search attributes for the Web UI.
  const temporal = await testClient();
  const handle = temporal.client.workflow.getHandle(downtimeWorkflowId('*:*+network=visa@*'));
  const described = await handle.describe();
  expect(described.searchAttributes.DowntimeNetwork).toEqual(['visa']);
  await handle.terminate('test cleanup');
  await temporal.close();
});

test("today's catalogs and scopes keep working unchanged", async () => {
  const methods = [
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'], priority: 10 },
    { method: 'netbanking:sbi', gateways: ['payu'] },
  ];
  const res = await put({ methods });
  expect(res.json()).toEqual({ methods, updatedAt: expect.any(String) });
  const downtime = await insertDowntime(h, { mode: 'upi', gateway: 'razorpay' });
  expect(downtime.scopeKey).toBe('upi:*@razorpay');
  const answer = await options(bucketA(downtime._id, downtime.probePercent));
  expect(answer.options.find((o) => o.method === 'upi:gpay')).toMatchObject({ gateway: 'payu', state: 'available' });
});
