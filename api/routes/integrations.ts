/**
 * Inbound integrations: PagerDuty's v3 webhooks. An acknowledgement or a resolution of the
 * incident a page opened (its `incident_key` is the downtime id, our `dedup_key`) acknowledges or
 * resolves the downtime through the same Temporal update as the API. PagerDuty's event id is the
 * update's id, so a redelivered event is applied once; a request the downtime's state refuses
 * (already acknowledged, already closed) is answered 200 so PagerDuty stops retrying.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import { acknowledgeUpdate, resolveUpdate } from '../../common/definitions';
import { verifyPagerDuty } from '../../common/pagerduty-signature';
import { ApiError } from '../errors';
import { parseJsonBody } from '../json-body';
import { DowntimeService } from '../services/downtimes';

const rawBodies = new WeakMap<FastifyRequest, string>();
/** A body that is not JSON: refused after the signature is checked, not before. */
const unreadable = new WeakMap<FastifyRequest, Error>();

const EVENT_TYPES = { 'incident.acknowledged': 'acknowledge', 'incident.resolved': 'resolve' } as const;

export async function integrationRoutes(base: FastifyInstance): Promise<void> {
  const app = base.withTypeProvider<JsonSchemaToTsProvider>();
  const { db, temporal, config, now } = app.deps;
  const downtimes = new DowntimeService({ db, temporal, config, now });
  const secret = config.channels.pagerdutyWebhookSecret;

  // The signature covers the raw body: keep it beside the parsed one, in this plugin only.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    rawBodies.set(req, body as string);
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      unreadable.set(req, err as Error);
      done(null, undefined);
    }
  });

  app.post('/v1/integrations/pagerduty', {
    // Checked before the body's shape, so an unsigned request learns nothing about it.
    preValidation: (req, reply, done) => {
      if (!secret) return void reply.code(401).send({ error: 'unauthorized', message: 'the PagerDuty integration is not configured (PAGERDUTY_WEBHOOK_SECRET)' });
      const header = req.headers['x-pagerduty-signature'];
      if (!verifyPagerDuty(secret, Array.isArray(header) ? header.join(',') : header, rawBodies.get(req) ?? '')) {
        return void reply.code(401).send({ error: 'unauthorized', message: 'X-PagerDuty-Signature does not match the body' });
      }
      done(unreadable.get(req));
    },
    schema: {
      tags: ['integrations'],
      description:
        "PagerDuty's v3 webhook (signed with `X-PagerDuty-Signature`, secret PAGERDUTY_WEBHOOK_SECRET; 401 otherwise). `incident.acknowledged` acknowledges and `incident.resolved` resolves the downtime whose id is the incident's `incident_key`, once per PagerDuty event id. Other events, unknown incidents and requests the downtime's state refuses are answered 200 with the outcome, so PagerDuty does not retry them.",
      headers: { type: 'object', properties: { 'x-pagerduty-signature': { type: 'string' } } },
      body: {
        type: 'object',
        required: ['event'],
        properties: {
          event: {
            type: 'object',
            required: ['id', 'event_type'],
            properties: {
              id: { type: 'string', minLength: 1, maxLength: 200 },
              event_type: { type: 'string', maxLength: 200 },
              agent: { type: ['object', 'null'], properties: { summary: { type: 'string', maxLength: 200 } } },
              data: { type: 'object', properties: { incident_key: { type: 'string', maxLength: 255 } } },
            },
          },
        },
        examples: [{ event: { id: '01DEN2ZRH8P5', event_type: 'incident.acknowledged', agent: { summary: 'Amy (on call)' }, data: { id: 'Q1NKQ0', type: 'incident', incident_key: 'dt_1f3a' } } }],
      } as const,
    },
  }, async (req) => {
    const { event } = req.body;
    const action = EVENT_TYPES[event.event_type as keyof typeof EVENT_TYPES];
    const downtimeId = event.data?.incident_key;
    if (!action || !downtimeId) return { outcome: 'ignored' as const, reason: action ? 'no incident_key' : `event ${event.event_type} is not acted on` };
    const by = `PagerDuty: ${event.agent?.summary?.trim() || 'unknown'}`;
    const body = { by, ...(action === 'acknowledge' ? { note: 'acknowledged in PagerDuty' } : { reason: 'resolved in PagerDuty' }) };
    try {
      const update = action === 'acknowledge' ? acknowledgeUpdate : resolveUpdate;
      await downtimes.request(downtimeId, action, update, body, `pagerduty:${event.id}`);
      return { outcome: action === 'acknowledge' ? ('acknowledged' as const) : ('resolved' as const), downtimeId };
    } catch (err) {
      // Not ours, or nothing left to do: say so, and let PagerDuty stop retrying.
      if (err instanceof ApiError && (err.status === 404 || err.status === 409)) return { outcome: 'ignored' as const, downtimeId, reason: err.message };
      throw err;
    }
  });
}
