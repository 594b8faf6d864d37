/**
 * Operator and admin records: freeze windows (operator), webhook subscriptions, their secrets and
 * delivery log, and the partner directory (admin), incidents with their timelines and problems
 * (operator).
 */
import type { FastifyInstance } from 'fastify';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import { requireRole } from '../auth';
import { FreezeWindowService } from '../services/freeze-windows';
import { IncidentService } from '../services/incidents';
import { WEBHOOK_EVENTS, WebhookService } from '../services/webhooks';
import { PartnerService } from '../services/partners';
import { scopeSchema } from '../scope-schema';

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_:-]{1,64}$' } } } as const;
const limit = { type: 'integer', minimum: 1, maximum: 500, default: 100 } as const;
/** Who is acting. */
const actor = { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' } as const;
const secured = (tag: string) => ({ tags: [tag], security: [{ bearer: [] }] });
/** `?status=...&limit=...` over the given statuses. */
const listQuery = <S extends readonly string[]>(statuses: S) =>
  ({ type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: statuses }, limit } }) as const;

export async function adminRoutes(base: FastifyInstance): Promise<void> {
  const app = base.withTypeProvider<JsonSchemaToTsProvider>();
  const { db, keys, now, config } = app.deps;
  const operators = requireRole(keys, 'operator');
  const admins = requireRole(keys, 'admin');
  const freezeWindows = new FreezeWindowService({ db, now });
  const webhooks = new WebhookService({ db, now, secretGraceMs: config.webhookSecretGraceMs });
  const partners = new PartnerService({ db, now });
  const incidents = new IncidentService({ db, now });

  // Freeze windows -------------------------------------------------------------------------

  app.get('/v1/freeze-windows', {
    onRequest: operators,
    schema: { ...secured('freeze-windows'), querystring: { type: 'object', additionalProperties: false, properties: { current: { type: 'boolean' }, limit } } as const },
  }, async (req) => ({ freezeWindows: await freezeWindows.list(req.query) }));

  app.post('/v1/freeze-windows', {
    onRequest: operators,
    schema: {
      ...secured('freeze-windows'),
      description:
        'A freeze window: downtimes keep extra caution while it is on. One-off: from `startsAt` to `endsAt`, which must be after `startsAt` (equal times are refused) and in the future; 400 naming `endsAt` otherwise. Recurring: `recurrence.rule` is an RFC 5545 RRULE (FREQ DAILY, WEEKLY, MONTHLY or YEARLY; no DTSTART or TZID) anchored at `startsAt` in UTC, each occurrence lasting `recurrence.duration`; e.g. the last two days of every month is `FREQ=MONTHLY;BYMONTHDAY=-2` from a midnight for `2d`. A recurring window gives no `endsAt` (400 naming it), and a rule with no occurrence left is a 400 naming `recurrence.rule`. Listed with its next occurrences.',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'startsAt'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          startsAt: { type: 'string', format: 'date-time' },
          endsAt: { type: 'string', format: 'date-time' },
          recurrence: {
            type: 'object',
            additionalProperties: false,
            required: ['rule', 'duration'],
            properties: { rule: { type: 'string', minLength: 1, maxLength: 500 }, duration: { type: 'string', minLength: 1, maxLength: 20 } },
          },
          reason: { type: 'string', maxLength: 2000 },
        },
        examples: [
          { name: 'Month end', startsAt: '2030-01-31T18:30:00Z', endsAt: '2030-02-01T18:30:00Z', reason: 'month-end salary checkouts' },
          { name: 'Every month end', startsAt: '2030-01-30T00:00:00Z', recurrence: { rule: 'FREQ=MONTHLY;BYMONTHDAY=-2', duration: '2d' }, reason: 'salary days' },
        ],
      } as const,
    },
  }, async (req, reply) => reply.code(201).send(await freezeWindows.create(req.body)));

  app.delete('/v1/freeze-windows/:id', { onRequest: operators, schema: { ...secured('freeze-windows'), params: idParam } }, async (req, reply) => {
    await freezeWindows.remove(req.params.id);
    return reply.code(204).send();
  });

  // Webhook subscriptions ------------------------------------------------------------------

  app.get('/v1/webhooks', { onRequest: admins, schema: secured('webhooks') }, async () => ({ webhooks: await webhooks.list() }));

  app.get('/v1/webhooks/:id', { onRequest: admins, schema: { ...secured('webhooks'), params: idParam } }, async (req) => webhooks.get(req.params.id));

  app.post('/v1/webhooks', {
    onRequest: admins,
    schema: {
      ...secured('webhooks'),
      description: 'Subscribes a URL to downtime events, delivered by the Standard Webhooks specification: `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64>` (HMAC-SHA256 over `id.timestamp.body`). The signing secret (`whsec_<base64>`) is returned once, in this response. `url` is an absolute http or https URL without credentials (400 naming `url` otherwise).',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['url', 'events'],
        properties: {
          url: { type: 'string', minLength: 1, maxLength: 2000, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@]+' },
          events: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: WEBHOOK_EVENTS } },
          description: { type: 'string', maxLength: 500 },
        },
        examples: [{ url: 'http://127.0.0.1:9/hooks/downtimes', events: ['downtime.started', 'downtime.resolved'], description: 'ops dashboard' }],
      } as const,
    },
  }, async (req, reply) => reply.code(201).send(await webhooks.create(req.body)));

  app.post('/v1/webhooks/:id/rotate-secret', {
    onRequest: admins,
    schema: {
      ...secured('webhooks'),
      description: 'A new signing secret, returned once in this response. Deliveries carry a signature with each secret still valid, so the old one keeps verifying until `previousSecretValidUntil` (WEBHOOK_SECRET_GRACE after the rotation). 409 when another rotation won the race.',
      params: idParam,
    },
  }, async (req) => webhooks.rotateSecret(req.params.id));

  app.delete('/v1/webhooks/:id', { onRequest: admins, schema: { ...secured('webhooks'), params: idParam } }, async (req, reply) => {
    await webhooks.remove(req.params.id);
    return reply.code(204).send();
  });

  app.get('/v1/webhooks/:id/deliveries', {
    onRequest: admins,
    schema: { ...secured('webhooks'), params: idParam, querystring: listQuery(['pending', 'delivered'] as const) },
  }, async (req) => ({ deliveries: await webhooks.deliveries(req.params.id, req.query) }));

  // Partners --------------------------------------------------------------------------------

  app.get('/v1/partners', { onRequest: admins, schema: secured('partners') }, async () => ({ partners: await partners.list() }));

  app.put('/v1/partners', {
    onRequest: admins,
    schema: {
      ...secured('partners'),
      description: 'Replaces the partner directory. Each partner gets mail (through SMTP_URL) when a downtime sharing a catalog route with its scope starts and when it ends, with the evidence. A name listed twice (ignoring case) is a 400 naming `partners.i.name`; a scope breaking the rules a downtime scope follows (a method of another mode, both a gateway and an aggregator, a method together with attributes) a 400 naming the dimension, `partners.i.scope.<dimension>`.',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['partners'],
        properties: {
          partners: {
            type: 'array',
            maxItems: 100,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'scope', 'emails'],
              properties: {
                name: { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' },
                scope: scopeSchema(config.methodAttributes),
                emails: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'string', maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$' } },
              },
            },
          },
        },
        examples: [{ partners: [{ name: 'PayU', scope: { gateway: 'payu' }, emails: ['ops@payu.example'] }] }],
      } as const,
    },
  }, async (req) => partners.replace(req.body.partners));

  // Incidents and problems -----------------------------------------------------------------

  app.get('/v1/incidents', {
    onRequest: operators,
    schema: {
      ...secured('incidents'),
      description: 'Incidents, newest first; `stage` filters by where the work stands, `overdue=true` keeps SEV1/SEV2 incidents whose review is past due.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { status: { type: 'string', enum: ['open', 'resolved'] }, stage: { type: 'string', enum: ['investigating', 'identified', 'monitoring', 'resolved', 'reviewed'] }, overdue: { type: 'boolean' }, limit },
      } as const,
    },
  }, async (req) => ({ incidents: await incidents.incidents(req.query) }));

  app.get('/v1/incidents/:id', { onRequest: operators, schema: { ...secured('incidents'), params: idParam } }, async (req) => incidents.incident(req.params.id));

  app.post('/v1/incidents/:id/stage', {
    onRequest: operators,
    schema: {
      ...secured('incidents'),
      description: "Says where the work on an open incident stands: investigating, identified (acknowledging does this) or monitoring. Resolved follows the downtime's close; 409 once it has.",
      params: idParam,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['stage', 'by'],
        properties: { stage: { type: 'string', enum: ['investigating', 'identified', 'monitoring'] }, by: actor, note: { type: 'string', maxLength: 2000 } },
      } as const,
    },
  }, async (req) => incidents.setStage(req.params.id, req.body));

  app.post('/v1/incidents/:id/review', {
    onRequest: operators,
    schema: {
      ...secured('incidents'),
      description: 'The post-incident review of a resolved incident: the cause, the lessons learned and the follow-up actions; its impact (attempts and system failures on the scope while it was down) is read from the counters. Once per incident; 409 while it is open or once reviewed. A SEV1/SEV2 not reviewed within REVIEW_DUE_AFTER of resolving is listed as overdue and ops are told once.',
      params: idParam,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['by', 'cause', 'lessons'],
        properties: {
          by: actor,
          cause: { type: 'string', minLength: 1, maxLength: 4000, pattern: '\\S' },
          lessons: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 2000, pattern: '\\S' } },
          actions: { type: 'array', maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 2000, pattern: '\\S' } },
        },
        examples: [{ by: 'amy', cause: "PayU's load balancer dropped TLS sessions after a certificate rotation", lessons: ['Detection caught it in 40 s; the partner was told in a minute'], actions: ['Ask PayU for rotation notices'] }],
      } as const,
    },
  }, async (req) => incidents.review(req.params.id, req.body));

  app.get('/v1/problems', {
    onRequest: operators,
    schema: { ...secured('problems'), querystring: listQuery(['open', 'investigating', 'known_error', 'resolved'] as const) },
  }, async (req) => ({ problems: await incidents.problems(req.query) }));

  app.get('/v1/problems/:id', { onRequest: operators, schema: { ...secured('problems'), params: idParam } }, async (req) => incidents.problem(req.params.id));

  app.post('/v1/problems/:id', {
    onRequest: operators,
    schema: {
      ...secured('problems'),
      description: 'Problem management: move a problem to investigating, to known_error (with its `workaround`, 400 naming it otherwise) or to resolved (with its `rootCause`, 400 naming it otherwise), or add a note. A resolved problem is not changed by hand (409): it reopens when its scope goes down again.',
      params: idParam,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['by'],
        properties: {
          by: actor,
          status: { type: 'string', enum: ['investigating', 'known_error', 'resolved'] },
          note: { type: 'string', maxLength: 4000 },
          workaround: { type: 'string', minLength: 1, maxLength: 4000, pattern: '\\S' },
          rootCause: { type: 'string', minLength: 1, maxLength: 4000, pattern: '\\S' },
        },
      } as const,
    },
  }, async (req) => incidents.updateProblem(req.params.id, req.body));
}
