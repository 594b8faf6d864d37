/** `POST /v1/transactions`: the checkout posts every payment attempt, in batches of up to 1000. */
import type { FastifyInstance } from 'fastify';
import { requireRole } from '../auth';
import { DatabaseUnavailableError, Ingestor, MAX_BATCH, sendDatabaseUnavailable } from '../ingest';

export async function transactionRoutes(app: FastifyInstance): Promise<void> {
  const { db, config, keys, metrics, now, snapshot } = app.deps;
  const ingestor = new Ingestor({ db, config, snapshot, metrics, now });

  app.post('/v1/transactions', {
    onRequest: requireRole(keys, 'ingest'),
    schema: {
      tags: ['transactions'],
      security: [{ bearer: [] }],
      description: 'Records payment attempts. Each record is validated on its own: bad ones are listed in `rejected` and the rest stored. Idempotent by `id`.',
      // Only the envelope here: records are validated one by one so one bad record cannot reject the batch.
      body: {
        type: 'object',
        required: ['transactions'],
        properties: { transactions: { type: 'array', maxItems: MAX_BATCH, items: {} } },
      },
      response: {
        202: {
          type: 'object',
          properties: {
            accepted: { type: 'integer' },
            duplicates: { type: 'integer' },
            rejected: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, error: { type: 'string' } } } },
          },
        },
      },
    },
  }, async (req, reply) => {
    const { transactions } = req.body as { transactions: unknown[] };
    try {
      const result = await ingestor.ingest(transactions);
      return reply.code(202).send(result);
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) return sendDatabaseUnavailable(reply, err);
      throw err;
    }
  });
}
