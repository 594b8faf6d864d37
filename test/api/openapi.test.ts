/** The OpenAPI document at /docs/json: generated from the route schemas, with the one Error component every refusal takes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Harness, KEYS, bearer, startApi } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => h?.close());

test('is a valid OpenAPI 3.1 document, by an outside validator', async () => {
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json();
  expect(doc.openapi).toBe('3.1.0');
  const file = join(mkdtempSync(join(tmpdir(), 'openapi-')), 'openapi.json');
  writeFileSync(file, JSON.stringify(doc));
  // The validator's own command (an ES module, which Jest's CommonJS runtime cannot load).
  const run = spawnSync(process.execPath, [require.resolve('@seriousme/openapi-schema-validator/bin/validate-api-cli.js'), file], { encoding: 'utf8' });
  expect({ status: run.status, result: JSON.parse(run.stdout) }).toEqual({ status: 0, result: { valid: true } });
});

test('declares the Error component, and a refusal\'s body has its shape', async () => {
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json();
  const error = doc.components.schemas.Error as { required?: string[]; properties?: Record<string, unknown> };
  expect(error.required).toEqual(['error', 'message']);
  expect(Object.keys(error.properties ?? {})).toEqual(expect.arrayContaining(['error', 'message', 'field']));
  // Every operation declares its refusals with it, and its own success status.
  const ack = doc.paths['/v1/downtimes/{id}/acknowledge'].post.responses;
  for (const code of ['400', '401', '403', '404', '409', '503']) expect(ack[code].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
  expect(Object.keys(doc.paths['/v1/downtimes'].post.responses)).toContain('202');
  expect(Object.keys(doc.paths['/v1/webhooks/{id}'].delete.responses)).toContain('204');
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/downtimes/{id}/extend', '/v1/catalog', '/v1/transactions']));

  const refused = await h.app.inject({ method: 'POST', url: '/v1/downtimes', headers: bearer(KEYS.operator), payload: { scope: { method: 'netbanking:sbi' }, reason: 'x', until: '2000-01-01T00:00:00Z' } });
  expect(refused.statusCode).toBe(400);
  expect(refused.json()).toEqual({ error: 'bad_request', field: 'until', message: 'until: must be in the future' });
  const missing = await h.app.inject({ method: 'GET', url: '/v1/downtimes/dt_nope', headers: bearer(KEYS.operator) });
  expect(missing.statusCode).toBe(404);
  expect(missing.json()).toEqual({ error: 'not_found', message: 'downtime dt_nope not found' });
});

test('names every operation, declares its success body, and links what an answer leads to', async () => {
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json();
  const operations = Object.values(doc.paths as Record<string, Record<string, { operationId?: string; responses: Record<string, { content?: Record<string, { schema: unknown }>; links?: Record<string, { operationId: string }> }> }>>).flatMap((p) => Object.values(p));
  const ids = operations.map((o) => o.operationId);
  expect(ids.every((id) => typeof id === 'string')).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
  // A success answer's body is a named component, so a generated client can type it.
  const opened = doc.paths['/v1/downtimes'].post.responses['202'];
  expect(opened.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/DowntimeOpened' });
  expect(doc.components.schemas.DowntimeOpened.required).toEqual(['id', 'scopeKey', 'status']);
  expect(doc.paths['/v1/downtimes/{id}'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/DowntimeDetail' });
  // Open a downtime, then acknowledge and resolve it, by the id the answer gives.
  expect(opened.links.acknowledge).toEqual({ operationId: 'acknowledgeDowntime', parameters: { id: '$response.body#/id' } });
  expect(opened.links.resolve.operationId).toBe('resolveDowntime');
  expect(doc.paths['/v1/webhooks'].post.responses['201'].links.deliveries.operationId).toBe('listWebhookDeliveries');
  // A body with required fields is a required body; the status page is HTML.
  expect(doc.paths['/v1/downtimes'].post.requestBody.required).toBe(true);
  expect(Object.keys(doc.paths['/status'].get.responses['200'].content)).toEqual(['text/html']);
});

test('a method a served path does not take is 405 with Allow, also when it would carry a body', async () => {
  const query = await h.app.inject({ method: 'QUERY' as 'GET', url: '/v1/catalog', headers: bearer(KEYS.admin) });
  expect(query.statusCode).toBe(405);
  expect(query.headers.allow).toBe('GET, HEAD, PUT');
});
