/** The catalog: for each method, the gateways that carry it in order of preference, and a priority. */
import type { FastifyInstance } from 'fastify';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import { requireRole } from '../auth';
import { attributesSchema } from '../scope-schema';
import { CatalogService } from '../services/catalog';

const catalogSchema = (attributeNames: readonly string[]) =>
  ({
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
            attributes: attributesSchema(attributeNames),
          },
        },
      },
      gateways: {
        type: 'array',
        maxItems: 1000,
        description: "Facts about the methods' gateways: the aggregator a gateway sits behind. Each gateway listed once, and carried by a method.",
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['gateway'],
          properties: { gateway: { type: 'string', pattern: '^[a-z0-9_-]{1,60}$' }, aggregator: { type: 'string', pattern: '^[a-z0-9_-]{1,60}$' } },
        },
      },
    },
    examples: [
      {
        methods: [
          { method: 'card:hdfc_credit', gateways: ['razorpay', 'payu'], priority: 1, attributes: { issuer: 'hdfc', network: 'visa', type: 'credit' } },
          { method: 'netbanking:hdfc', gateways: ['payu'], attributes: { issuer: 'hdfc' } },
          { method: 'upi:phonepe', gateways: ['razorpay', 'payu'], attributes: { psp: 'phonepe' } },
        ],
        gateways: [{ gateway: 'payu', aggregator: 'juspay' }, { gateway: 'razorpay' }],
      },
    ],
  }) as const;

export async function catalogRoutes(base: FastifyInstance): Promise<void> {
  const app = base.withTypeProvider<JsonSchemaToTsProvider>();
  const { db, keys, now, snapshot, config } = app.deps;
  const catalog = new CatalogService({ db, snapshot, now });

  app.get('/v1/catalog', {
    onRequest: requireRole(keys, 'ingest', 'checkout', 'operator', 'admin'),
    schema: { tags: ['catalog'], security: [{ bearer: [] }] },
  }, async () => catalog.get());

  app.put('/v1/catalog', {
    onRequest: requireRole(keys, 'admin'),
    schema: { tags: ['catalog'], security: [{ bearer: [] }], description: 'Replaces the catalog: each method with its gateways in order of preference, its priority and its attributes (the issuer, card network and type, UPI app), and each gateway with the aggregator it sits behind. Each method and each gateway is listed once, and a gateway given an aggregator is one a method uses (400 naming the field otherwise).', body: catalogSchema(config.methodAttributes) },
  }, async (req) => catalog.put(req.body));
}
