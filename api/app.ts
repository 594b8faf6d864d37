/**
 * The HTTP API: Fastify with JSON-schema validation, pino logs (keys redacted), Prometheus
 * metrics and an OpenAPI document at /docs. `buildApp` takes its dependencies so tests can
 * `inject` and the process entry point (api/main.ts) wires the real ones.
 */
import Fastify, { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, LogController } from 'fastify';
import { AjvCompiler, type ValidatorFactory } from '@fastify/ajv-compiler';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import type { Config } from '../common/config';
import { REDACT_PATHS } from '../common/logger';
import { CHANNELS, type Database } from '../db/mongo';
import { BodyError, parseJsonBody } from './json-body';
import { KeyRing } from './auth';
import { ApiError, ERROR_SCHEMA } from './errors';
import { ANSWER_SCHEMAS } from './answers';
import { declaredAnswers, finishDocument } from './openapi';
import { isDatabaseUnavailable, sendDatabaseUnavailable } from './ingest';
import { Metrics } from './metrics';
import { downtimeRoutes } from './routes/downtimes';
import { transactionRoutes } from './routes/transactions';
import { paymentOptionRoutes } from './routes/payment-options';
import { catalogRoutes } from './routes/catalog';
import { statusRoutes } from './routes/status';
import { adminRoutes } from './routes/admin';
import { integrationRoutes } from './routes/integrations';
import { Snapshot } from './snapshot';

export interface AppDeps {
  config: Config;
  db: Database;
  temporal: Client;
  keys: KeyRing;
  now?: () => number;
  metrics?: Metrics;
  /** The checkout's in-memory snapshot; created (and started, and stopped on close) when absent. */
  snapshot?: Snapshot;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: Required<AppDeps>;
  }
}

/**
 * Validators per part of the request, on Fastify's own Ajv compiler. Query strings and path
 * parameters arrive as text, so their values are coerced to the schema's types ("limit=5" is 5).
 * A JSON body carries its own types: `"percent": "50"` or `"planned": "true"` is refused, naming
 * the field, instead of being read as 50 or true (and `"priority": ""` as 0).
 */
const typedWhereJson = (externalSchemas: Record<string, unknown>, options?: { customOptions?: Record<string, unknown> }) => {
  // @fastify/ajv-compiler's types describe the compiled function as taking a bare schema; at run
  // time it takes the route's { schema, method, url, httpPart }, as Fastify calls it.
  const build = AjvCompiler() as unknown as (external: Record<string, unknown>, opts: object) => (route: { httpPart?: string }) => unknown;
  const customOptions = options?.customOptions ?? {};
  const fromText = build(externalSchemas, { ...options, customOptions: { ...customOptions, coerceTypes: 'array' } });
  const fromJson = build(externalSchemas, { ...options, customOptions: { ...customOptions, coerceTypes: false } });
  return (route: { httpPart?: string }) => (route.httpPart === 'body' ? fromJson : fromText)(route);
};

const BODY_LIMIT = 1024 * 1024;
/** Fastify's default, said explicitly: path parameters here are ids of at most 64 characters. */
const MAX_PARAM_LENGTH = 100;

/** Refusals of a body before it reaches a route's schema, in the API's shape: the field and why. */
const BODY_ERRORS: Record<string, { status: number; error: string; field: string; detail: (contentType: string | undefined) => string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, error: 'payload_too_large', field: 'body', detail: () => `too large: the limit is ${BODY_LIMIT} bytes (1 MiB)` },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    error: 'unsupported_media_type',
    field: 'content-type',
    detail: (type) => `expected application/json${type ? `, got ${JSON.stringify(type.slice(0, 100))}` : ', got none'}`,
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, error: 'bad_request', field: 'content-length', detail: () => 'does not match the body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, error: 'bad_request', field: 'body', detail: () => 'empty, but content-type is application/json' },
};

/** A body in another type than JSON, for a route that takes one. */
class UnsupportedMediaType extends Error {
  readonly statusCode = 415;
  readonly code = 'FST_ERR_CTP_INVALID_MEDIA_TYPE';
}

const SINGLETON_HEADERS = new Set(['authorization', 'content-type']);

/** The first header that may appear once but was sent several times. */
function repeatedSingletonHeader(raw: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!SINGLETON_HEADERS.has(name)) continue;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

/**
 * The request field a schema validation error is about, as a dotted path: "userId",
 * "methods.0.gateways" (missing), "scope.region" (not allowed); the part ("body") when the
 * error is about the whole of it.
 */
function validationField(err: FastifyError): string {
  const first = err.validation?.[0];
  const part = err.validationContext ?? 'body';
  if (!first) return part;
  const segments = first.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = first.params as { missingProperty?: string; additionalProperty?: string };
  if (first.keyword === 'required' && params.missingProperty !== undefined) segments.push(params.missingProperty);
  if (first.keyword === 'additionalProperties' && params.additionalProperty !== undefined) segments.push(params.additionalProperty);
  return segments.length > 0 ? segments.map((s) => (s === '' ? '""' : s)).join('.') : part;
}

export async function buildApp(deps: AppDeps, options: { logStream?: { write(line: string): void } } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: deps.config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, ...(options.logStream ? { stream: options.logStream } : {}) },
    // An access-log line per request at info level costs the checkout's hot path a third of its
    // throughput (bench/results/payment-options.json); requests are logged at debug level below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The router's own refusals (a malformed percent-escape, an over-long path parameter) in the API's shape.
    frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        void reply.code(414).send({ error: 'uri_too_long', field: 'params', message: `params: a path parameter is longer than ${MAX_PARAM_LENGTH} characters` });
      } else if (err.code === 'FST_ERR_BAD_URL') {
        void reply.code(400).send({ error: 'bad_request', field: 'url', message: 'url: not a valid percent-encoded path' });
      } else {
        void reply.code(400).send({ error: 'bad_request', message: err.message });
      }
    },
    // strictNumbers off: with it (Ajv's default) a string coerced to Infinity ("limit=1e309") skips
    // minimum/maximum and reached MongoDB as a 500; without it Infinity is a number that every
    // numeric field's bounds refuse (every numeric field here has bounds).
    ajv: { customOptions: { removeAdditional: false, allErrors: false, strictNumbers: false } },
    schemaController: { compilersFactory: { buildValidator: typedWhereJson as unknown as ValidatorFactory } },
  });
  const base = { now: Date.now, metrics: new Metrics(), ...deps };
  const full: Required<AppDeps> = {
    ...base,
    snapshot: deps.snapshot ?? new Snapshot({ db: base.db, config: base.config, metrics: base.metrics, now: base.now, log: app.log }),
  };
  app.decorate('deps', full);

  await app.register(swagger, {
    openapi: {
      // 3.1: the schemas are JSON Schema as Ajv validates them (numeric exclusiveMinimum and the like), which 3.0 does not allow.
      openapi: '3.1.0',
      info: { title: 'Payment downtime orchestrator', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: ({ schema, url, route }) => ({ schema: declaredAnswers(schema, url, route), url }),
    transformObject: (documents) => ('openapiObject' in documents ? finishDocument(documents.openapiObject as Parameters<typeof finishDocument>[0]) : documents.swaggerObject),
    // Shared schemas keep their $id as their component's name ("Error", not "def-0").
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // Every refusal's body: the OpenAPI document's Error component.
  app.addSchema(ERROR_SCHEMA);
  // Every success body's shape (declared in the document; see api/answers.ts).
  for (const schema of ANSWER_SCHEMAS) app.addSchema(schema);

  // A JSON body is parsed here rather than by Fastify's default parser so a refusal names the
  // offending key ("transactions.0.__proto__") instead of calling the body invalid JSON. Routes
  // that take a body take JSON only (415 otherwise); routes that take none ignore whatever comes.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  const takesBody = (req: FastifyRequest) => req.routeOptions.schema?.body !== undefined;
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' && !takesBody(req)) return done(null, undefined);
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, _body, done) => {
    if (!takesBody(req)) return done(null, undefined);
    done(new UnsupportedMediaType(), undefined);
  });

  // A method a known path does not serve is 405 with the methods it does (Allow), not 404.
  const served: { pattern: RegExp; method: string }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);
    for (const method of [route.method].flat()) served.push({ pattern, method });
  });
  const unrouted = (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!;
    const allowed = [...new Set(served.filter((r) => r.pattern.test(path)).map((r) => r.method))].sort();
    if (allowed.length === 0) return reply.code(404).send({ error: 'not_found', message: `Route ${req.method}:${path} not found` });
    return reply.code(405).header('allow', allowed.join(', ')).send({ error: 'method_not_allowed', message: `${req.method} is not served on ${path}; allowed: ${allowed.join(', ')}` });
  };
  app.setNotFoundHandler(unrouted);

  // The hooks every request runs are callback-style, not async: an async hook costs a promise
  // and a microtask per request on the checkout's hot path.
  app.addHook('onRequest', (req, _reply, done) => {
    req.log.debug({ req }, 'incoming request');
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    req.log.debug({ method: req.method, url: req.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request completed');
    done();
  });

  // Node keeps the first of repeated headers; a proxy may keep the last. Refuse the ambiguity.
  app.addHook('onRequest', (req, reply, done) => {
    const repeated = repeatedSingletonHeader(req.raw.rawHeaders);
    if (!repeated) return done();
    void reply.code(400).send({ error: 'bad_request', field: repeated, message: `${repeated}: sent more than once` });
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    // A request no route serves fails before the not-found handler when its body cannot be read
    // (QUERY without a content type): it is still a 404, or a 405 on a served path.
    if (req.is404) return unrouted(req, reply);
    // What routes and services throw: the one mapping from the API's errors to answers.
    if (err instanceof ApiError) {
      if (err.status >= 500) req.log.warn({ err: err.message }, 'dependency unavailable');
      return reply.code(err.status).headers(err.headers).send(err.body);
    }
    if (err.validation) {
      const first = err.validation[0];
      const field = validationField(err);
      const detail = !first ? err.message : first.keyword === 'required' ? 'is required' : first.keyword === 'additionalProperties' ? 'is not a known field' : first.message;
      return reply.code(400).send({ error: 'bad_request', field, message: `${field}: ${detail}` });
    }
    // An unreachable database is the client's cue to retry, on every route.
    if (isDatabaseUnavailable(err)) return sendDatabaseUnavailable(reply, err);
    const body = BODY_ERRORS[err.code];
    if (body) return reply.code(body.status).send({ error: body.error, field: body.field, message: `${body.field}: ${body.detail(req.headers['content-type'])}` });
    if (err instanceof BodyError) return reply.code(400).send({ error: 'bad_request', field: err.field, message: err.message });
    if (err.statusCode && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.code ?? 'bad_request', message: err.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    // Delivery outcomes live in the outbox the worker's dispatcher works through.
    try {
      for (const channel of CHANNELS) {
        for (const status of ['pending', 'delivered'] as const) {
          full.metrics.outboxDeliveries.set({ channel, status }, await full.db.c.deliveries.countDocuments({ channel, status }));
        }
      }
    } catch (err) {
      req.log.warn({ err: err instanceof Error ? err.message : err }, 'outbox delivery counts unavailable');
    }
    reply.header('content-type', full.metrics.registry.contentType);
    return full.metrics.registry.metrics();
  });

  await app.register(downtimeRoutes);
  await app.register(transactionRoutes);
  await app.register(paymentOptionRoutes);
  await app.register(catalogRoutes);
  await app.register(statusRoutes);
  await app.register(adminRoutes);
  await app.register(integrationRoutes);

  app.addHook('onClose', async () => full.snapshot.stop());
  await full.snapshot.start();
  return app;
}
