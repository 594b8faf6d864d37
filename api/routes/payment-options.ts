/**
 * `GET /v1/payment-options?userId=U`: the checkout's hot path. Answered from the in-memory
 * snapshot only, so it neither waits on nor fails with MongoDB or Temporal.
 */
import type { FastifyInstance } from 'fastify';
import { requireRole } from '../auth';

const optionSchema = {
  type: 'object',
  properties: {
    method: { type: 'string' },
    mode: { type: 'string' },
    gateway: { type: 'string' },
    state: { type: 'string', enum: ['available', 'probe'] },
    warning: { type: 'string' },
  },
} as const;

export async function paymentOptionRoutes(app: FastifyInstance): Promise<void> {
  const { keys, metrics, snapshot } = app.deps;

  // Typed by route generics rather than the schema type provider: the answer is the snapshot's
  // serialized JSON (a string), which the provider would check against the response schema's object.
  app.get<{ Querystring: { userId: string } }>('/v1/payment-options', {
    onRequest: requireRole(keys, 'checkout'),
    schema: {
      tags: ['checkout'],
      security: [{ bearer: [] }],
      description: 'The payment options to show one user, in display order: failover to the first healthy gateway, methods under a downtime hidden (bucket A) or shown with a warning (bucket B).',
      querystring: {
        type: 'object',
        required: ['userId'],
        properties: { userId: { type: 'string', minLength: 1, maxLength: 128 } },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            options: { type: 'array', items: optionSchema },
            unavailable: { type: 'array', items: { type: 'object', properties: { method: { type: 'string' }, downtimeId: { type: 'string' } } } },
          },
        },
      },
    },
  }, async (req, reply) => {
    const started = performance.now();
    const { userId } = req.query;
    // The snapshot's serialized answer, sent as is: the response schema above documents it, but
    // serializing it again per request was most of this route's cost.
    const body = snapshot.optionsJson(userId);
    const age = snapshot.ageMs();
    reply.header('content-type', 'application/json; charset=utf-8');
    reply.header('cache-control', 'no-store');
    if (Number.isFinite(age)) reply.header('x-snapshot-age-ms', String(Math.max(0, Math.round(age))));
    metrics.optionsLatency.observe((performance.now() - started) / 1e3);
    return body;
  });
}
