/** The catalog: for each method, the gateways that carry it in order of preference, and a priority. */
import type { CatalogDoc, Database } from '../../db/mongo';
import type { Snapshot } from '../snapshot';
import { badRequest } from '../errors';

export type CatalogMethod = CatalogDoc['methods'][number];

const present = (doc: CatalogDoc | null) => ({
  methods: (doc?.methods ?? []).map((m) => ({ method: m.method, gateways: m.gateways, ...(m.priority !== undefined ? { priority: m.priority } : {}) })),
  updatedAt: doc?.updatedAt.toISOString(),
});

export class CatalogService {
  constructor(private readonly deps: { db: Database; snapshot: Snapshot; now: () => number }) {}

  async get() {
    return present(await this.deps.db.c.catalog.findOne({ _id: 'catalog' }));
  }

  /** Replaces the catalog (each method listed once) and refreshes the checkout's snapshot with it. */
  async put(methods: readonly CatalogMethod[]) {
    const seen = new Map<string, number>();
    for (const [i, m] of methods.entries()) {
      const first = seen.get(m.method);
      if (first !== undefined) throw badRequest(`methods.${i}.method`, `${m.method} is already listed at methods.${first}`);
      seen.set(m.method, i);
    }
    const doc: CatalogDoc = {
      _id: 'catalog',
      methods: methods.map((m) => ({ method: m.method, gateways: [...m.gateways], ...(m.priority !== undefined ? { priority: m.priority } : {}) })),
      updatedAt: new Date(this.deps.now()),
    };
    await this.deps.db.c.catalog.replaceOne({ _id: 'catalog' }, doc, { upsert: true });
    await this.deps.snapshot.refreshNow();
    return present(doc);
  }
}
