/** The OpenAPI document at /docs/json: generated from the route schemas, with the one Error component every refusal takes. */
import { Harness, KEYS, bearer, startApi } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => h?.close());

test('declares the Error component, and a refusal\'s body has its shape', async () => {
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json();
  const schemas = doc.components.schemas as Record<string, { required?: string[]; properties?: Record<string, unknown> }>;
  const error = Object.values(schemas).find((s) => s.properties && 'error' in s.properties && 'field' in s.properties);
  expect(error?.required).toEqual(['error', 'message']);
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/downtimes/{id}/extend', '/v1/catalog', '/v1/transactions']));

  const refused = await h.app.inject({ method: 'POST', url: '/v1/downtimes', headers: bearer(KEYS.operator), payload: { scope: { method: 'netbanking:sbi' }, reason: 'x', until: '2000-01-01T00:00:00Z' } });
  expect(refused.statusCode).toBe(400);
  expect(refused.json()).toEqual({ error: 'bad_request', field: 'until', message: 'until: must be in the future' });
  const missing = await h.app.inject({ method: 'GET', url: '/v1/downtimes/dt_nope', headers: bearer(KEYS.operator) });
  expect(missing.statusCode).toBe(404);
  expect(missing.json()).toEqual({ error: 'not_found', message: 'downtime dt_nope not found' });
});
