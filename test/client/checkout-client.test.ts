/**
 * The checkout client (client/checkout) against the real API on a real socket, with a proxy of
 * the test's own in between that can pass requests on, stall them, answer 502, answer garbage or
 * an empty list, or pass a report on and lose its answer. What the shop sees: an answer every
 * time, from the API when it answers in time, else the user's last good answer, else the
 * catalog; every reported attempt stored once. (The client through nginx while API processes are
 * killed: test/scale/checkout-client.test.ts.)
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { CONTRACT, CheckoutClient, ReportError, Transaction } from '../../client/checkout/src';
import { ApiStack, startApiStack } from '../support/api-stack';
import { KEYS } from '../support/stack';

type Mode = 'pass' | 'stall' | '502' | 'garbage' | 'empty' | 'lose-answer';

let stack: ApiStack;
let apiBase: string;
let proxy: Server;
let proxyBase: string;
let mode: Mode = 'pass';
/** Requests the proxy saw, by path. */
const seen: string[] = [];

const CATALOG = [
  { method: 'upi:gpay', gateways: ['razorpay', 'payu'] },
  { method: 'card:visa_credit', gateways: ['payu'] },
  { method: 'netbanking:sbi', gateways: ['cashfree'] },
];

async function relay(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const upstream = await fetch(`${apiBase}${req.url}`, { method: req.method, headers: { authorization: String(req.headers.authorization), 'content-type': 'application/json' }, body: req.method === 'GET' ? undefined : body });
  const text = await upstream.text();
  if (mode === 'lose-answer') {
    // Stored by the API; the answer never reaches the client.
    res.destroy();
    return;
  }
  res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
}

beforeAll(async () => {
  stack = await startApiStack();
  apiBase = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url?.split('?')[0]}`);
      if (mode === 'stall') return void setTimeout(() => res.writeHead(200).end('{"options":[]}'), 1_000);
      if (mode === '502') return void res.writeHead(502).end('<html>Bad Gateway</html>');
      if (mode === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"options": [{"meth');
      if (mode === 'empty') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"options":[],"unavailable":[]}');
      void relay(req, res, Buffer.concat(chunks)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyBase = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const put = await fetch(`${apiBase}/v1/catalog`, { method: 'PUT', headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ methods: CATALOG }) });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((r) => proxy?.close(r));
  await stack?.close();
});
beforeEach(() => {
  mode = 'pass';
});

const client = (over: Partial<ConstructorParameters<typeof CheckoutClient>[0]> = {}) =>
  new CheckoutClient({ baseUrl: proxyBase, checkoutKey: KEYS.checkout, ingestKey: KEYS.ingest, catalog: CATALOG, flushIntervalMs: 50, retryBaseMs: 50, ...over });

const rawOptions = async (userId: string) => (await (await fetch(`${apiBase}/v1/payment-options?userId=${userId}`, { headers: { authorization: `Bearer ${KEYS.checkout}` } })).json()) as { options: unknown[] };

test('the client\'s paths, parameters and limits are the ones the API\'s OpenAPI document declares', async () => {
  const doc = (await (await fetch(`${apiBase}/docs/json`)).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string; required?: boolean }[]; requestBody?: { content: Record<string, { schema: { properties: { transactions: { maxItems: number } } } }> }; responses: Record<string, { content: Record<string, { schema: { properties: Record<string, { items?: { properties: Record<string, { enum?: string[] }> } }>; required?: string[] } }> }> }>> };
  const options = doc.paths[CONTRACT.paymentOptions.path]![CONTRACT.paymentOptions.method]!;
  expect(options.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: CONTRACT.paymentOptions.query, in: 'query', required: true })]));
  const answer = options.responses['200']!.content['application/json']!.schema;
  expect(Object.keys(answer.properties)).toEqual(expect.arrayContaining(['options', 'unavailable']));
  expect(Object.keys(answer.properties.options!.items!.properties)).toEqual(expect.arrayContaining(['method', 'mode', 'gateway', 'state', 'warning']));
  expect(answer.properties.options!.items!.properties.state!.enum).toEqual(['available', 'probe']);
  const report = doc.paths[CONTRACT.transactions.path]![CONTRACT.transactions.method]!;
  expect(report.requestBody!.content['application/json']!.schema.properties.transactions.maxItems).toBe(CONTRACT.transactions.maxBatch);
  expect(report.responses['202']!.content['application/json']!.schema.required).toEqual(['accepted', 'duplicates', 'rejected']);
});

test('answers from the API when it answers in time; then, however the API fails, the user\'s last good answer, else the catalog in its order; never an exception', async () => {
  const c = client();
  const fromApi = await c.paymentOptions('shopper_1');
  expect(fromApi.source).toBe('api');
  expect(fromApi.options).toEqual((await rawOptions('shopper_1')).options);

  for (const [m, reason] of [['stall', 'timeout'], ['502', 'http 502'], ['garbage', 'invalid answer'], ['empty', 'empty answer']] as const) {
    mode = m;
    const started = Date.now();
    const known = await c.paymentOptions('shopper_1');
    const unknown = await c.paymentOptions('shopper_never_seen');
    expect({ mode: m, source: known.source, reason: known.fallbackReason, options: known.options }).toEqual({ mode: m, source: 'last-good', reason, options: fromApi.options });
    expect({ mode: m, source: unknown.source, reason: unknown.fallbackReason }).toEqual({ mode: m, source: 'catalog', reason });
    expect(unknown.options).toEqual(CATALOG.map((x) => ({ method: x.method, gateway: x.gateways[0], state: 'available' })));
    // A stalled API is not waited for: both answers came before the stalled one would have.
    if (m === 'stall') expect(Date.now() - started).toBeLessThan(1_000);
  }
  // Nothing listening at all.
  const gone = client({ baseUrl: 'http://127.0.0.1:9' });
  expect(await gone.paymentOptions('shopper_1')).toMatchObject({ source: 'catalog', fallbackReason: 'network' });
  expect(c.stats().options).toEqual({ answers: 9, fromApi: 1, fromLastGood: 4, fromCatalog: 4 });
});

test('a catalog with no method is refused when the client is made, not when a shopper is waiting', () => {
  expect(() => client({ catalog: [] })).toThrow(/catalog must name at least one method/);
});

const attempts = (tag: string, n: number): Transaction[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, userId: `shopper_${i % 37}`, method: 'upi:gpay', gateway: 'razorpay', status: i % 5 === 0 ? 'failure' : 'success', ...(i % 5 === 0 ? { errorCode: 'GATEWAY_TIMEOUT' } : {}) }));

const stored = async (tag: string) => stack.db.c.transactions.countDocuments({ _id: { $regex: `^${tag}-` } });

test('report batches the attempts, returns at once, and every attempt is stored once, also when answers are lost or the API answers 502 for a while', async () => {
  const errors: ReportError[] = [];
  const c = client({ batchSize: 200, onError: (e) => void errors.push(e) });
  const tag = `rep${Date.now()}`;
  const txs = attempts(tag, 1_000);
  seen.length = 0;
  c.report(txs.slice(0, 300));
  await c.flush();
  expect(await stored(tag)).toBe(300);
  expect(seen.filter((s) => s === 'POST /v1/transactions')).toHaveLength(2);

  // The API stores the next batch but its answer is lost: sent again with the same ids, stored once.
  mode = 'lose-answer';
  c.report(txs.slice(300, 500));
  await new Promise((r) => setTimeout(r, 300));
  mode = '502';
  c.report(txs.slice(500, 800));
  await new Promise((r) => setTimeout(r, 300));
  mode = 'pass';
  c.report(txs.slice(800));
  await c.flush();
  expect(await stored(tag)).toBe(1_000);
  const s = c.stats().report;
  expect(s.sent + s.duplicates).toBe(1_000);
  expect(s.duplicates).toBe(200);
  expect(s.retries).toBeGreaterThan(0);
  expect(s.queued).toBe(0);
  expect(errors.filter((e) => e.kind !== 'retrying')).toEqual([]);
  await c.close();
});

test('report keeps at most maxQueued attempts while the API is away, dropping the oldest and saying so; a record the API rejects is told, not retried', async () => {
  const errors: ReportError[] = [];
  const c = client({ batchSize: 50, maxQueued: 100, onError: (e) => void errors.push(e) });
  const tag = `bound${Date.now()}`;
  mode = '502';
  const txs = attempts(tag, 300);
  for (let i = 0; i < 300; i += 50) expect(c.report(txs.slice(i, i + 50))).toBeUndefined();
  expect(c.stats().report.queued).toBeLessThanOrEqual(100);
  expect(c.stats().report.dropped).toBe(200);
  expect(errors.filter((e) => e.kind === 'dropped').reduce((n, e) => n + (e.kind === 'dropped' ? e.count : 0), 0)).toBe(200);
  mode = 'pass';
  await c.flush();
  // The batch that was being sent (the first 50) and the newest 50; none of those dropped.
  expect(await stored(tag)).toBe(100);
  const has = async (i: number) => (await stack.db.c.transactions.countDocuments({ _id: `${tag}-${i}` })) === 1;
  expect([await has(0), await has(49), await has(50), await has(249), await has(250), await has(299)]).toEqual([true, true, false, false, true, true]);
  c.report([{ ...txs[0]!, id: `${tag}-bad`, status: 'pending' as never }]);
  await c.flush();
  expect(errors.filter((e) => e.kind === 'rejected')).toEqual([{ kind: 'rejected', id: `${tag}-bad`, error: expect.stringContaining('status') }]);
  expect(c.stats().report).toMatchObject({ rejected: 1, queued: 0 });
  await c.close();
});

test('report takes a very large array without a stack overflow, and anything but an array with a word to onError, never an exception', async () => {
  const errors: ReportError[] = [];
  const c = client({ batchSize: 500, maxQueued: 1_000, onError: (e) => void errors.push(e) });
  mode = '502';
  const huge = attempts(`huge${Date.now()}`, 150_000);
  expect(() => c.report(huge)).not.toThrow();
  expect(c.stats().report.queued).toBeLessThanOrEqual(1_000);
  expect(() => c.report('not a list' as never)).not.toThrow();
  expect(errors).toContainEqual({ kind: 'invalid', message: 'report takes an array of transactions' });
  await c.close(200);
});
