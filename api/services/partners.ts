/**
 * The partner directory: whom a downtime concerns outside the company (a gateway, a bank, a card
 * network, an aggregator), each with a scope over the same dimensions as a downtime's and the
 * addresses that get mail when a downtime sharing a route with that scope starts and ends.
 * Replaced whole by `PUT /v1/partners`.
 */
import type { Database, PartnerDoc } from '../../db/mongo';
import type { Scope } from '../../domain';
import { badRequest, validScope } from '../errors';

export interface PartnerInput {
  name: string;
  scope: Scope;
  emails: string[];
}

const present = (p: PartnerDoc) => ({ name: p._id, scope: p.scope, emails: p.emails, updatedAt: p.updatedAt.toISOString() });

export class PartnerService {
  constructor(private readonly deps: { db: Database; now: () => number }) {}

  async list() {
    return (await this.deps.db.c.partners.find({}).sort({ _id: 1 }).toArray()).map(present);
  }

  /** Replaces the directory; a 400 names the first bad field and changes nothing. */
  async replace(partners: PartnerInput[]) {
    const at = new Date(this.deps.now());
    const seen = new Set<string>();
    const docs: PartnerDoc[] = partners.map((p, i) => {
      const key = p.name.toLowerCase();
      if (seen.has(key)) throw badRequest(`partners.${i}.name`, `"${p.name}" is listed twice`);
      seen.add(key);
      return { _id: p.name, scope: validScope(p.scope, `partners.${i}.scope`), emails: [...new Set(p.emails.map((e) => e.toLowerCase()))], updatedAt: at };
    });
    const { c } = this.deps.db;
    // Upsert the new entries first, then drop the ones no longer listed: a reader never sees an empty directory.
    for (const d of docs) await c.partners.replaceOne({ _id: d._id }, d, { upsert: true });
    await c.partners.deleteMany({ _id: { $nin: docs.map((d) => d._id) } });
    return { partners: docs.map(present) };
  }
}
