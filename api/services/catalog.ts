/**
 * The catalog: for each method, the gateways that carry it in order of preference, a priority
 * and its attributes (issuer, network, type, PSP...); for gateways, the aggregator each sits
 * behind. It is what the checkout offers and the topology scopes are matched against.
 */
import type { CatalogDoc, Database } from '../../db/mongo';
import type { Snapshot } from '../snapshot';
import { badRequest } from '../errors';

export type CatalogMethod = CatalogDoc['methods'][number];
export type CatalogGateway = NonNullable<CatalogDoc['gateways']>[number];

const presentMethod = (m: CatalogMethod) => ({
  method: m.method,
  gateways: m.gateways,
  ...(m.priority !== undefined ? { priority: m.priority } : {}),
  ...(m.attributes && Object.keys(m.attributes).length > 0 ? { attributes: m.attributes } : {}),
});

const present = (doc: CatalogDoc | null) => ({
  methods: (doc?.methods ?? []).map(presentMethod),
  ...(doc?.gateways && doc.gateways.length > 0 ? { gateways: doc.gateways } : {}),
  updatedAt: doc?.updatedAt.toISOString(),
});

/** Each item's key listed once, or a 400 naming the repeat. */
function once<T>(items: readonly T[], keyOf: (item: T) => string, field: (i: number) => string): void {
  const seen = new Map<string, number>();
  for (const [i, item] of items.entries()) {
    const key = keyOf(item);
    const first = seen.get(key);
    if (first !== undefined) throw badRequest(field(i), `${key} is already listed at ${field(first).replace(/\.[a-z]+$/, '')}`);
    seen.set(key, i);
  }
}

export class CatalogService {
  constructor(private readonly deps: { db: Database; snapshot: Snapshot; now: () => number }) {}

  async get() {
    return present(await this.deps.db.c.catalog.findOne({ _id: 'catalog' }));
  }

  /** Replaces the catalog (see the route's description for its rules) and refreshes the checkout's snapshot with it. */
  async put(body: { methods: readonly CatalogMethod[]; gateways?: readonly CatalogGateway[] }) {
    const { methods, gateways = [] } = body;
    once(methods, (m) => m.method, (i) => `methods.${i}.method`);
    once(gateways, (g) => g.gateway, (i) => `gateways.${i}.gateway`);
    const carried = new Set(methods.flatMap((m) => m.gateways));
    for (const [i, g] of gateways.entries()) {
      if (!carried.has(g.gateway)) throw badRequest(`gateways.${i}.gateway`, `${g.gateway} is not a gateway of any method in the catalog`);
    }
    const doc: CatalogDoc = {
      _id: 'catalog',
      methods: methods.map((m) => ({
        method: m.method,
        gateways: [...m.gateways],
        ...(m.priority !== undefined ? { priority: m.priority } : {}),
        ...(m.attributes && Object.keys(m.attributes).length > 0 ? { attributes: { ...m.attributes } } : {}),
      })),
      ...(gateways.length > 0 ? { gateways: gateways.map((g) => ({ gateway: g.gateway, ...(g.aggregator !== undefined ? { aggregator: g.aggregator } : {}) })) } : {}),
      updatedAt: new Date(this.deps.now()),
    };
    await this.deps.db.c.catalog.replaceOne({ _id: 'catalog' }, doc, { upsert: true });
    await this.deps.snapshot.refreshNow();
    return present(doc);
  }
}
