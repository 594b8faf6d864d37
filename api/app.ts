/**
 * The HTTP API: Fastify with JSON-schema validation, pino logs (keys redacted), Prometheus
 * metrics and an OpenAPI document at /docs. `buildApp` takes its dependencies so tests can
 * `inject` and the process entry point (api/main.ts) wires the real ones.
 */
import Fastify, { FastifyError, FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import type { Config } from '../common/config';
import { REDACT_PATHS } from '../common/logger';
import type { Database } from '../db/mongo';
import { KeyRing } from './auth';
import { isDatabaseUnavailable, sendDatabaseUnavailable } from './ingest';
import { Metrics } from './metrics';
import { downtimeRoutes } from './routes/downtimes';
import { transactionRoutes } from './routes/transactions';
import { paymentOptionRoutes } from './routes/payment-options';
import { catalogRoutes } from './routes/catalog';
import { statusRoutes } from './routes/status';
import { adminRoutes } from './routes/admin';
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

export async function buildApp(deps: AppDeps, options: { logStream?: { write(line: string): void } } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: deps.config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, ...(options.logStream ? { stream: options.logStream } : {}) },
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  const base = { now: Date.now, metrics: new Metrics(), ...deps };
  const full: Required<AppDeps> = {
    ...base,
    snapshot: deps.snapshot ?? new Snapshot({ db: base.db, config: base.config, metrics: base.metrics, now: base.now, log: app.log }),
  };
  app.decorate('deps', full);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Payment downtime orchestrator', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      const first = err.validation[0];
      const field = first ? `${first.instancePath.replace(/^\//, '').replace(/\//g, '.') || (first.params as { missingProperty?: string }).missingProperty || err.validationContext}` : err.validationContext;
      return reply.code(400).send({ error: 'bad_request', field, message: `${field}: ${first?.message ?? err.message}` });
    }
    // An unreachable database is the client's cue to retry, on every route.
    if (isDatabaseUnavailable(err)) return sendDatabaseUnavailable(reply, err);
    if (err.statusCode && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.code ?? 'bad_request', message: err.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    // Webhook delivery outcomes live in the outbox the worker's dispatcher works through.
    try {
      for (const status of ['pending', 'delivered'] as const) {
        full.metrics.webhookDeliveries.set({ status }, await full.db.c.deliveries.countDocuments({ status }));
      }
    } catch (err) {
      req.log.warn({ err: err instanceof Error ? err.message : err }, 'webhook delivery counts unavailable');
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

  app.addHook('onClose', async () => full.snapshot.stop());
  await full.snapshot.start();
  return app;
}
