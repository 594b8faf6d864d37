/**
 * Webhook subscriptions and their delivery log. A subscription's signing secret (`whsec_...`,
 * Standard Webhooks) is answered once, when it is created or rotated; a rotated-out secret keeps
 * signing beside the new one for the grace period, so receivers can switch without a gap.
 */
import { randomBytes } from 'node:crypto';
import type { Database, DeliveryDoc, WebhookDoc } from '../../db/mongo';
import { newWebhookSecret } from '../../common/webhook-signature';
import { badRequest, conflict, notFound } from '../errors';

export const WEBHOOK_EVENTS = ['downtime.scheduled', 'downtime.cancelled', 'downtime.started', 'downtime.updated', 'downtime.resolved'] as const;

const iso = (d: Date | undefined) => d?.toISOString();

/** A subscription as listed: never its secret. */
const present = (w: WebhookDoc) => ({ id: w._id, url: w.url, events: w.events, description: w.description, createdAt: w.createdAt.toISOString() });

/** A delivery as listed: where it went and how it fared, never its body. */
export const presentDelivery = (d: DeliveryDoc) => ({
  id: d._id,
  channel: d.channel,
  receiver: d.receiver,
  eventId: d.eventId,
  type: d.type,
  url: d.url,
  status: d.status,
  attempts: d.attempts,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  nextAttemptAt: iso(d.nextAttemptAt),
  deliveredAt: iso(d.deliveredAt),
  createdAt: iso(d.createdAt),
});

/** An absolute http(s) URL without credentials, or a 400 naming `url`. */
function receiverUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badRequest('url', 'expected an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('url', 'expected an http or https URL');
  if (url.username || url.password) throw badRequest('url', 'must not carry credentials');
  return url;
}

export class WebhookService {
  constructor(private readonly deps: { db: Database; now: () => number; secretGraceMs: number }) {}

  async list() {
    return (await this.deps.db.c.webhooks.find({}).sort({ createdAt: -1 }).toArray()).map(present);
  }

  async get(id: string) {
    const doc = await this.deps.db.c.webhooks.findOne({ _id: id });
    if (!doc) throw notFound('webhook', id);
    return present(doc);
  }

  /** Subscribes a receiver; the answer carries the secret it verifies signatures with, this once. */
  async create(p: { url: string; events: WebhookDoc['events']; description?: string }) {
    const doc: WebhookDoc = {
      _id: `wh_${randomBytes(10).toString('hex')}`,
      url: receiverUrl(p.url).toString(),
      events: [...p.events],
      secret: newWebhookSecret(),
      createdAt: new Date(this.deps.now()),
      ...(p.description !== undefined ? { description: p.description } : {}),
    };
    await this.deps.db.c.webhooks.insertOne(doc);
    return { ...present(doc), secret: doc.secret };
  }

  /**
   * A new signing secret, answered this once. The old one keeps signing beside it until the grace
   * period ends; secrets rotated out earlier and already expired are dropped.
   */
  async rotateSecret(id: string) {
    const { c } = this.deps.db;
    const now = this.deps.now();
    const doc = await c.webhooks.findOne({ _id: id });
    if (!doc) throw notFound('webhook', id);
    const until = new Date(now + this.deps.secretGraceMs);
    const previous = [...(doc.previousSecrets ?? []).filter((p) => p.until.getTime() > now), ...(this.deps.secretGraceMs > 0 ? [{ secret: doc.secret, until }] : [])];
    const secret = newWebhookSecret();
    // Conditional on the secret read, so two rotations at once cannot both keep the same old one.
    const res = await c.webhooks.updateOne({ _id: id, secret: doc.secret }, { $set: { secret, previousSecrets: previous } });
    if (res.matchedCount === 0) throw conflict(`webhook ${id} was rotated or deleted meanwhile; read it and retry`);
    return { ...present({ ...doc, secret }), secret, previousSecretValidUntil: this.deps.secretGraceMs > 0 ? until.toISOString() : undefined };
  }

  async remove(id: string): Promise<void> {
    const res = await this.deps.db.c.webhooks.deleteOne({ _id: id });
    if (res.deletedCount === 0) throw notFound('webhook', id);
  }

  async deliveries(id: string, q: { status?: 'pending' | 'delivered'; limit: number }) {
    const { c } = this.deps.db;
    if (!(await c.webhooks.findOne({ _id: id }, { projection: { _id: 1 } }))) throw notFound('webhook', id);
    const docs = await c.deliveries
      .find({ channel: 'webhook', receiver: id, ...(q.status ? { status: q.status } : {}) }, { projection: { body: 0 } })
      .sort({ createdAt: -1 })
      .limit(q.limit)
      .toArray();
    return docs.map(presentDelivery);
  }
}
