/**
 * Every route in the OpenAPI document needs a key with the right role, except the public ones.
 */
import { Harness, KEYS, bearer, startApi } from '../api/harness';

let h: Harness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.close();
});

const PUBLIC = new Set(['GET /status', 'GET /v1/status', 'GET /healthz', 'GET /metrics']);
/** Routes any valid key may read. */
const ANY_KEY = new Set(['GET /v1/catalog']);
/** Routes a signature admits, not a key: 401 without one, whatever the key. */
const SIGNED = new Set(['POST /v1/integrations/pagerduty']);

async function routes(): Promise<string[]> {
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
}

const concrete = (path: string) => path.replace(/\{[^}]+\}/g, 'dt_unknown');

test('the OpenAPI document lists the API', async () => {
  const all = await routes();
  expect(all).toEqual(expect.arrayContaining(['POST /v1/transactions', 'GET /v1/payment-options', 'POST /v1/downtimes/{id}/resolve', 'PUT /v1/catalog', 'POST /v1/webhooks']));
});

test('every non-public route answers 401 without a key and with an unknown key', async () => {
  const all = (await routes()).filter((r) => !PUBLIC.has(r));
  expect(all.length).toBeGreaterThan(20);
  for (const route of all) {
    const [method, path] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'DELETE', string];
    const none = await h.app.inject({ method, url: concrete(path), payload: method === 'GET' || method === 'DELETE' ? undefined : {} });
    expect({ route, status: none.statusCode }).toEqual({ route, status: 401 });
    const unknown = await h.app.inject({ method, url: concrete(path), headers: bearer('not-a-key-of-this-service-0000'), payload: method === 'GET' || method === 'DELETE' ? undefined : {} });
    expect({ route, status: unknown.statusCode }).toEqual({ route, status: 401 });
  }
});

test('every non-public route answers 403 to a key without its role', async () => {
  const all = (await routes()).filter((r) => !PUBLIC.has(r) && !ANY_KEY.has(r) && !SIGNED.has(r));
  for (const route of all) {
    const [method, path] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'DELETE', string];
    const wrong = route === 'POST /v1/transactions' ? KEYS.checkout : KEYS.ingest;
    const res = await h.app.inject({ method, url: concrete(path), headers: bearer(wrong), payload: method === 'GET' || method === 'DELETE' ? undefined : {} });
    expect({ route, status: res.statusCode }).toEqual({ route, status: 403 });
  }
});

test('public routes answer without a key', async () => {
  for (const route of PUBLIC) {
    const [method, path] = route.split(' ') as ['GET', string];
    expect((await h.app.inject({ method, url: path })).statusCode).toBe(200);
  }
});
