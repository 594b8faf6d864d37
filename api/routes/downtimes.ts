/** Operator and checkout calls on downtimes: list, read (record + live workflow state), open, and the incident managers' requests. */
import type { FastifyInstance } from 'fastify';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import { acknowledgeUpdate, cancelUpdate, escalateUpdate, extendUpdate, resolveUpdate, setProbePercentUpdate } from '../../common/definitions';
import { requireRole } from '../auth';
import { parseTime } from '../errors';
import { scopeSchema } from '../scope-schema';
import { DowntimeService } from '../services/downtimes';

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } } } as const;
/** Who acts: at least one character that is not white space (the actor refuses a blank name). */
const by = { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' } as const;
const reason = { type: 'string', maxLength: 2000 } as const;
const secured = { tags: ['downtimes'], security: [{ bearer: [] }] };
/** A request body: who acts, why, and the request's own fields. */
const requestBody = <P extends object, R extends readonly string[]>(properties: P, required: R) =>
  ({ type: 'object', additionalProperties: false, required: ['by', ...required], properties: { by, reason, ...properties } }) as const;

export async function downtimeRoutes(base: FastifyInstance): Promise<void> {
  const app = base.withTypeProvider<JsonSchemaToTsProvider>();
  const { db, temporal, keys, config, now } = app.deps;
  const downtimes = new DowntimeService({ db, temporal, config, now });
  const readers = requireRole(keys, 'operator', 'checkout');
  const operators = requireRole(keys, 'operator');

  app.get('/v1/downtimes', {
    onRequest: readers,
    schema: {
      ...secured,
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['scheduled', 'open', 'resolved', 'cancelled'] }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } } } as const,
    },
  }, async (req) => ({ downtimes: await downtimes.list(req.query) }));

  app.get('/v1/downtimes/:id', { onRequest: readers, schema: { ...secured, params: idParam } }, async (req) => downtimes.get(req.params.id));

  app.post('/v1/downtimes', {
    onRequest: operators,
    schema: {
      ...secured,
      description: 'Opens a manual (or planned) downtime of a scope; answers once its actor has recorded it, so the id can be read and acted on at once. A scope\'s `method` belongs to its `mode` (`card:visa` is of mode `card`; 400 naming `scope.mode` otherwise). `until`, when given, must be in the future (400 naming `until`). A future `startsAt` schedules maintenance: answered `scheduled` at once, it begins at `startsAt` (sooner if detection finds the scope failing) and ends at `until`, which it needs and which must come after it (400 naming `startsAt` or `until`); it can be cancelled until it begins. 409 with the downtime\'s id when the scope already has one open or scheduled.',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['scope', 'reason'],
        properties: { scope: scopeSchema(config.methodAttributes), reason: { type: 'string', minLength: 1, maxLength: 2000 }, until: { type: 'string', format: 'date-time' }, by, planned: { type: 'boolean' }, startsAt: { type: 'string', format: 'date-time' } },
        examples: [{ scope: { method: 'netbanking:hdfc', gateway: 'payu' }, reason: 'bank maintenance announced by HDFC', by: 'amy' }],
      } as const,
    },
  }, async (req, reply) => reply.code(202).send(await downtimes.open(req.body)));

  app.post('/v1/downtimes/:id/acknowledge', {
    onRequest: operators,
    schema: { ...secured, params: idParam, body: requestBody({ note: { type: 'string', maxLength: 2000 } } as const, [] as const) },
  }, async (req) => downtimes.request(req.params.id, 'acknowledge', acknowledgeUpdate, req.body));

  app.post('/v1/downtimes/:id/resolve', {
    onRequest: operators,
    schema: { ...secured, params: idParam, body: requestBody({} as const, [] as const) },
  }, async (req) => downtimes.request(req.params.id, 'resolve', resolveUpdate, req.body));

  app.post('/v1/downtimes/:id/extend', {
    onRequest: operators,
    schema: { ...secured, description: 'Keeps the downtime disabled until `until`, which must be in the future (400 naming `until`). 409 when the downtime is closed.', params: idParam, body: requestBody({ until: { type: 'string', format: 'date-time' } } as const, ['until'] as const) },
  }, async (req) => downtimes.request(req.params.id, 'extend', extendUpdate, { ...req.body, until: parseTime('until', req.body.until) }));

  app.post('/v1/downtimes/:id/escalate', {
    onRequest: operators,
    schema: { ...secured, description: 'Raises the severity, one step or to `severity`. 409 when the downtime is closed, or its severity is already at or above the one asked (SEV1 is the highest).', params: idParam, body: requestBody({ severity: { type: 'string', enum: ['SEV1', 'SEV2', 'SEV3', 'SEV4'] } } as const, [] as const) },
  }, async (req) => downtimes.request(req.params.id, 'escalate', escalateUpdate, req.body));

  app.post('/v1/downtimes/:id/cancel', {
    onRequest: operators,
    schema: { ...secured, description: 'Calls off a scheduled maintenance before it begins: it is answered `cancelled`, subscribers, chat and partners hear `downtime.cancelled`. 409 once it has begun (resolve it then) or when it is not scheduled maintenance.', params: idParam, body: requestBody({} as const, [] as const) },
  }, async (req) => downtimes.request(req.params.id, 'cancel', cancelUpdate, req.body));

  app.post('/v1/downtimes/:id/probe-percent', {
    onRequest: operators,
    schema: { ...secured, params: idParam, body: requestBody({ percent: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 100 } } as const, ['percent'] as const) },
  }, async (req) => downtimes.request(req.params.id, 'probe-percent', setProbePercentUpdate, req.body));
}
