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
import { Metrics } from './metrics';
import { downtimeRoutes } from './routes/downtimes';

export interface AppDeps {
  config: Config;
  db: Database;
  temporal: Client;
  keys: KeyRing;
  now?: () => number;
  metrics?: Metrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: Required<AppDeps>;
  }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: deps.config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  const full: Required<AppDeps> = { now: Date.now, metrics: new Metrics(), ...deps };
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
    if (err.statusCode && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.code ?? 'bad_request', message: err.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', full.metrics.registry.contentType);
    return full.metrics.registry.metrics();
  });

  await app.register(downtimeRoutes);
  return app;
}
