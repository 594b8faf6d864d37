/**
 * Support for the bad-input suites: the API over the real database and Temporal (optionally with
 * a real worker, so manual downtimes run and their updates reach the workflow's validators), the
 * routes of the OpenAPI document as request models, fast-check arbitraries of valid and hostile
 * values, and `judge`, an independent reading of a route's JSON schema that says which fields of
 * a generated request are invalid, so a property can demand that a 400 names one of them.
 */
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ApiStack, startApiStack } from '../support/api-stack';
import { KEYS } from '../support/stack';

export { KEYS };

// ---------------------------------------------------------------------------------------------
// The stack

export type Stack = ApiStack;

/**
 * The real API on its own database and task queue. With `worker`, a real worker runs the
 * downtime workflows (short probe interval not needed: probes every 10 minutes keep it quiet).
 */
export function startStack(opts: { worker?: boolean; now?: () => number; env?: Record<string, string> } = {}): Promise<Stack> {
  return startApiStack({ ...opts, env: { PROBE_INTERVAL: '10m', DOWNTIME_EXPIRY: '2h', ...opts.env } });
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The JSON body of a response, or undefined when it is not JSON. */
export function jsonOf(res: LightMyRequestResponse): Record<string, unknown> | undefined {
  if (!/application\/json/.test(String(res.headers['content-type'] ?? ''))) return undefined;
  try {
    return res.json() as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The process still serves: the liveness route answers. */
export async function healthy(app: FastifyInstance): Promise<boolean> {
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  return res.statusCode === 200 && jsonOf(res)?.status === 'ok';
}

/** A short, readable account of a response for failure messages. */
export const shown = (res: LightMyRequestResponse) => `${res.statusCode} ${res.body.slice(0, 400)}`;

// ---------------------------------------------------------------------------------------------
// The routes of the OpenAPI document

export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  minProperties?: number;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  default?: unknown;
}

export interface Operation {
  /** "POST /v1/downtimes/{id}/extend" */
  route: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  params: { name: string; schema: JsonSchema }[];
  query: { name: string; schema: JsonSchema; required: boolean }[];
  body?: JsonSchema;
  secured: boolean;
}

interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { in: string; name: string; required?: boolean; schema: JsonSchema }[];
        requestBody?: { content: Record<string, { schema: JsonSchema }> };
        security?: unknown[];
      }
    >
  >;
}

/** Every operation of the OpenAPI document the app serves at /docs/json. */
export async function operations(app: FastifyInstance): Promise<Operation[]> {
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as OpenApiDoc;
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([m, op]) => ({
      route: `${m.toUpperCase()} ${path}`,
      method: m.toUpperCase() as Operation['method'],
      path,
      params: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: p.schema })),
      query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema, required: p.required === true })),
      body: op.requestBody?.content['application/json']?.schema,
      secured: (op.security ?? []).length > 0,
    })),
  );
}

// ---------------------------------------------------------------------------------------------
// judge: which fields of a value a schema refuses, reading the schema as the app's Ajv does
// (coerceTypes 'array' for query strings and path parameters, none for a JSON body, formats in
// "full" mode), independently of Ajv.

export type Path = string[];

/** Ajv's type coercion (coerceTypes: 'array', or none); undefined when the value cannot be coerced. */
function coerce(type: NonNullable<JsonSchema['type']>, value: unknown, coercing: boolean): { value: unknown } | undefined {
  const is = (v: unknown) =>
    type === 'object'
      ? v !== null && typeof v === 'object' && !Array.isArray(v)
      : type === 'array'
        ? Array.isArray(v)
        : type === 'integer'
          ? typeof v === 'number' && Number.isInteger(v)
          : typeof v === type;
  if (is(value)) return { value };
  if (!coercing) return undefined;
  // Ajv coerces to scalar types and, with coerceTypes 'array', to arrays; never to objects.
  if (type === 'object') return undefined;
  let v = value;
  if (type !== 'array' && Array.isArray(v) && v.length === 1) {
    v = v[0];
    if (is(v)) return { value: v };
  }
  const numeric = (s: string) => s !== '' && !Number.isNaN(Number(s));
  switch (type) {
    case 'string':
      if (typeof v === 'number' || typeof v === 'boolean') return { value: String(v) };
      if (v === null) return { value: '' };
      return undefined;
    case 'number':
      if (typeof v === 'boolean' || v === null || (typeof v === 'string' && numeric(v))) return { value: Number(v) };
      return undefined;
    case 'integer':
      if (typeof v === 'boolean' || v === null || (typeof v === 'string' && numeric(v) && Number(v) % 1 === 0)) return { value: Number(v) };
      return undefined;
    case 'boolean':
      if (v === 'false' || v === 0 || v === null) return { value: false };
      if (v === 'true' || v === 1) return { value: true };
      return undefined;
    case 'array':
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) return { value: [v] };
      return undefined;
    default:
      return undefined;
  }
}

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/** RFC 3339 date-time as ajv-formats checks it in "full" mode (time zone required). */
export function isDateTime(s: string): boolean {
  const parts = s.split(/t|\s/i);
  if (parts.length !== 2) return false;
  const d = /^(\d\d\d\d)-(\d\d)-(\d\d)$/.exec(parts[0]!);
  if (!d) return false;
  const [year, month, day] = [+d[1]!, +d[2]!, +d[3]!];
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && leap(year) ? 29 : DAYS[month]!))) return false;
  const t = /^(\d\d):(\d\d):(\d\d(?:\.\d+)?)(z|([+-])(\d\d)(?::?(\d\d))?)?$/i.exec(parts[1]!);
  if (!t) return false;
  const [hr, min, sec] = [+t[1]!, +t[2]!, +t[3]!];
  const sign = t[5] === '-' ? -1 : 1;
  const [tzH, tzM] = [+(t[6] ?? 0), +(t[7] ?? 0)];
  if (tzH > 23 || tzM > 59 || !t[4]) return false;
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  const utcMin = min - tzM * sign;
  const utcHr = hr - tzH * sign - (utcMin < 0 ? 1 : 0);
  return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && sec < 61;
}

const codePoints = (s: string) => [...s].length;

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export interface Verdict {
  /** Fields the schema refuses for sure. */
  invalid: Path[];
  /** Fields whose verdict depends on the order Ajv applies keywords in (uniqueItems before or after coercion). */
  unsure: Path[];
}

/**
 * Which fields of `value` the schema refuses. `value` is what the server receives (after JSON);
 * `coercing` is false for a JSON body, whose types are its own.
 */
export function judge(schema: JsonSchema, value: unknown, coercing: boolean, path: Path = [], verdict: Verdict = { invalid: [], unsure: [] }): Verdict {
  let v = value;
  if (schema.type) {
    const c = coerce(schema.type, v, coercing);
    if (!c) {
      verdict.invalid.push(path);
      return verdict;
    }
    v = c.value;
  }
  if (schema.enum && !schema.enum.some((e) => deepEqual(e, v))) verdict.invalid.push(path);
  if (typeof v === 'string') {
    const n = codePoints(v);
    const bad =
      (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(v)) ||
      (schema.minLength !== undefined && n < schema.minLength) ||
      (schema.maxLength !== undefined && n > schema.maxLength) ||
      (schema.format === 'date-time' && !isDateTime(v));
    if (bad) verdict.invalid.push(path);
  }
  if (typeof v === 'number') {
    const bad =
      (schema.minimum !== undefined && v < schema.minimum) ||
      (schema.maximum !== undefined && v > schema.maximum) ||
      (schema.exclusiveMinimum !== undefined && v <= schema.exclusiveMinimum) ||
      (schema.exclusiveMaximum !== undefined && v >= schema.exclusiveMaximum);
    if (bad) verdict.invalid.push(path);
  }
  if (Array.isArray(v)) {
    if ((schema.minItems !== undefined && v.length < schema.minItems) || (schema.maxItems !== undefined && v.length > schema.maxItems)) verdict.invalid.push(path);
    const items = schema.items ?? {};
    const coerced = v.map((item, i) => {
      judge(items, item, coercing, [...path, String(i)], verdict);
      return items.type ? (coerce(items.type, item, coercing)?.value ?? item) : item;
    });
    if (schema.uniqueItems) {
      const dup = (xs: unknown[]) => xs.some((x, i) => xs.slice(0, i).some((y) => deepEqual(x, y)));
      const before = dup(v);
      const after = dup(coerced);
      if (before && after) verdict.invalid.push(path);
      else if (before !== after) verdict.unsure.push(path);
    }
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!Object.hasOwn(o, key)) verdict.invalid.push([...path, key]);
    for (const [key, inner] of Object.entries(o)) {
      const sub = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
      if (sub) judge(sub, inner, coercing, [...path, key], verdict);
      else if (schema.additionalProperties === false) verdict.invalid.push([...path, key]);
    }
    if (schema.minProperties !== undefined && Object.keys(o).length < schema.minProperties) verdict.invalid.push(path);
  }
  return verdict;
}

/** How the app names a field: the dotted path, or the part ("body", "querystring") for the whole. */
export const fieldName = (path: Path, part: 'body' | 'querystring' | 'params') => (path.length > 0 ? path.map((s) => (s === '' ? '""' : s)).join('.') : part);

/** No lone surrogate (String.prototype.isWellFormed is newer than the project's lib). */
export const wellFormed = (s: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

/** Paths of keys that could reach a prototype: "__proto__", or "constructor" holding "prototype". */
export function pollutingPaths(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  if (value === null || typeof value !== 'object') return out;
  for (const [key, inner] of Object.entries(value)) {
    if (key === '__proto__') out.push([...path, key]);
    else if (key === 'constructor' && inner !== null && typeof inner === 'object' && Object.hasOwn(inner, 'prototype')) out.push([...path, key, 'prototype']);
    pollutingPaths(inner, [...path, key], out);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Values

/** Objects a MongoDB query would read as operators. */
export const OPERATOR_OBJECTS: Record<string, unknown>[] = [{ $where: 'sleep(1000)' }, { $gt: '' }, { $ne: null }, { $regex: '.*' }, { $in: ['a'] }, { $exists: true }];

/** Strings that break naive code: NUL, lone surrogates, direction overrides, injections, separators. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202eevil',
  '\ufeff',
  '😀👍🏽',
  '\\',
  '"',
  "'; DROP TABLE x; --",
  '$where',
  '$gt',
  'a.b',
  '{"$gt":""}',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '%00',
  '%E0%A4%A',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'NaN',
  'null',
  'undefined',
  '-1',
  '1e309',
  '\r\nX-Injected: 1',
];

/** Keys that are not fields of anything: operators, dotted paths, names of Object.prototype members. */
export const HOSTILE_KEYS = ['$where', '$gt', 'a.b', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'id ', 'ID'];

/** An object with an own "__proto__" key (a literal would set the prototype instead). */
export function withOwnKey(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out = { ...base };
  Object.defineProperty(out, key, { value, enumerable: true, configurable: true, writable: true });
  return out;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Date-times: well-formed ones across the whole range, and malformed or impossible ones. */
export function dateTimeArb(now: number): fc.Arbitrary<string> {
  const iso = (ms: number) => new Date(ms).toISOString();
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -30 * DAY, max: 365 * DAY }).map((d) => iso(now + d)) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 600 * MINUTE }).map((d) => iso(now + d).replace('Z', '+00:00')) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '9999-12-31T23:59:59Z',
        '1970-01-01T00:00:00Z',
        '0001-01-01T00:00:00Z',
        '2024-02-30T10:00:00Z',
        '2024-02-29T10:00:00Z',
        '2023-02-29T10:00:00Z',
        '2024-13-01T00:00:00Z',
        '2024-11-11T25:00:00Z',
        '2024-11-11T10:00:00',
        '2024-11-11',
        '2099-12-31T23:59:60Z',
        '2099-06-30T10:00:00+05',
        '2099-06-30T10:00:00+0530',
        '2099-06-30 10:00:00Z',
        '2099-06-30t10:00:00z',
        '2099-06-30T10:00:00.123456789Z',
        '2099-06-30T10:00:00+24:00',
        '+275760-09-13T00:00:00Z',
        'NaN',
        'yesterday',
        'now',
        '',
      ),
    },
  );
}

export interface ValueOptions {
  now: number;
  /** Values for a field, by its dotted path ("transactions.*" for items), instead of ones drawn from its schema. */
  overrides?: Record<string, fc.Arbitrary<unknown>>;
  /** The same, for values the route must accept. */
  clean?: Record<string, fc.Arbitrary<unknown>>;
  /** Probability-ish weights: how often a value is replaced by a hostile one. */
  hostileWeight?: number;
}

/** Any JSON value, small, hostile keys and strings included. */
export const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom(...OPERATOR_OBJECTS),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...HOSTILE_KEYS)), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** Values of the wrong type for a schema, which no coercion turns into the right one. */
function wrongTypeArb(schema: JsonSchema): fc.Arbitrary<unknown> {
  const objects = fc.oneof(fc.constantFrom(...OPERATOR_OBJECTS), fc.constant({}), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { minKeys: 1, maxKeys: 2 }));
  const twoOrMore = fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { minLength: 2, maxLength: 4 });
  if (schema.type === 'object') return fc.oneof(twoOrMore, fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null), fc.constant([]));
  if (schema.type === 'array') return objects;
  return fc.oneof(objects, twoOrMore);
}

/** Valid-looking values drawn from a schema, mixed with hostile and wrong-typed ones. */
export function valueArb(schema: JsonSchema, opts: ValueOptions, path: Path = []): fc.Arbitrary<unknown> {
  const override = opts.overrides?.[path.join('.')];
  const fromSchema = override ?? validArb(schema, opts, path);
  const hostile = fc.oneof(
    wrongTypeArb(schema),
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    anyJson,
  );
  return fc.oneof({ weight: 6, arbitrary: fromSchema }, { weight: opts.hostileWeight ?? 2, arbitrary: hostile });
}

function stringArb(schema: JsonSchema, opts: ValueOptions): fc.Arbitrary<string> {
  if (schema.enum) return fc.constantFrom(...(schema.enum as string[]));
  if (schema.format === 'date-time') return dateTimeArb(opts.now);
  if (schema.pattern) {
    const re = new RegExp(schema.pattern);
    return fc.oneof({ weight: 5, arbitrary: fc.stringMatching(re) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 70 }) });
  }
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 100;
  return fc.oneof(
    { weight: 5, arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 40) }) },
    { weight: 1, arbitrary: fc.constantFrom(max, max + 1).map((n) => 'é'.repeat(n)) },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  );
}

function numberArb(schema: JsonSchema): fc.Arbitrary<number> {
  const lo = schema.minimum ?? schema.exclusiveMinimum ?? -1e6;
  const hi = schema.maximum ?? schema.exclusiveMaximum ?? 1e6;
  const edges = [lo, hi, lo - 1, hi + 1, 0, -0.5, 0.5, Number.MAX_SAFE_INTEGER, -1e308, 1e308, Number.MIN_VALUE];
  const inside = schema.type === 'integer' ? fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) }) : fc.double({ min: lo, max: hi, noNaN: true });
  return fc.oneof({ weight: 5, arbitrary: inside }, { weight: 2, arbitrary: fc.constantFrom(...edges) });
}

function validArb(schema: JsonSchema, opts: ValueOptions, path: Path): fc.Arbitrary<unknown> {
  switch (schema.type) {
    case 'string':
      return stringArb(schema, opts);
    case 'integer':
    case 'number':
      return numberArb(schema);
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const items = schema.items ?? {};
      const max = Math.min(schema.maxItems ?? 5, 5);
      const item = valueArb(items, opts, [...path, '*']);
      return fc.oneof(
        { weight: 6, arbitrary: fc.array(item, { minLength: schema.minItems ?? 0, maxLength: max }) },
        { weight: 1, arbitrary: fc.array(item, { maxLength: 1 }) },
        { weight: 1, arbitrary: schema.maxItems !== undefined ? fc.constant(schema.maxItems + 1).chain((n) => fc.array(item, { minLength: n, maxLength: n })) : fc.array(item, { maxLength: 1 }) },
      );
    }
    case 'object': {
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const fields = Object.fromEntries(
        Object.entries(props).map(([key, sub]) => [
          key,
          fc.option(valueArb(sub, opts, [...path, key]), { nil: undefined, freq: required.has(key) ? 12 : 3 }),
        ]),
      );
      const extra = fc.option(
        fc.tuple(fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ minLength: 1, maxLength: 8 })), anyJson, fc.constantFrom('plain', '__proto__', 'constructor')),
        { nil: undefined, freq: 6 },
      );
      return fc.record(fields).chain((record) =>
        extra.map((x) => {
          const out: Record<string, unknown> = {};
          for (const [k, val] of Object.entries(record)) if (val !== undefined) out[k] = val;
          if (!x) return out;
          const [key, val, kind] = x;
          if (kind === '__proto__') return withOwnKey(out, '__proto__', { polluted: true });
          if (kind === 'constructor') return withOwnKey(out, 'constructor', { prototype: { polluted: true } });
          return withOwnKey(out, key, val);
        }),
      );
    }
    default:
      return anyJson;
  }
}

/** Values the schema accepts (the route's own rules may still refuse some). */
export function cleanArb(schema: JsonSchema, opts: ValueOptions, path: Path = []): fc.Arbitrary<unknown> {
  const override = opts.clean?.[path.join('.')];
  if (override) return override;
  switch (schema.type) {
    case 'string': {
      if (schema.enum) return fc.constantFrom(...(schema.enum as string[]));
      if (schema.format === 'date-time') {
        return fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 10 * MINUTE, max: 365 * DAY }).map((d) => new Date(Date.now() + d).toISOString()) },
          { weight: 1, arbitrary: fc.integer({ min: 10 * MINUTE, max: 30 * DAY }).map((d) => new Date(Date.now() - d).toISOString()) },
          { weight: 1, arbitrary: fc.constantFrom('9999-12-31T23:59:59Z', '1970-01-01T00:00:00Z', '2099-12-31T23:59:60Z', '2099-06-30T10:00:00+05', '2099-06-30 10:00:00Z') },
        );
      }
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      const max = Math.min(schema.maxLength ?? 60, 60);
      return fc
        .string({ unit: 'binary', minLength: Math.max(schema.minLength ?? 0, 1), maxLength: max })
        .filter((x) => wellFormed(x) && x.trim() !== '' && [...x].length <= max);
    }
    case 'integer':
      return fc.integer({ min: Math.ceil(schema.minimum ?? -1e6), max: Math.floor(schema.maximum ?? 1e6) });
    case 'number':
      return fc.double({
        min: schema.minimum ?? schema.exclusiveMinimum ?? -1e6,
        max: schema.maximum ?? schema.exclusiveMaximum ?? 1e6,
        minExcluded: schema.exclusiveMinimum !== undefined,
        maxExcluded: schema.exclusiveMaximum !== undefined,
        noNaN: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const item = cleanArb(schema.items ?? {}, opts, [...path, '*']);
      const constraints = { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) };
      return schema.uniqueItems ? fc.uniqueArray(item, { ...constraints, comparator: (a, b) => JSON.stringify(a) === JSON.stringify(b) }) : fc.array(item, constraints);
    }
    case 'object': {
      const props = schema.properties ?? {};
      const fields = Object.fromEntries(Object.entries(props).map(([key, sub]) => [key, cleanArb(sub, opts, [...path, key])]));
      const record = fc.record(fields, { requiredKeys: schema.required ?? [] }) as fc.Arbitrary<Record<string, unknown>>;
      return schema.minProperties ? record.filter((r) => Object.keys(r).length >= schema.minProperties!) : record;
    }
    default:
      return anyJson;
  }
}

/** Every path inside a JSON value, the root included. */
function pathsOf(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...path, k], out);
  return out;
}

type Mutation = { kind: 'replace'; value: unknown } | { kind: 'delete' } | { kind: 'add'; key: string; value: unknown };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.oneof(fc.constantFrom(...OPERATOR_OBJECTS), fc.constantFrom(...HOSTILE_STRINGS), anyJson, fc.constant(['a', 'b']), fc.constant('x'.repeat(2001))).map((value): Mutation => ({ kind: 'replace', value })) },
  { weight: 1, arbitrary: fc.constant<Mutation>({ kind: 'delete' }) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.tuple(fc.constantFrom(...HOSTILE_KEYS), anyJson).map(([key, value]): Mutation => ({ kind: 'add', key, value })),
      fc.constant<Mutation>({ kind: 'add', key: '__proto__', value: { polluted: true } }),
      fc.constant<Mutation>({ kind: 'add', key: 'constructor', value: { prototype: { polluted: true } } }),
    ),
  },
);

function mutate(value: unknown, path: Path, m: Mutation): unknown {
  if (path.length === 0) {
    if (m.kind === 'replace') return m.value;
    if (m.kind === 'add' && value !== null && typeof value === 'object' && !Array.isArray(value)) return withOwnKey(value as Record<string, unknown>, m.key, m.value);
    return m.kind === 'delete' ? undefined : value;
  }
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(value)) {
    const copy = [...value];
    const inner = mutate(copy[Number(head)], rest, m);
    if (inner === undefined && rest.length === 0) copy.splice(Number(head), 1);
    else copy[Number(head)] = inner;
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  const inner = mutate(copy[head], rest, m);
  if (inner === undefined) delete copy[head];
  else Object.defineProperty(copy, head, { value: inner, enumerable: true, configurable: true, writable: true });
  return copy;
}

/** A clean value with one thing wrong (or, by chance, still right): a field replaced, removed or added. */
export function mutatedArb(clean: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return clean.chain((v) => fc.tuple(fc.constantFrom(...pathsOf(v)), mutationArb).map(([p, m]) => mutate(v, p, m)));
}

/** Clean values, clean values with one thing wrong, and wild ones. */
export function requestValueArb(schema: JsonSchema, opts: ValueOptions): fc.Arbitrary<unknown> {
  const clean = cleanArb(schema, opts);
  return fc.oneof({ weight: 4, arbitrary: clean }, { weight: 4, arbitrary: mutatedArb(clean) }, { weight: 2, arbitrary: valueArb(schema, opts) });
}

// ---------------------------------------------------------------------------------------------
// Transactions

export const ID_RE = /^[A-Za-z0-9_:.-]{1,128}$/;
export const METHOD_RE = /^[a-z0-9_]{1,40}:[a-z0-9_]{1,60}$/;
export const GATEWAY_RE = /^[a-z0-9_-]{1,60}$/;
export const ERROR_CODE_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
export const TX_FIELDS = ['id', 'userId', 'method', 'gateway', 'status', 'errorCode', 'at'] as const;

export interface TxRecord {
  id: string;
  userId: string;
  method: string;
  gateway: string;
  status: 'success' | 'failure';
  errorCode?: string | null;
  at?: string;
}

/** A record the ingest must accept: well-formed ids, any method or gateway (catalogued or not), `at` within the retention. */
export function validTxArb(now: number, retentionMs: number): fc.Arbitrary<Omit<TxRecord, 'id'>> {
  return fc.record(
    {
      userId: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }), fc.constantFrom('u1', '\u0000', '😀', '$where', 'a.b', '{"$gt":""}')).filter((s) => s.length >= 1 && s.length <= 128 && wellFormed(s)),
      method: fc.oneof(fc.constantFrom('upi:gpay', 'card:hdfc_debit', 'netbanking:sbi', 'upi:never_catalogued_bank'), fc.stringMatching(METHOD_RE)),
      gateway: fc.oneof(fc.constantFrom('razorpay', 'payu', 'unknown-gateway_9'), fc.stringMatching(GATEWAY_RE)),
      status: fc.constantFrom('success' as const, 'failure' as const),
      errorCode: fc.oneof(
        fc.constantFrom('GATEWAY_TIMEOUT', 'INSUFFICIENT_FUNDS', 'INVALID_OTP', 'USER_CANCELLED', 'ISSUER_DOWN', null),
        fc.stringMatching(ERROR_CODE_RE),
      ),
      at: fc.option(
        fc.integer({ min: now - retentionMs + 10 * MINUTE, max: now + 4 * MINUTE }).map((ms) => new Date(ms).toISOString()),
        { nil: undefined },
      ),
    },
    { requiredKeys: ['userId', 'method', 'gateway', 'status'] },
  );
}

/** Keys that only broken records carry: none may appear in a stored document. */
export const BREAKING_KEYS = ['amount', 'constructor', 'prototype', 'toString', 'ID', 'Id', 'user_id', ' id', '$where', '$gt', 'meta.x', 'meta', 'a.b.c', 'a', '__proto__'];

/** One way to break a record, and the field the rejection must name. */
export interface Breakage {
  field: string;
  apply(record: Record<string, unknown>): unknown;
}

const set = (field: string, value: unknown): Breakage => ({ field, apply: (r) => ({ ...r, [field]: value }) });

/** Each breaks exactly one thing, so the rejection must name exactly that field. */
export function breakageArb(now: number): fc.Arbitrary<Breakage> {
  const wrong = (field: string) =>
    fc.oneof(fc.constant(42), fc.constant(true), fc.constant(null), fc.constant([]), fc.constant(['x', 'y'])).map((v) => set(field, v));
  const operator = (field: string) => fc.constantFrom(...OPERATOR_OBJECTS).map((op) => ({ field: `${field}.${Object.keys(op)[0]}`, apply: (r: Record<string, unknown>) => ({ ...r, [field]: op }) }));
  return fc.oneof(
    fc.constantFrom(null, 5, 'a record', [1, 2], true).map((v): Breakage => ({ field: 'transaction', apply: () => v })),
    fc.constantFrom(...BREAKING_KEYS.slice(0, 8)).map((k): Breakage => ({ field: k, apply: (r) => withOwnKey(r, k, 1) })),
    fc.constantFrom('$where', '$gt', 'meta.x', 'a.b.c').map((k): Breakage => ({ field: k, apply: (r) => withOwnKey(r, k, 'sleep(1000)') })),
    ...TX_FIELDS.filter((f) => f !== 'errorCode' && f !== 'at').map(operator),
    ...TX_FIELDS.filter((f) => f !== 'errorCode' && f !== 'at').map(wrong),
    fc.constantFrom('', 'x'.repeat(129), 'has space', 'ünï', 'a/b', 'a\u0000').map((v) => set('id', v)),
    fc.constantFrom('', 'u'.repeat(129)).map((v) => set('userId', v)),
    fc.constantFrom('gpay', 'UPI:gpay', 'upi:', ':gpay', 'upi:gpay:x', 'upi:g pay', `upi:${'x'.repeat(61)}`, 'upi:gpay\n').map((v) => set('method', v)),
    fc.constantFrom('', 'PayU', 'pay u', 'x'.repeat(61), 'payu\n', 'pay.u').map((v) => set('gateway', v)),
    fc.constantFrom('SUCCESS', 'pending', 'ok', '', 'failed').map((v) => set('status', v)),
    fc.constantFrom(42, true, '', 'has space', 'x'.repeat(65), { $gt: '' }, ['A']).map((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? { field: 'errorCode.$gt', apply: (r: Record<string, unknown>) => ({ ...r, errorCode: v }) } : set('errorCode', v))),
    fc
      .constantFrom(
        '9999-12-31T23:59:59Z',
        '1970-01-01T00:00:00Z',
        'NaN',
        'yesterday',
        '2024-11-11',
        '2024-11-11T25:00:00Z',
        new Date(now + 10 * MINUTE).toISOString(),
        new Date(now - 30 * DAY).toISOString(),
        '',
      )
      .map((v) => set('at', v)),
    fc.constantFrom(null, 1_700_000_000_000, true, {}, []).map((v) => set('at', v)),
  );
}
