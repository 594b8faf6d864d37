/**
 * Property-based bad input, on every route of the OpenAPI document, against the real database
 * and the real Temporal dev server with a real worker (so manual downtimes run and incident
 * managers' updates reach the workflow's own validators).
 *
 * For every generated request: no 5xx and the process keeps serving; a 400 names a field that is
 * wrong in that very request (worked out independently from the route's JSON schema and the
 * route's documented rules); a refused write stores nothing. For POST /v1/transactions with
 * known-valid and known-invalid mixes: exactly the valid records are stored, counted once, and
 * exactly the invalid indexes are rejected, each naming the broken field.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { DEFAULT_USER_ERROR_CODES, modeOf } from '../../domain';
import { readCounters } from '../../db/counters';
import {
  KEYS,
  Operation,
  Path,
  Stack,
  TxRecord,
  BREAKING_KEYS,
  anyJson,
  bearer,
  breakageArb,
  dateTimeArb,
  fieldName,
  healthy,
  jsonOf,
  judge,
  operations,
  pollutingPaths,
  shown,
  startStack,
  requestValueArb,
  validTxArb,
  valueArb,
  wellFormed,
  HOSTILE_KEYS,
  HOSTILE_STRINGS,
  OPERATOR_OBJECTS,
} from './support-fuzz';

jest.setTimeout(240_000);

/** The API's routes; a test below fails when the OpenAPI document lists one this file does not know. */
const ROUTES = [
  'GET /v1/downtimes',
  'POST /v1/downtimes',
  'GET /v1/downtimes/{id}',
  'POST /v1/downtimes/{id}/acknowledge',
  'POST /v1/downtimes/{id}/resolve',
  'POST /v1/downtimes/{id}/extend',
  'POST /v1/downtimes/{id}/escalate',
  'POST /v1/downtimes/{id}/probe-percent',
  'POST /v1/downtimes/{id}/cancel',
  'POST /v1/transactions',
  'GET /v1/payment-options',
  'GET /v1/catalog',
  'PUT /v1/catalog',
  'GET /v1/status',
  'GET /status',
  'GET /v1/freeze-windows',
  'POST /v1/freeze-windows',
  'DELETE /v1/freeze-windows/{id}',
  'GET /v1/webhooks',
  'POST /v1/webhooks',
  'GET /v1/webhooks/{id}',
  'DELETE /v1/webhooks/{id}',
  'GET /v1/webhooks/{id}/deliveries',
  'POST /v1/webhooks/{id}/rotate-secret',
  'GET /v1/partners',
  'PUT /v1/partners',
  'GET /v1/incidents',
  'GET /v1/incidents/{id}',
  'POST /v1/incidents/{id}/stage',
  'POST /v1/incidents/{id}/review',
  'GET /v1/problems',
  'GET /v1/problems/{id}',
  'POST /v1/problems/{id}',
];

/** Routes a signature admits instead of a key: every unsigned request is a 401 before its body is read (test/api/integrations.test.ts). */
const SIGNED_ROUTES = ['POST /v1/integrations/pagerduty'];

/** Query strings that accept unknown parameters (every other route refuses them). */
const OPEN_QUERY = new Set(['GET /v1/payment-options']);

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const MINUTE = 60_000;
/** Times this close to the clock may land on either side of it by the time the server reads them. */
const CLOCK_SLACK = 2 * MINUTE;

let stack: Stack;
let ops: Map<string, Operation>;
/** The key that carries the route's role (undefined for public routes). */
const keyOf = new Map<string, string | undefined>();
/** Every key whose roles the route accepts. */
const allowed = new Map<string, Set<string>>();
const suffix = randomBytes(3).toString('hex');

// ---------------------------------------------------------------------------------------------
// Fixtures: downtimes (open, resolved), a webhook, a freeze window, so ids can exist

async function openDowntime(gateway: string): Promise<string> {
  const res = await stack.app.inject({ method: 'POST', url: '/v1/downtimes', headers: bearer(KEYS.operator), payload: { scope: { gateway }, reason: 'fixture' } });
  if (res.statusCode !== 202) throw new Error(`fixture downtime: ${shown(res)}`);
  const { id, scopeKey } = res.json() as { id: string; scopeKey: string };
  stack.started(scopeKey);
  await recorded(id);
  return id;
}

/** Waits until the workflow has recorded the downtime it was started for. */
async function recorded(id: string): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (await stack.db.c.downtimes.findOne({ _id: id })) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`downtime ${id} was never recorded`);
}

let fixtureSeq = 0;
/** An open downtime whose workflow runs, creating one when the properties have closed them all. */
async function anOpenDowntime(): Promise<string> {
  const open = await stack.db.c.downtimes.find({ status: 'open', reason: 'fixture' }).limit(1).toArray();
  if (open[0]) return open[0]._id;
  fixtureSeq += 1;
  return openDowntime(`fz${suffix}-open${fixtureSeq}`);
}

/** Ids that exist, by route family; random ones otherwise. */
async function existingIds(path: string): Promise<string[]> {
  const c = stack.db.c;
  const ids = (docs: { _id: string }[]) => docs.map((d) => d._id);
  if (path.startsWith('/v1/downtimes/')) return [await anOpenDowntime(), ...ids(await c.downtimes.find({ status: 'resolved' }).limit(2).toArray())];
  if (path.startsWith('/v1/webhooks/')) return ids(await c.webhooks.find({}).limit(3).toArray());
  if (path.startsWith('/v1/freeze-windows/')) return ids(await c.freezeWindows.find({}).limit(3).toArray());
  if (path.startsWith('/v1/incidents/')) return ids(await c.incidents.find({}).limit(3).toArray());
  if (path.startsWith('/v1/problems/')) return ids(await c.problems.find({}).limit(3).toArray());
  return [];
}

beforeAll(async () => {
  stack = await startStack({ worker: true });
  ops = new Map((await operations(stack.app)).map((o) => [o.route, o]));
  for (const op of ops.values()) {
    if (!op.secured) {
      keyOf.set(op.route, undefined);
      continue;
    }
    allowed.set(op.route, new Set());
    for (const key of [KEYS.ingest, KEYS.checkout, KEYS.operator, KEYS.admin]) {
      const res = await stack.app.inject({ method: op.method, url: op.path.replace(/\{[^}]+\}/g, 'x'), headers: bearer(key) });
      if (res.statusCode !== 401 && res.statusCode !== 403) {
        if (!keyOf.has(op.route)) keyOf.set(op.route, key);
        allowed.get(op.route)!.add(key);
      }
    }
  }
  await openDowntime(`fz${suffix}-open0`);
  const closed = await openDowntime(`fz${suffix}-closed`);
  const resolved = await stack.app.inject({ method: 'POST', url: `/v1/downtimes/${closed}/resolve`, headers: bearer(KEYS.operator), payload: { by: 'fixture' } });
  if (resolved.statusCode !== 200) throw new Error(`fixture resolve: ${shown(resolved)}`);
  await stack.app.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(KEYS.admin), payload: { url: 'http://127.0.0.1:9/hook', events: ['downtime.started'] } });
  await stack.app.inject({
    method: 'POST',
    url: '/v1/freeze-windows',
    headers: bearer(KEYS.operator),
    payload: { name: 'fixture', startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 86_400_000).toISOString() },
  });
});

afterAll(async () => {
  await stack?.close();
});

test('the suite knows every route of the OpenAPI document, and a key reaches each secured one', () => {
  expect([...ops.keys()].sort()).toEqual([...ROUTES, ...SIGNED_ROUTES].sort());
  for (const op of ops.values()) if (op.secured) expect({ route: op.route, key: keyOf.get(op.route) !== undefined }).toEqual({ route: op.route, key: true });
});

// ---------------------------------------------------------------------------------------------
// Requests

const NO_BODY = Symbol('no body');

interface Generated {
  /** Path parameters: a value, or "an id that exists now" (resolved when the request is sent). */
  params: Record<string, { existing: number } | { value: string }>;
  query: [string, string][];
  body: unknown;
}

/** Query values are strings: schema-shaped ones, hostile ones, and repeated keys. */
function queryArb(op: Operation): fc.Arbitrary<[string, string][]> {
  const now = Date.now();
  const known = op.query.map((q) => {
    const value = fc.oneof(
      { weight: 4, arbitrary: valueArb(q.schema, { now, hostileWeight: 1 }).map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')) },
      { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    );
    const pairs = fc.array(value, { minLength: 1, maxLength: 2 }).map((vs) => vs.map((v): [string, string] => [q.name, v]));
    return fc.option(pairs, { nil: undefined, freq: q.required ? 10 : 2 });
  });
  const extraKeys = fc.constantFrom('status[$ne]', 'userId[$gt]', '__proto__', '__proto__[polluted]', 'constructor', 'constructor[prototype][polluted]', '$where', ...HOSTILE_KEYS);
  const extra = fc.option(fc.array(fc.tuple(fc.oneof(extraKeys, fc.string({ maxLength: 6 })), fc.constantFrom('', 'x', '1', '{"$gt":""}')), { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 4 });
  return fc.tuple(fc.tuple(...known), extra).chain(([lists, more]) => fc.shuffledSubarray([...lists.flatMap((l) => l ?? []), ...(more ?? [])], { minLength: 0 }).map((all) => all));
}

function paramArb(op: Operation): fc.Arbitrary<Generated['params']> {
  const entries = op.params.map((p) => {
    const value = fc.oneof(
      { weight: 4, arbitrary: fc.nat({ max: 2 }).map((n) => ({ existing: n })) },
      { weight: 3, arbitrary: fc.stringMatching(new RegExp(p.schema.pattern ?? '^.+$')).map((value) => ({ value })) },
      {
        weight: 3,
        arbitrary: fc
          .oneof(
            fc.constantFrom(...HOSTILE_STRINGS),
            fc.constantFrom(...OPERATOR_OBJECTS).map((o) => JSON.stringify(o)),
            fc.string({ unit: 'binary', maxLength: 30 }),
            fc.constantFrom(65, 101, 300).map((n) => 'a'.repeat(n)),
          )
          .filter((s) => s.length > 0 && s !== '.' && s !== '..')
          .map((value) => ({ value })),
      },
    );
    return value.map((v) => [p.name, v] as const);
  });
  return fc.tuple(...entries).map((pairs) => Object.fromEntries(pairs));
}

function bodyArb(op: Operation): fc.Arbitrary<unknown> {
  if (!op.body) return fc.constant(NO_BODY);
  const now = Date.now();
  const retention = stack.config.retentionMs;
  const validTx = fc.tuple(fc.stringMatching(/^[A-Za-z0-9_:.-]{1,12}$/), validTxArb(now, retention)).map(([id, t]) => ({ id, ...t }));
  /** A scheduled maintenance's start (an hour to ten days ahead) and an end after any of them. */
  const soon = fc.integer({ min: 3_600_000, max: 10 * 86_400_000 }).map((d) => new Date(now + d).toISOString());
  const later = fc.integer({ min: 11 * 86_400_000, max: 40 * 86_400_000 }).map((d) => new Date(now + d).toISOString());
  const hooks: Record<string, { overrides: Record<string, fc.Arbitrary<unknown>>; clean: Record<string, fc.Arbitrary<unknown>> }> = {
    'POST /v1/transactions': {
      overrides: { 'transactions.*': fc.oneof(validTx, fc.tuple(validTxArb(now, retention), breakageArb(now)).map(([t, b]) => b.apply({ id: 'broken', ...t })), anyJson) },
      clean: { 'transactions.*': validTx },
    },
    // A scheduled maintenance needs a future start and an end after it: mostly so, sometimes anything.
    'POST /v1/downtimes': {
      overrides: { startsAt: fc.oneof({ weight: 3, arbitrary: soon }, { weight: 1, arbitrary: dateTimeArb(now) }), until: fc.oneof({ weight: 3, arbitrary: later }, { weight: 1, arbitrary: dateTimeArb(now) }) },
      // The clean branch's scope: one dimension a scope may hold alone, so the route's own rules are reached.
      clean: { scope: fc.oneof(fc.stringMatching(/^[a-z0-9_-]{1,20}$/).map((gateway) => ({ gateway })), fc.stringMatching(/^[a-z0-9_]{1,12}$/).map((mode) => ({ mode }))), startsAt: soon, until: later },
    },
    // A window is one-off (an end) or recurring (a rule): the clean branch gives valid ones of each.
    'POST /v1/freeze-windows': {
      overrides: {},
      clean: { endsAt: later, recurrence: fc.constantFrom({ rule: 'FREQ=MONTHLY;BYMONTHDAY=-2', duration: '2d' }, { rule: 'RRULE:FREQ=WEEKLY;BYDAY=FR', duration: '12h' }) },
    },
    'POST /v1/webhooks': {
      overrides: { url: fc.oneof(fc.constantFrom('http://127.0.0.1:9/hook', 'https://127.0.0.1/x', 'ftp://127.0.0.1/', 'http://u:p@127.0.0.1/', 'javascript:alert(1)', '//127.0.0.1', 'http://[::1', 'not a url'), fc.string({ maxLength: 20 })) },
      clean: { url: fc.constantFrom('http://127.0.0.1:9/hook', 'https://127.0.0.1:9/x?y=1', 'http://localhost:9/') },
    },
  };
  return fc.oneof(
    { weight: 10, arbitrary: requestValueArb(op.body, { now, hostileWeight: 1, ...hooks[op.route] }).map((b) => (b === undefined ? NO_BODY : b)) },
    { weight: 1, arbitrary: fc.oneof(fc.constant(NO_BODY), fc.constant(null), fc.constant([]), fc.string({ maxLength: 5 }), fc.integer(), fc.constant([{}])) },
  );
}

const requestArb = (op: Operation): fc.Arbitrary<Generated> => fc.record({ params: paramArb(op), query: queryArb(op), body: bodyArb(op) });

// ---------------------------------------------------------------------------------------------
// What the app must answer: the rules each route applies after its schema

interface Expectation {
  /** Fields a 400 may name (any 400 must name one of these). */
  fields: Set<string>;
  /** Whether the request must be refused with 400. */
  must400: boolean;
  /** Statuses allowed when nothing about the request is wrong. */
  ok: number[];
}

type Body = Record<string, unknown>;
const dateOf = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : NaN);
/** 'past' / 'future' when clearly so when the server reads it, 'near' otherwise. */
const side = (ms: number) => (Math.abs(ms - Date.now()) < CLOCK_SLACK ? 'near' : ms < Date.now() ? 'past' : 'future');

/** What a scope the schema accepts is refused for, under `at`: a method of another mode, two processors, a method with attributes. */
function scopeRefusals(scope: Record<string, string | undefined>, at: string): string[] {
  const out: string[] = [];
  if (scope.mode !== undefined && scope.method !== undefined && modeOf(scope.method) !== scope.mode) out.push(`${at}.mode`);
  // One processor at most; a method carries its attributes from the catalog.
  if (scope.gateway !== undefined && scope.aggregator !== undefined) out.push(`${at}.aggregator`);
  const attributes = Object.keys(scope).filter((k) => scope[k] !== undefined && !['mode', 'method', 'gateway', 'aggregator'].includes(k));
  if (scope.method !== undefined) out.push(...attributes.map((k) => `${at}.${k}`));
  return out;
}

/** The route's own rules for a request its schema accepts: fields that must (sure) or may (maybe) be refused. */
function semantics(route: string, body: Body): { sure: string[]; maybe: string[]; ok: number[] } {
  const sure: string[] = [];
  const maybe: string[] = [];
  switch (route) {
    case 'POST /v1/downtimes': {
      sure.push(...scopeRefusals(body.scope as Record<string, string | undefined>, 'scope'));
      if (body.startsAt !== undefined) {
        // Scheduled maintenance: a future start, and an end after it.
        const startsAt = dateOf(body.startsAt);
        const s = Number.isFinite(startsAt) ? side(startsAt) : 'past';
        const until = dateOf(body.until);
        if (s === 'past') sure.push('startsAt');
        else if (s === 'near') maybe.push('startsAt', 'until');
        else if (body.until === undefined || !Number.isFinite(until) || until <= startsAt) sure.push('until');
        if (sure.length > 0 || s === 'near') maybe.push('until');
      } else if (body.until !== undefined) {
        const until = dateOf(body.until);
        const s = Number.isFinite(until) ? side(until) : 'past';
        if (s === 'past') sure.push('until');
        if (s === 'near') maybe.push('until');
      }
      return { sure, maybe, ok: [202, 409] };
    }
    case 'POST /v1/freeze-windows': {
      const [startsAt, endsAt] = [dateOf(body.startsAt), dateOf(body.endsAt)];
      const recurrence = body.recurrence as { rule: string; duration: string } | undefined;
      if (!Number.isFinite(startsAt)) sure.push('startsAt');
      else if (recurrence !== undefined) {
        // Recurring: no end of its own, a duration, and a rule (whose validity is the rule library's: maybe).
        if (body.endsAt !== undefined) sure.push('endsAt');
        else if (!/^\d+(\.\d+)?\s*(ms|s|m|h|d)?$/.test(recurrence.duration.trim()) || /^0+(\.0+)?\s*[a-z]*$/.test(recurrence.duration.trim())) sure.push('recurrence.duration');
        else maybe.push('recurrence.duration', 'recurrence.rule');
      } else if (!Number.isFinite(endsAt) || endsAt <= startsAt || side(endsAt) === 'past') sure.push('endsAt');
      else if (side(endsAt) === 'near') maybe.push('endsAt');
      return { sure, maybe, ok: [201] };
    }
    case 'POST /v1/webhooks': {
      let url: URL | undefined;
      try {
        url = new URL(String(body.url));
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) sure.push('url');
      return { sure, maybe, ok: [201] };
    }
    case 'PUT /v1/catalog': {
      const methods = body.methods as { method: string; gateways: string[] }[];
      const dup = methods.findIndex((m, i) => methods.slice(0, i).some((n) => n.method === m.method));
      if (dup >= 0) sure.push(`methods.${dup}.method`);
      // Each gateway listed once, and carried by a method.
      const gateways = (body.gateways ?? []) as { gateway: string }[];
      const carried = new Set(methods.flatMap((m) => m.gateways));
      gateways.forEach((g, i) => {
        if (gateways.slice(0, i).some((h) => h.gateway === g.gateway) || !carried.has(g.gateway)) sure.push(`gateways.${i}.gateway`);
      });
      return { sure, maybe, ok: [200] };
    }
    case 'PUT /v1/partners': {
      // Names once each, ignoring case; each scope by the downtime's rules.
      const partners = body.partners as { name: string; scope: Record<string, string | undefined> }[];
      partners.forEach((p, i) => {
        if (partners.slice(0, i).some((q) => q.name.toLowerCase() === p.name.toLowerCase())) sure.push(`partners.${i}.name`);
        sure.push(...scopeRefusals(p.scope, `partners.${i}.scope`));
      });
      return { sure, maybe, ok: [200] };
    }
    case 'POST /v1/downtimes/{id}/extend': {
      const until = dateOf(body.until);
      if (!Number.isFinite(until)) sure.push('until');
      // The workflow refuses a past time and a blank actor, once the downtime is found open.
      else maybe.push('until');
      maybe.push('by');
      return { sure, maybe, ok: [200, 404, 409] };
    }
    case 'POST /v1/downtimes/{id}/escalate':
      // Whether a severity raises it depends on the downtime's current severity.
      return { sure, maybe: ['by', 'severity'], ok: [200, 404, 409] };
    case 'POST /v1/downtimes/{id}/acknowledge':
    case 'POST /v1/downtimes/{id}/resolve':
    case 'POST /v1/downtimes/{id}/cancel':
    case 'POST /v1/downtimes/{id}/probe-percent':
      return { sure, maybe: ['by'], ok: [200, 404, 409] };
    case 'POST /v1/incidents/{id}/stage':
    case 'POST /v1/incidents/{id}/review':
      // The incident's state decides (open or resolved, reviewed or not): 409, not a field.
      return { sure, maybe, ok: [200, 404, 409] };
    case 'POST /v1/problems/{id}':
      // A known error needs its workaround and a resolved problem its root cause, unless the problem's state refuses first.
      if (body.status === 'resolved' && body.rootCause === undefined) maybe.push('rootCause');
      if (body.status === 'known_error' && body.workaround === undefined) maybe.push('workaround');
      return { sure, maybe, ok: [200, 404, 409] };
    case 'POST /v1/transactions':
      return { sure, maybe, ok: [202] };
    default:
      return { sure, maybe, ok: route.startsWith('DELETE') ? [204, 404] : route.includes('{id}') ? [200, 404] : [200] };
  }
}

/** Fastify validates params, then body, then querystring; the first part with an error is reported. */
function expectation(op: Operation, params: Record<string, string>, query: [string, string][], body: unknown): Expectation {
  const parts: { part: 'params' | 'body' | 'querystring'; invalid: Path[]; unsure: Path[] }[] = [];
  if (op.params.length > 0) {
    const schema = { type: 'object' as const, required: op.params.map((p) => p.name), properties: Object.fromEntries(op.params.map((p) => [p.name, p.schema])) };
    parts.push({ part: 'params', ...judge(schema, params, true) });
  }
  if (op.body) parts.push({ part: 'body', ...judge(op.body, body === NO_BODY ? undefined : body, false) });
  if (op.query.length > 0) {
    const received: Record<string, string | string[]> = Object.create(null);
    for (const [k, v] of query) {
      const had = received[k];
      received[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    }
    const schema = {
      type: 'object' as const,
      additionalProperties: !OPEN_QUERY.has(op.route) ? false : undefined,
      required: op.query.filter((q) => q.required).map((q) => q.name),
      properties: Object.fromEntries(op.query.map((q) => [q.name, q.schema])),
    };
    parts.push({ part: 'querystring', ...judge(schema, received, true) });
  }
  const first = parts.find((p) => p.invalid.length > 0);
  if (first) return { fields: new Set([...first.invalid, ...first.unsure].map((p) => fieldName(p, first.part))), must400: true, ok: [] };
  const unsure = parts.flatMap((p) => p.unsure.map((u) => fieldName(u, p.part)));
  const rules = op.body ? semantics(op.route, body as Body) : semantics(op.route, {});
  return { fields: new Set([...unsure, ...rules.sure, ...rules.maybe]), must400: rules.sure.length > 0, ok: rules.ok };
}

// ---------------------------------------------------------------------------------------------
// Sending and checking

/** Counts of the collections a route writes, to prove a refusal stored nothing. */
async function writes(route: string): Promise<string> {
  const c = stack.db.c;
  if (route === 'POST /v1/transactions') return `${await c.transactions.countDocuments()}/${await c.counters.countDocuments()}/${await c.counterDeltas.countDocuments()}`;
  if (route === 'PUT /v1/catalog') return JSON.stringify(await c.catalog.findOne({ _id: 'catalog' }));
  if (route === 'POST /v1/downtimes') return String(await c.downtimes.countDocuments());
  if (route.includes('freeze-windows')) return String(await c.freezeWindows.countDocuments());
  if (route.startsWith('POST /v1/webhooks') || route.startsWith('DELETE /v1/webhooks')) return String(await c.webhooks.countDocuments());
  return '';
}

const encodePath = (s: string) => (wellFormed(s) ? encodeURIComponent(s) : '%ED%A0%80');

async function send(op: Operation, g: Generated): Promise<{ res: LightMyRequestResponse; params: Record<string, string> }> {
  const params: Record<string, string> = {};
  for (const [name, choice] of Object.entries(g.params)) {
    if ('value' in choice) params[name] = choice.value;
    else {
      const ids = await existingIds(op.path);
      params[name] = ids[choice.existing % Math.max(ids.length, 1)] ?? 'dt_none';
    }
  }
  let url = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodePath(params[name]!));
  if (g.query.length > 0) url += `?${g.query.map(([k, v]) => `${encodePath(k)}=${encodePath(v)}`).join('&')}`;
  const key = keyOf.get(op.route);
  const headers: Record<string, string> = key ? bearer(key) : {};
  let payload: string | undefined;
  if (g.body !== NO_BODY) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(g.body);
  }
  const res = await stack.app.inject({ method: op.method, url, headers, ...(payload !== undefined ? { payload } : {}) });
  return { res, params };
}

/** The request as the server receives it: JSON drops undefined and turns -0 into 0. */
const received = (body: unknown) => (body === NO_BODY ? NO_BODY : (JSON.parse(JSON.stringify(body)) as unknown));

/** Statuses seen per route, to show the generators reach both the validation and the handler. */
const seen = new Map<string, Map<number, number>>();

async function check(op: Operation, g: Generated): Promise<void> {
  const before = await writes(op.route);
  const { res, params } = await send(op, g);
  const counts = seen.get(op.route) ?? new Map<number, number>();
  counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
  seen.set(op.route, counts);
  const body = received(g.body);
  const what = `${op.route} params=${JSON.stringify(params)} query=${JSON.stringify(g.query)} body=${body === NO_BODY ? '(none)' : JSON.stringify(body).slice(0, 300)} -> ${shown(res)}`;
  const json = jsonOf(res);
  if (res.statusCode >= 500) throw new Error(`5xx: ${what}`);
  if (!(await healthy(stack.app))) throw new Error(`the app stopped answering /healthz after ${what}`);
  if (res.statusCode >= 400 && op.route !== 'GET /status' && !json) throw new Error(`a ${res.statusCode} without a JSON body: ${what}`);

  // Unencodable path parameters and over-long ones are refused by the router, naming the part.
  const param = Object.values(params)[0];
  if (param !== undefined && !wellFormed(param)) {
    if (res.statusCode !== 400 || json?.field !== 'url') throw new Error(`expected 400 naming url: ${what}`);
    return;
  }
  if (param !== undefined && encodePath(param).length > 100 && res.statusCode === 414) {
    if (json?.field !== 'params') throw new Error(`414 not naming params: ${what}`);
    return;
  }

  const polluting = body !== NO_BODY ? pollutingPaths(body) : [];
  if (polluting.length > 0) {
    const fields = polluting.map((p) => p.join('.'));
    if (res.statusCode !== 400 || !fields.includes(String(json?.field))) throw new Error(`expected 400 naming one of ${fields.join(', ')}: ${what}`);
    if (({} as Record<string, unknown>).polluted !== undefined) throw new Error(`Object.prototype polluted by ${what}`);
    return;
  }

  const expected = expectation(op, params, g.query, body);
  if (res.statusCode === 400) {
    const field = String(json?.field);
    if (!expected.fields.has(field)) throw new Error(`400 names "${field}", expected one of [${[...expected.fields].join(', ')}]: ${what}`);
    if (!String(json?.message).startsWith(`${field}: `)) throw new Error(`400 message does not start with its field: ${what}`);
  } else if (expected.must400) {
    throw new Error(`expected 400 naming one of [${[...expected.fields].join(', ')}]: ${what}`);
  } else if (!expected.ok.includes(res.statusCode)) {
    throw new Error(`status ${res.statusCode} not in [${expected.ok.join(', ')}]: ${what}`);
  }
  if (res.statusCode === 404) {
    if (!String(json?.message).includes(`${param} not found`)) throw new Error(`404 does not name the id: ${what}`);
  }

  const after = await writes(op.route);
  if (res.statusCode >= 400 && after !== before) throw new Error(`a refused request changed the stored data (${before} -> ${after}): ${what}`);
  if (res.statusCode === 202 && op.route === 'POST /v1/downtimes') {
    const started = res.json() as { id: string; scopeKey: string };
    stack.started(started.scopeKey);
    await recorded(started.id);
  }
  if (res.statusCode === 202 && op.route === 'POST /v1/transactions') {
    const out = res.json() as { accepted: number; rejected: { index: number; error: string }[] };
    // Accepted, so the body's transactions are an array (a JSON body is never coerced).
    const records = (body as { transactions: unknown[] }).transactions;
    for (const r of out.rejected) {
      const named = /^("(?:[^"\\]|\\.)*"|[^:]+): /.exec(r.error)?.[1];
      const record = records[r.index];
      const keys = record !== null && typeof record === 'object' ? Object.keys(record) : [];
      // The first segment of a path names a key of the record; a quoted one is a JSON string ("" for the empty key).
      const quotedHead = named !== undefined ? /^("(?:[^"\\]|\\.)*")[.[]/.exec(named)?.[1] : undefined;
      const head = quotedHead !== undefined ? (JSON.parse(quotedHead) as string) : named?.split(/[.[]/)[0];
      const ok = named === 'transaction' || (named !== undefined && (keys.includes(named) || keys.some((k) => JSON.stringify(k) === named) || keys.includes(head!) || ['id', 'userId', 'method', 'gateway', 'status'].includes(named)));
      if (!ok) throw new Error(`rejection of transactions[${r.index}] names "${named}": ${what}`);
    }
  }
}

describe('random and hostile requests: no 5xx, a 400 names a wrong field of the request, a refusal stores nothing', () => {
  test.each(ROUTES)('%s', async (route) => {
    const op = ops.get(route)!;
    await fc.assert(
      fc.asyncProperty(requestArb(op), async (g) => check(op, g)),
      { numRuns: RUNS },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The generators reach both the validation (a 400) and the handler (anything else), or the property proves little.
    const statuses = seen.get(route)!;
    const refused = (statuses.get(400) ?? 0) + (statuses.get(414) ?? 0);
    const inputs = op.params.length + op.query.length + (op.body ? 1 : 0);
    expect({ route, statuses: Object.fromEntries(statuses), validated: inputs === 0 || refused > 0, handled: RUNS - refused > 0 }).toMatchObject({ validated: true, handled: true });
  });
});

// ---------------------------------------------------------------------------------------------
// POST /v1/transactions: known-valid and known-invalid mixes

const USER_CODES = new Set(DEFAULT_USER_ERROR_CODES);

type Slot = { kind: 'valid'; tx: Omit<TxRecord, 'id'> } | { kind: 'invalid'; tx: Omit<TxRecord, 'id'>; field: string; apply: (r: Record<string, unknown>) => unknown } | { kind: 'dup'; of: number; tx: Omit<TxRecord, 'id'> };

async function clearTransactions(): Promise<void> {
  await Promise.all([stack.db.c.transactions.deleteMany({}), stack.db.c.counters.deleteMany({}), stack.db.c.counterDeltas.deleteMany({})]);
}

const postTransactions = (transactions: unknown[]) =>
  stack.app.inject({ method: 'POST', url: '/v1/transactions', headers: bearer(KEYS.ingest), payload: { transactions } });

/** Per route: successes, system failures and user failures the valid records must add. */
function expectedCounts(records: TxRecord[]): Map<string, { success: number; systemFailure: number; userFailure: number }> {
  const out = new Map<string, { success: number; systemFailure: number; userFailure: number }>();
  for (const r of records) {
    const key = `${r.method}@${r.gateway}`;
    const c = out.get(key) ?? { success: 0, systemFailure: 0, userFailure: 0 };
    if (r.status === 'success') c.success += 1;
    else if (typeof r.errorCode === 'string' && USER_CODES.has(r.errorCode)) c.userFailure += 1;
    else c.systemFailure += 1;
    out.set(key, c);
  }
  return out;
}

async function storedCounts(): Promise<Map<string, { success: number; systemFailure: number; userFailure: number }>> {
  const out = new Map<string, { success: number; systemFailure: number; userFailure: number }>();
  for (const d of await readCounters(stack.db, -Infinity, Infinity)) {
    const key = `${d.method}@${d.gateway}`;
    const c = out.get(key) ?? { success: 0, systemFailure: 0, userFailure: 0 };
    c.success += d.success ?? 0;
    c.systemFailure += d.systemFailure ?? 0;
    c.userFailure += d.userFailure ?? 0;
    out.set(key, c);
  }
  return out;
}

/** The stored documents are exactly `records`, field for field, with nothing else in them. */
async function expectStoredExactly(records: TxRecord[]): Promise<void> {
  const docs = await stack.db.c.transactions.find({}).toArray();
  expect(docs.map((d) => d._id).sort()).toEqual(records.map((r) => r.id).sort());
  const byId = new Map(records.map((r) => [r.id, r]));
  for (const d of docs) {
    const r = byId.get(d._id)!;
    expect(Object.keys(d).filter((k) => BREAKING_KEYS.includes(k))).toEqual([]);
    expect({ id: d._id, userId: d.userId, method: d.method, mode: d.mode, gateway: d.gateway, status: d.status, errorCode: d.errorCode }).toEqual({
      id: r.id,
      userId: r.userId,
      method: r.method,
      mode: modeOf(r.method),
      gateway: r.gateway,
      status: r.status,
      errorCode: typeof r.errorCode === 'string' ? r.errorCode : undefined,
    });
    expect(d.at.getTime()).toBe(r.at !== undefined ? Date.parse(r.at) : d.receivedAt.getTime());
  }
  const counts = await storedCounts();
  expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(expectedCounts(records)));
}

describe('POST /v1/transactions with known-valid and known-invalid records', () => {
  test('stores exactly the valid records, counts each once, and rejects exactly the invalid indexes, naming the broken field', async () => {
    const now = Date.now();
    const retention = stack.config.retentionMs;
    const slot: fc.Arbitrary<Slot> = fc.oneof(
      { weight: 5, arbitrary: validTxArb(now, retention).map((tx): Slot => ({ kind: 'valid', tx })) },
      { weight: 3, arbitrary: fc.tuple(validTxArb(now, retention), breakageArb(now)).map(([tx, b]): Slot => ({ kind: 'invalid', tx, field: b.field, apply: b.apply })) },
      { weight: 1, arbitrary: fc.tuple(fc.nat(), validTxArb(now, retention)).map(([of, tx]): Slot => ({ kind: 'dup', of, tx })) },
    );
    const batch = fc.tuple(fc.array(slot, { maxLength: 40 }), fc.array(fc.stringMatching(/^[A-Za-z0-9_:.-]{1,40}$/), { minLength: 40, maxLength: 40 }));
    await fc.assert(
      fc.asyncProperty(batch, async ([slots, idParts]) => {
        await clearTransactions();
        const stored: TxRecord[] = [];
        const firstIndexOf = new Map<string, number>();
        const rejected: { index: number; error: string | RegExp }[] = [];
        const sent = slots.map((s, i) => {
          if (s.kind === 'invalid') {
            const record = s.apply({ ...s.tx, id: `bad-${i}`, userId: `poison-${i}` });
            // An unknown field whose name is not a plain word is quoted in the message (names with
            // "$" or "." are refused earlier, as operator-like paths, unquoted).
            const field = /^[A-Za-z_][A-Za-z0-9_]*$/.test(s.field) || /[$.]/.test(s.field) ? s.field : JSON.stringify(s.field);
            rejected.push({ index: i, error: new RegExp(`^${field.replace(/[.$[\]()*+?^{}|\\]/g, '\\$&')}: `) });
            return record;
          }
          const validIds = [...firstIndexOf.keys()];
          if (s.kind === 'dup' && validIds.length > 0) {
            const id = validIds[s.of % validIds.length]!;
            rejected.push({ index: i, error: `id: duplicate of transactions[${firstIndexOf.get(id)}] in this batch` });
            return { ...s.tx, id };
          }
          const tx: TxRecord = { ...s.tx, id: `${idParts[i]}.${i}` };
          firstIndexOf.set(tx.id, i);
          stored.push(tx);
          return tx;
        });
        const res = await postTransactions(sent);
        expect(res.statusCode).toBe(202);
        const out = res.json() as { accepted: number; duplicates: number; rejected: { index: number; error: string }[] };
        expect({ accepted: out.accepted, duplicates: out.duplicates }).toEqual({ accepted: stored.length, duplicates: 0 });
        expect(out.rejected.map((r) => r.index)).toEqual(rejected.map((r) => r.index));
        for (const [i, r] of out.rejected.entries()) {
          const want = rejected[i]!.error;
          if (typeof want === 'string') expect(r.error).toBe(want);
          else expect(r.error).toMatch(want);
        }
        await expectStoredExactly(stored);
        expect(await stack.db.c.transactions.countDocuments({ $or: [{ userId: { $regex: '^poison-' } }, { _id: { $regex: '^bad-' } }] })).toBe(0);
      }),
      { numRuns: RUNS },
    );
    expect(await healthy(stack.app)).toBe(true);
  });

  test('a batch posted again, in part or concurrently, is stored and counted once, its known ids reported as duplicates', async () => {
    const now = Date.now();
    const retention = stack.config.retentionMs;
    const records = fc.uniqueArray(fc.tuple(fc.stringMatching(/^[A-Za-z0-9_:.-]{1,30}$/), validTxArb(now, retention)), { selector: ([id]) => id, minLength: 1, maxLength: 15 });
    const scenario = fc.record({
      first: records,
      fresh: records,
      replayed: fc.array(fc.nat(), { maxLength: 10 }),
      /** A replay may carry other content under a known id: the first version stays. */
      altered: fc.boolean(),
      concurrent: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        await clearTransactions();
        const first: TxRecord[] = s.first.map(([id, t]) => ({ ...t, id: `a-${id}` }));
        const fresh: TxRecord[] = s.fresh.map(([id, t]) => ({ ...t, id: `b-${id}` }));
        const replayed = [...new Set(s.replayed.map((n) => n % first.length))].map((n) => (s.altered ? { ...first[n]!, status: 'failure' as const, userId: 'someone-else' } : first[n]!));
        const a = await postTransactions(first);
        expect(a.json()).toEqual({ accepted: first.length, duplicates: 0, rejected: [] });
        const second = [...replayed, ...fresh];
        const answers = await Promise.all((s.concurrent ? [second, second] : [second]).map((b) => postTransactions(b)));
        const totals = answers.map((r) => r.json() as { accepted: number; duplicates: number; rejected: unknown[] });
        for (const t of totals) expect(t.rejected).toEqual([]);
        expect(totals.reduce((n, t) => n + t.accepted, 0)).toBe(fresh.length);
        expect(totals.reduce((n, t) => n + t.duplicates, 0)).toBe(answers.length * second.length - fresh.length);
        await expectStoredExactly([...first, ...fresh]);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Headers

type HeaderValue = string | string[] | undefined;

/** A content-type Fastify can read as type/subtype (it refuses others with 415 before any parser runs). */
function wellFormedMediaType(value: string): boolean {
  const media = value.split(';')[0]!;
  const slash = media.indexOf('/');
  if (slash < 0) return false;
  const token = /^[\w!#$%&'*+.^`|~-]+$/;
  return token.test(media.slice(0, slash).trimStart()) && token.test(media.slice(slash + 1).trimEnd());
}

describe('random and hostile headers', () => {
  /** The answer a route gives once the headers let the request through: 400 naming a required field of an empty body, or a plain read. */
  function passes(op: Operation, res: LightMyRequestResponse): boolean {
    const json = jsonOf(res);
    if (op.body) return res.statusCode === 400 && (op.body.required ?? []).includes(String(json?.field));
    return [200, 404].includes(res.statusCode);
  }

  test.each(ROUTES)('%s: authorization and content-type variants are answered 400, 401, 403 or 415 naming the header, or let through', async (route) => {
    const op = ops.get(route)!;
    const key = keyOf.get(route);
    const others = [KEYS.ingest, KEYS.checkout, KEYS.operator, KEYS.admin].filter((k) => !allowed.get(route)?.has(k));
    const auth: fc.Arbitrary<{ value: HeaderValue; kind: 'ok' | 'bad' | 'other' | 'dup' }> = fc.oneof(
      fc.constantFrom('Bearer', 'bearer', 'BEARER').chain((scheme) => fc.constantFrom(' ', '  ', '\t').map((sp) => ({ value: key ? `${scheme}${sp}${key}` : undefined, kind: 'ok' as const }))),
      others.length > 0 ? fc.constantFrom(...others).map((k) => ({ value: `Bearer ${k}`, kind: 'other' as const })) : fc.constant({ value: undefined, kind: 'bad' as const }),
      fc
        .oneof(
          fc.constantFrom('', 'Bearer', 'Bearer ', `Basic ${key}`, `${key}`, `Bearer ${key} extra`, `Bearer ${key} `, `Bearer ${key}x`, `Bearer ${'x'.repeat(100_000)}`, 'Bearer {"$gt":""}', 'Bearer __proto__'),
          fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => `Bearer ${s.replace(/[\r\n]/g, '')}`),
        )
        .map((value) => ({ value, kind: 'bad' as const })),
      fc.constant({ value: undefined, kind: 'bad' as const }),
      fc.constantFrom<string[]>([`Bearer ${key}`, 'Bearer nope'], ['Bearer nope', `Bearer ${key}`], [`Bearer ${key}`, `Bearer ${key}`]).map((value) => ({ value, kind: 'dup' as const })),
    );
    const contentType: fc.Arbitrary<{ value: HeaderValue; json: boolean | 'dup' }> = fc.oneof(
      fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;', 'Application/Json; charset="utf-8"').map((value) => ({ value, json: true })),
      fc
        .oneof(
          fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/vnd.api+json', 'text/json', '*/*', ''),
          fc.string({ unit: 'binary-ascii', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, '')),
        )
        .filter((s) => s.split(';')[0]!.trim().toLowerCase() !== 'application/json')
        .map((value) => ({ value, json: false })),
      fc.constant({ value: undefined, json: false }),
      fc.constantFrom<string[]>(['application/json', 'text/plain'], ['application/json', 'application/json']).map((value) => ({ value, json: 'dup' as const })),
    );
    const noise = fc.dictionary(fc.constantFrom('x-forwarded-for', 'accept', 'x-request-id', 'cookie', 'origin', 'accept-encoding'), fc.string({ unit: 'binary-ascii', maxLength: 200 }).map((s) => s.replace(/[\r\n]/g, '')), { maxKeys: 3 });
    await fc.assert(
      fc.asyncProperty(auth, contentType, noise, async (a, ct, extra) => {
        const headers: Record<string, HeaderValue> = { ...extra };
        if (a.value !== undefined) headers.authorization = a.value;
        if (ct.value !== undefined) headers['content-type'] = ct.value;
        const url = op.path.replace(/\{[^}]+\}/g, 'dt_none') + (route === 'GET /v1/payment-options' ? '?userId=u1' : '');
        const res = await stack.app.inject({ method: op.method, url, headers: headers as Record<string, string>, ...(op.body ? { payload: Buffer.from('{}') } : {}) });
        const json = jsonOf(res);
        const what = `${route} authorization=${JSON.stringify(a.value)?.slice(0, 80)} content-type=${JSON.stringify(ct.value)} -> ${shown(res)}`;
        expect({ what, status: res.statusCode < 500 }).toEqual({ what, status: true });
        const dups = [...(a.kind === 'dup' ? ['authorization'] : []), ...(ct.json === 'dup' ? ['content-type'] : [])];
        let expected: string;
        if (dups.length > 0) expected = res.statusCode === 400 && dups.includes(String(json?.field)) ? 'ok' : `400 naming ${dups.join(' or ')}`;
        else if (op.secured && a.kind === 'bad') expected = res.statusCode === 401 && res.headers['www-authenticate'] === 'Bearer' && /API key/.test(String(json?.message)) ? 'ok' : '401 asking for a bearer API key';
        else if (op.secured && a.kind === 'other') expected = res.statusCode === 403 && /^requires role /.test(String(json?.message)) ? 'ok' : '403 naming the role';
        // Fastify reads the media type of any DELETE or POST, a bodyless one too, before a parser could ignore it.
        else if (!op.body && (op.method === 'DELETE' || op.method === 'POST') && typeof ct.value === 'string' && !wellFormedMediaType(ct.value))
          expected = res.statusCode === 415 && json?.field === 'content-type' ? 'ok' : '415 naming content-type';
        else if (op.body && !ct.json) expected = res.statusCode === 415 && json?.field === 'content-type' && /^content-type: expected application\/json/.test(String(json?.message)) ? 'ok' : '415 naming content-type';
        else expected = passes(op, res) ? 'ok' : 'let through to the route';
        expect({ what, expected }).toEqual({ what, expected: 'ok' });
        expect(await healthy(stack.app)).toBe(true);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Methods and paths no route serves

test('a path no route serves is answered 404 naming the method and the path; a method a served path does not take, 405 with Allow', async () => {
  const concrete = ROUTES.map((r) => r.split(' ')[1]!.replace(/\{[^}]+\}/g, 'dt_none'));
  const served = new Set(ROUTES.map((r) => `${r.split(' ')[0]} ${r.split(' ')[1]!.replace(/\{[^}]+\}/g, 'dt_none')}`));
  const method = fc.constantFrom('PATCH', 'OPTIONS', 'PROPFIND', 'TRACE', 'LOCK', 'SEARCH', 'PURGE', 'PUT', 'DELETE', 'POST', 'GET');
  const path = fc.oneof(
    fc.constantFrom(...concrete),
    fc.constantFrom('/', '/v2/transactions', '/v1', '/v1/', '/v1/transactions/x', '/admin', '/.env', '/v1/downtimes/x/delete', '/docs/../v1/catalog'),
    fc.stringMatching(/^\/[a-z0-9/_-]{0,30}$/),
  );
  await fc.assert(
    fc.asyncProperty(method, path, async (m, p) => {
      if (served.has(`${m} ${p}`) || p.startsWith('/docs') || (m === 'GET' && (p === '/healthz' || p === '/metrics'))) return;
      const res = await stack.app.inject({ method: m as 'GET', url: p, headers: bearer(KEYS.admin) });
      if (res.statusCode === 404 && jsonOf(res)?.message !== undefined && !/^Route /.test(String(jsonOf(res)?.message))) return; // a served path whose id is unknown
      const methods = [...new Set(ROUTES.filter((r) => r.split(' ')[1]!.replace(/\{[^}]+\}/g, 'dt_none') === p).map((r) => r.split(' ')[0]!))];
      if (methods.length > 0) {
        // Served with other methods: 405, and Allow lists them (HEAD beside GET).
        expect({ m, p, status: res.statusCode }).toEqual({ m, p, status: 405 });
        const allow = String(res.headers.allow).split(', ');
        for (const served of methods) expect(allow).toContain(served);
        expect(allow).not.toContain(m);
        return;
      }
      expect({ m, p, status: res.statusCode, message: jsonOf(res)?.message }).toEqual({ m, p, status: 404, message: expect.stringMatching(new RegExp(`^Route ${m}:`)) });
    }),
    { numRuns: RUNS },
  );
  expect(await healthy(stack.app)).toBe(true);
});
