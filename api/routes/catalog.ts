/** The catalog: for each method, the gateways that carry it in order of preference, and a priority. */
import type { FastifyInstance } from 'fastify';
import { requireRole } from '../auth';
import type { CatalogDoc } from '../../db/mongo';

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
} as const;

const present = (doc: CatalogDoc | null) => ({
  methods: (doc?.methods ?? []).map((m) => ({ method: m.method, gateways: m.gateways, ...(m.priority !== undefined ? { priority: m.priority } : {}) })),
  updatedAt: doc?.updatedAt.toISOString(),
});

export async function catalogRoutes(app: FastifyInstance): Promise<void> {
  const { db, keys, now, snapshot } = app.deps;

  app.get('/v1/catalog', {
    onRequest: requireRole(keys, 'ingest', 'checkout', 'operator', 'admin'),
    schema: { tags: ['catalog'], security: [{ bearer: [] }] },
  }, async () => present(await db.c.catalog.findOne({ _id: 'catalog' })));

  app.put('/v1/catalog', {
    onRequest: requireRole(keys, 'admin'),
    schema: { tags: ['catalog'], security: [{ bearer: [] }], body: catalogSchema },
  }, async (req, reply) => {
    const { methods } = req.body as { methods: CatalogDoc['methods'] };
    const seen = new Map<string, number>();
    for (const [i, m] of methods.entries()) {
      const first = seen.get(m.method);
      if (first !== undefined) {
        const field = `methods.${i}.method`;
        return reply.code(400).send({ error: 'bad_request', field, message: `${field}: ${m.method} is already listed at methods.${first}` });
      }
      seen.set(m.method, i);
    }
    const doc: CatalogDoc = {
      _id: 'catalog',
      methods: methods.map((m) => ({ method: m.method, gateways: [...m.gateways], ...(m.priority !== undefined ? { priority: m.priority } : {}) })),
      updatedAt: new Date(now()),
    };
    await db.c.catalog.replaceOne({ _id: 'catalog' }, doc, { upsert: true });
    await snapshot.refreshNow();
    return present(doc);
  });
}
