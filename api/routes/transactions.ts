/** `POST /v1/transactions`: the checkout posts every payment attempt, in batches of up to 1000. */
import type { FastifyInstance } from 'fastify';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import { requireRole } from '../auth';
import { SOONEST_LOOK_FRACTION } from '../../domain';
import { Ingestor, MAX_BATCH } from '../ingest';
import { temporalDetectionWaker } from '../detection-waker';
import { temporalProbeWaker } from '../probe-waker';

const RECOVERY_INTERVAL_MS = 5_000;

export async function transactionRoutes(base: FastifyInstance): Promise<void> {
  const app = base.withTypeProvider<JsonSchemaToTsProvider>();
  const { db, config, keys, metrics, now, snapshot, temporal } = app.deps;
  // An actor looks no sooner than a quarter interval after its last look when leaning, so neither need its wake-ups come closer.
  const probeWaker = temporalProbeWaker(temporal, db, {
    now,
    minGapMs: config.probe.intervalMs * SOONEST_LOOK_FRACTION,
    log: app.log,
    counted: (result) => metrics.probeWakes.inc({ result }),
  });
  const detectionWaker =
    config.detection.wakeGapMs > 0
      ? temporalDetectionWaker(temporal, db, { taskQueue: config.temporal.taskQueue, intervalMs: config.detection.intervalMs }, {
          now,
          minGapMs: config.detection.wakeGapMs,
          log: app.log,
          counted: (result) => metrics.detectionWakes.inc({ result }),
        })
      : undefined;
  const ingestor = new Ingestor({ db, config, snapshot, metrics, now, probeWaker, detectionWaker });

  // Batches whose request died between storing and counting are counted here, once.
  let recovering = false;
  const recovery = setInterval(() => {
    if (recovering) return;
    recovering = true;
    ingestor
      .recoverUncounted()
      .then((n) => n > 0 && app.log.info({ transactions: n }, 'counted transactions left uncounted by an interrupted batch'))
      .catch((err) => app.log.warn({ err: err instanceof Error ? err.message : err }, 'counting interrupted batches failed; will retry'))
      .finally(() => (recovering = false));
  }, RECOVERY_INTERVAL_MS);
  recovery.unref();
  app.addHook('onClose', async () => clearInterval(recovery));

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
      } as const,
      response: {
        202: {
          type: 'object',
          additionalProperties: false,
          required: ['accepted', 'duplicates', 'rejected'],
          properties: {
            accepted: { type: 'integer' },
            duplicates: { type: 'integer' },
            rejected: {
              type: 'array',
              items: { type: 'object', additionalProperties: false, required: ['index', 'error'], properties: { index: { type: 'integer' }, error: { type: 'string' } } },
            },
          },
        },
      } as const,
    },
  }, async (req, reply) => reply.code(202).send(await ingestor.ingest(req.body.transactions)));
}
