/** The catalog: for each method, the gateways that carry it in order of preference, and a priority. */
import type { FastifyInstance } from 'fastify';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import { requireRole } from '../auth';
import { CatalogService } from '../services/catalog';

const catalogSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['methods'],
  properties: {
    methods: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['method', 'gateways'],
        properties: {
          method: { type: 'string', pattern: '^[a-z0-9_]{1,40}:[a-z0-9_]{1,60}$' },
          gateways: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'string', pattern: '^[a-z0-9_-]{1,60}$' } },
          priority: { type: 'number', minimum: -1000, maximum: 1000 },
        },
      },
    },
  },
  examples: [{ methods: [{ method: 'card:visa', gateways: ['razorpay', 'payu'], priority: 1 }, { method: 'netbanking:hdfc', gateways: ['payu'] }, { method: 'upi:phonepe', gateways: ['razorpay'] }] }],
} as const;

export async function catalogRoutes(base: FastifyInstance): Promise<void> {
  const app = base.withTypeProvider<JsonSchemaToTsProvider>();
  const { db, keys, now, snapshot } = app.deps;
  const catalog = new CatalogService({ db, snapshot, now });

  app.get('/v1/catalog', {
    onRequest: requireRole(keys, 'ingest', 'checkout', 'operator', 'admin'),
    schema: { tags: ['catalog'], security: [{ bearer: [] }] },
  }, async () => catalog.get());

  app.put('/v1/catalog', {
    onRequest: requireRole(keys, 'admin'),
    schema: { tags: ['catalog'], security: [{ bearer: [] }], description: 'Replaces the catalog. Each method is listed once (400 naming the repeat).', body: catalogSchema },
  }, async (req) => catalog.put(req.body.methods));
}
