/** The API over a real socket: what the checkout and a browser actually talk to. */
import { Harness, KEYS, bearer, putCatalog, startApi } from './harness';

let h: Harness;
let base: string;

beforeAll(async () => {
  h = await startApi();
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const address = h.app.server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => h?.close());

test('the checkout posts attempts and reads payment options over HTTP', async () => {
  await putCatalog(h, [{ method: 'upi:gpay', gateways: ['razorpay'] }]);
  const posted = await fetch(`${base}/v1/transactions`, {
    method: 'POST',
    headers: { ...bearer(KEYS.ingest), 'content-type': 'application/json' },
    body: JSON.stringify({ transactions: [{ id: 's1', userId: 'u1', method: 'upi:gpay', gateway: 'razorpay', status: 'success' }, { id: 's2' }] }),
  });
  expect(posted.status).toBe(202);
  expect(await posted.json()).toMatchObject({ accepted: 1, duplicates: 0, rejected: [{ index: 1, error: expect.stringMatching(/^userId: /) }] });

  const options = await fetch(`${base}/v1/payment-options?userId=u1`, { headers: bearer(KEYS.checkout) });
  expect(options.status).toBe(200);
  expect(await options.json()).toEqual({ options: [{ method: 'upi:gpay', mode: 'upi', gateway: 'razorpay', state: 'available' }], unavailable: [] });

  const refused = await fetch(`${base}/v1/payment-options?userId=u1`);
  expect(refused.status).toBe(401);
  expect(await refused.json()).toMatchObject({ error: 'unauthorized' });
});

test('a browser gets the status page as self-contained HTML', async () => {
  const res = await fetch(`${base}/status`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/html/);
  expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
  const html = await res.text();
  expect(html).toMatch(/^<!doctype html>/);
  expect(html).not.toMatch(/<script|src="http|href="http/);
});
