/**
 * Operator and admin records: freeze windows (operator), webhook subscriptions and their
 * delivery log (admin), incidents with their timelines and problems (operator).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { requireRole } from '../auth';
import type { DeliveryDoc, FreezeWindowDoc, IncidentDoc, ProblemDoc, TimelineDoc, WebhookDoc } from '../../db/mongo';

export const WEBHOOK_EVENTS = ['downtime.started', 'downtime.updated', 'downtime.resolved'] as const;

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_:-]{1,64}$' } } } as const;
const limit = { type: 'integer', minimum: 1, maximum: 500, default: 100 } as const;
const secured = { security: [{ bearer: [] }] };

const newId = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;
const iso = (d: Date | undefined) => d?.toISOString();

const notFound = (reply: FastifyReply, what: string, id: string) => reply.code(404).send({ error: 'not_found', message: `${what} ${id} not found` });
const badRequest = (reply: FastifyReply, field: string, detail: string) =>
  reply.code(400).send({ error: 'bad_request', field, message: `${field}: ${detail}` });

function presentFreeze(w: FreezeWindowDoc, now: number) {
  return {
    id: w._id,
    name: w.name,
    startsAt: w.startsAt.toISOString(),
    endsAt: w.endsAt.toISOString(),
    reason: w.reason,
    active: w.startsAt.getTime() <= now && now < w.endsAt.getTime(),
    createdAt: w.createdAt.toISOString(),
  };
}

/** A subscription as listed: never its secret. */
const presentWebhook = (w: WebhookDoc) => ({ id: w._id, url: w.url, events: w.events, description: w.description, createdAt: w.createdAt.toISOString() });

const presentDelivery = (d: DeliveryDoc) => ({
  id: d._id,
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

const presentIncident = (i: IncidentDoc) => ({
  id: i._id,
  downtimeId: i.downtimeId,
  scopeKey: i.scopeKey,
  title: i.title,
  severity: i.severity,
  status: i.status,
  openedAt: i.openedAt.toISOString(),
  acknowledgedAt: iso(i.acknowledgedAt),
  acknowledgedBy: i.acknowledgedBy,
  resolvedAt: iso(i.resolvedAt),
  endReason: i.endReason,
  escalations: (i.escalations ?? []).map((e) => ({ at: e.at.toISOString(), severity: e.severity, by: e.by })),
});

const presentTimeline = (t: TimelineDoc) => ({ at: t.at.toISOString(), kind: t.kind, text: t.text, by: t.by });

const presentProblem = (p: ProblemDoc) => ({
  id: p._id,
  scopeKey: p.scopeKey,
  scope: p.scope,
  status: p.status,
  openedAt: p.openedAt.toISOString(),
  downtimeIds: p.downtimeIds,
  downtimeCount: p.downtimeIds.length,
  note: p.note,
});

export async function adminRoutes(app: FastifyInstance): Promise<void> {
  const { db, keys, now } = app.deps;
  const operators = requireRole(keys, 'operator');
  const admins = requireRole(keys, 'admin');

  // Freeze windows -------------------------------------------------------------------------

  app.get('/v1/freeze-windows', {
    onRequest: operators,
    schema: {
      tags: ['freeze-windows'],
      ...secured,
      querystring: { type: 'object', additionalProperties: false, properties: { current: { type: 'boolean' }, limit } },
    },
  }, async (req) => {
    const q = req.query as { current?: boolean; limit: number };
    const at = new Date(now());
    const filter = q.current ? { endsAt: { $gt: at } } : {};
    const docs = await db.c.freezeWindows.find(filter).sort({ startsAt: -1 }).limit(q.limit).toArray();
    return { freezeWindows: docs.map((w) => presentFreeze(w, at.getTime())) };
  });

  app.post('/v1/freeze-windows', {
    onRequest: operators,
    schema: {
      tags: ['freeze-windows'],
      ...secured,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'startsAt', 'endsAt'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          startsAt: { type: 'string', format: 'date-time' },
          endsAt: { type: 'string', format: 'date-time' },
          reason: { type: 'string', maxLength: 2000 },
        },
      },
    },
  }, async (req, reply) => {
    const body = req.body as { name: string; startsAt: string; endsAt: string; reason?: string };
    const startsAt = Date.parse(body.startsAt);
    const endsAt = Date.parse(body.endsAt);
    if (!Number.isFinite(startsAt)) return badRequest(reply, 'startsAt', 'expected an ISO-8601 date-time');
    if (!Number.isFinite(endsAt)) return badRequest(reply, 'endsAt', 'expected an ISO-8601 date-time');
    if (endsAt <= startsAt) return badRequest(reply, 'endsAt', 'must be after startsAt');
    if (endsAt <= now()) return badRequest(reply, 'endsAt', 'must be in the future');
    const doc: FreezeWindowDoc = {
      _id: newId('fw'),
      name: body.name,
      startsAt: new Date(startsAt),
      endsAt: new Date(endsAt),
      createdAt: new Date(now()),
      ...(body.reason !== undefined ? { reason: body.reason } : {}),
    };
    await db.c.freezeWindows.insertOne(doc);
    return reply.code(201).send(presentFreeze(doc, now()));
  });

  app.delete('/v1/freeze-windows/:id', { onRequest: operators, schema: { tags: ['freeze-windows'], ...secured, params: idParam } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const res = await db.c.freezeWindows.deleteOne({ _id: id });
    if (res.deletedCount === 0) return notFound(reply, 'freeze window', id);
    return reply.code(204).send();
  });

  // Webhook subscriptions ------------------------------------------------------------------

  app.get('/v1/webhooks', { onRequest: admins, schema: { tags: ['webhooks'], ...secured } }, async () => {
    const docs = await db.c.webhooks.find({}).sort({ createdAt: -1 }).toArray();
    return { webhooks: docs.map(presentWebhook) };
  });

  app.get('/v1/webhooks/:id', { onRequest: admins, schema: { tags: ['webhooks'], ...secured, params: idParam } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const doc = await db.c.webhooks.findOne({ _id: id });
    if (!doc) return notFound(reply, 'webhook', id);
    return presentWebhook(doc);
  });

  app.post('/v1/webhooks', {
    onRequest: admins,
    schema: {
      tags: ['webhooks'],
      ...secured,
      description: 'Subscribes a URL to downtime events. The signing secret is returned once, in this response.',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['url', 'events'],
        properties: {
          url: { type: 'string', minLength: 1, maxLength: 2000 },
          events: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...WEBHOOK_EVENTS] } },
          description: { type: 'string', maxLength: 500 },
        },
      },
    },
  }, async (req, reply) => {
    const body = req.body as { url: string; events: string[]; description?: string };
    let url: URL;
    try {
      url = new URL(body.url);
    } catch {
      return badRequest(reply, 'url', 'expected an absolute http or https URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return badRequest(reply, 'url', 'expected an http or https URL');
    if (url.username || url.password) return badRequest(reply, 'url', 'must not carry credentials');
    const doc: WebhookDoc = {
      _id: newId('wh'),
      url: url.toString(),
      events: body.events,
      secret: randomBytes(32).toString('hex'),
      createdAt: new Date(now()),
      ...(body.description !== undefined ? { description: body.description } : {}),
    };
    await db.c.webhooks.insertOne(doc);
    return reply.code(201).send({ ...presentWebhook(doc), secret: doc.secret });
  });

  app.delete('/v1/webhooks/:id', { onRequest: admins, schema: { tags: ['webhooks'], ...secured, params: idParam } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const res = await db.c.webhooks.deleteOne({ _id: id });
    if (res.deletedCount === 0) return notFound(reply, 'webhook', id);
    return reply.code(204).send();
  });

  app.get('/v1/webhooks/:id/deliveries', {
    onRequest: admins,
    schema: {
      tags: ['webhooks'],
      ...secured,
      params: idParam,
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['pending', 'delivered'] }, limit } },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const q = req.query as { status?: 'pending' | 'delivered'; limit: number };
    if (!(await db.c.webhooks.findOne({ _id: id }, { projection: { _id: 1 } }))) return notFound(reply, 'webhook', id);
    const docs = await db.c.deliveries
      .find({ subscriptionId: id, ...(q.status ? { status: q.status } : {}) }, { projection: { body: 0 } })
      .sort({ createdAt: -1 })
      .limit(q.limit)
      .toArray();
    return { deliveries: docs.map(presentDelivery) };
  });

  // Incidents and problems -----------------------------------------------------------------

  app.get('/v1/incidents', {
    onRequest: operators,
    schema: {
      tags: ['incidents'],
      ...secured,
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['open', 'resolved'] }, limit } },
    },
  }, async (req) => {
    const q = req.query as { status?: 'open' | 'resolved'; limit: number };
    const docs = await db.c.incidents.find(q.status ? { status: q.status } : {}).sort({ openedAt: -1 }).limit(q.limit).toArray();
    return { incidents: docs.map(presentIncident) };
  });

  app.get('/v1/incidents/:id', { onRequest: operators, schema: { tags: ['incidents'], ...secured, params: idParam } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const doc = await db.c.incidents.findOne({ _id: id });
    if (!doc) return notFound(reply, 'incident', id);
    const timeline = await db.c.timeline.find({ incidentId: id }).sort({ at: 1 }).toArray();
    return { ...presentIncident(doc), timeline: timeline.map(presentTimeline) };
  });

  app.get('/v1/problems', {
    onRequest: operators,
    schema: {
      tags: ['problems'],
      ...secured,
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['open', 'closed'] }, limit } },
    },
  }, async (req) => {
    const q = req.query as { status?: 'open' | 'closed'; limit: number };
    const docs = await db.c.problems.find(q.status ? { status: q.status } : {}).sort({ openedAt: -1 }).limit(q.limit).toArray();
    return { problems: docs.map(presentProblem) };
  });

  app.get('/v1/problems/:id', { onRequest: operators, schema: { tags: ['problems'], ...secured, params: idParam } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const doc = await db.c.problems.findOne({ _id: id });
    if (!doc) return notFound(reply, 'problem', id);
    return presentProblem(doc);
  });
}
