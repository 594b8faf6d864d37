/** Operator and checkout calls on downtimes: list, read (record + live workflow state), open, and the incident-manager updates. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { normalizeScope, scopeKey, ScopeError } from '../../domain';
import {
  DOWNTIME_CLOSED,
  DowntimeInput,
  INVALID_REQUEST,
  acknowledgeUpdate,
  escalateUpdate,
  extendUpdate,
  resolveUpdate,
  setProbePercentUpdate,
  stateQuery,
} from '../../common/definitions';
import { startManualDowntime } from '../../common/starter';
import { downtimePolicy, newDowntimeId } from '../../common/policy';
import { requireRole } from '../auth';
import type { DowntimeDoc } from '../../db/mongo';

const UNREADABLE_UNTIL = 'until: expected an ISO-8601 date-time such as 2024-11-11T10:00:00Z';
const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } } } as const;
const actor = {
  by: { type: 'string', minLength: 1, maxLength: 200 },
  reason: { type: 'string', maxLength: 2000 },
} as const;
const scopeSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    mode: { type: 'string', pattern: '^[a-z0-9_]{1,40}$' },
    method: { type: 'string', pattern: '^[a-z0-9_]{1,40}:[a-z0-9_]{1,60}$' },
    gateway: { type: 'string', pattern: '^[a-z0-9_-]{1,60}$' },
  },
} as const;

export function present(d: DowntimeDoc) {
  return {
    id: d._id,
    scope: d.scope,
    scopeKey: d.scopeKey,
    origin: d.origin,
    reason: d.reason,
    status: d.status,
    phase: d.phase,
    severity: d.severity,
    openedAt: d.openedAt.toISOString(),
    disabledAt: d.disabledAt?.toISOString(),
    expiresAt: d.expiresAt.toISOString(),
    extendedUntil: d.extendedUntil?.toISOString(),
    probePercent: d.probePercent,
    acknowledgement: d.acknowledgement,
    lastProbe: d.lastProbe,
    evidence: d.evidence,
    reopensId: d.reopensId,
    supersededBy: d.supersededBy,
    endReason: d.endReason,
    resolvedAt: d.resolvedAt?.toISOString(),
    resolvedBy: d.resolvedBy,
  };
}

/**
 * How long an operator call waits on Temporal before answering 503. Without a deadline the client
 * retries an unreachable server for about 20 s, and a query to a workflow whose worker is down
 * waits about as long.
 */
export const TEMPORAL_DEADLINES_MS = { query: 5_000, start: 5_000, accept: 5_000, complete: 20_000 };

const TEMPORAL_UNAVAILABLE = 'the workflow service (Temporal) is unavailable; retry shortly';

function temporalUnavailable(reply: FastifyReply, err: unknown, message = TEMPORAL_UNAVAILABLE) {
  reply.log.warn({ err: err instanceof Error ? err.message : err }, 'Temporal unavailable');
  return reply.code(503).header('retry-after', '5').send({ error: 'temporal_unavailable', message });
}

/** Temporal unreachable or too slow: UNAVAILABLE or DEADLINE_EXCEEDED anywhere in the cause chain (the client wraps gRPC errors). */
export function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    if (isGrpcServiceError(e) && [4, 14].includes(e.code)) return true;
    if (/\b(UNAVAILABLE|DEADLINE_EXCEEDED)\b|ECONNREFUSED/.test(e.message)) return true;
  }
  return false;
}

export async function downtimeRoutes(app: FastifyInstance): Promise<void> {
  const { db, temporal, keys, config, now } = app.deps;
  const readers = requireRole(keys, 'operator', 'checkout');
  const operators = requireRole(keys, 'operator');

  app.get('/v1/downtimes', {
    onRequest: readers,
    schema: {
      tags: ['downtimes'],
      security: [{ bearer: [] }],
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['open', 'resolved'] }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } } },
    },
  }, async (req) => {
    const q = req.query as { status?: 'open' | 'resolved'; limit: number };
    const docs = await db.c.downtimes.find(q.status ? { status: q.status } : {}).sort({ openedAt: -1 }).limit(q.limit).toArray();
    return { downtimes: docs.map(present) };
  });

  app.get('/v1/downtimes/:id', { onRequest: readers, schema: { tags: ['downtimes'], security: [{ bearer: [] }], params: idParam } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const doc = await db.c.downtimes.findOne({ _id: id });
    if (!doc) return reply.code(404).send({ error: 'not_found', message: `downtime ${id} not found` });
    let live: unknown = null;
    let liveError: string | undefined;
    if (doc.status === 'open') {
      try {
        live = await temporal.withDeadline(Date.now() + TEMPORAL_DEADLINES_MS.query, () => temporal.workflow.getHandle(doc.workflowId).query(stateQuery));
      } catch (err) {
        liveError = isUnavailable(err) ? 'workflow service unavailable' : err instanceof Error ? err.message : String(err);
      }
    }
    const timeline = await db.c.timeline.find({ incidentId: id }).sort({ at: 1 }).toArray();
    return { ...present(doc), live, liveError, timeline: timeline.map((t) => ({ at: t.at.toISOString(), kind: t.kind, text: t.text, by: t.by })) };
  });

  app.post('/v1/downtimes', {
    onRequest: operators,
    schema: {
      tags: ['downtimes'],
      security: [{ bearer: [] }],
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['scope', 'reason'],
        properties: { scope: scopeSchema, reason: { type: 'string', minLength: 1, maxLength: 2000 }, until: { type: 'string', format: 'date-time' }, by: actor.by, planned: { type: 'boolean' } },
      },
    },
  }, async (req, reply) => {
    const body = req.body as { scope: Record<string, string>; reason: string; until?: string; by?: string; planned?: boolean };
    let scope;
    try {
      scope = normalizeScope(body.scope);
    } catch (err) {
      if (err instanceof ScopeError) {
        const field = err.field === 'scope' ? 'scope' : `scope.${err.field}`;
        return reply.code(400).send({ error: 'bad_request', field, message: `${field}: ${err.message}` });
      }
      throw err;
    }
    const at = now();
    const until = body.until !== undefined ? Date.parse(body.until) : undefined;
    // The schema's date-time admits forms Date.parse does not read (a leap second, an hour-only offset).
    if (until !== undefined && !Number.isFinite(until)) return reply.code(400).send({ error: 'bad_request', field: 'until', message: UNREADABLE_UNTIL });
    if (until !== undefined && until <= at) return reply.code(400).send({ error: 'bad_request', field: 'until', message: 'until: must be in the future' });
    const key = scopeKey(scope);
    const input: DowntimeInput = {
      downtimeId: newDowntimeId(),
      scope,
      scopeKey: key,
      origin: body.planned ? 'planned' : 'manual',
      reason: body.reason,
      openedBy: body.by ?? 'operator',
      openedAt: at,
      until,
      baseline: 0.95,
      threshold: 0.95 * (1 - config.detection.degradation),
      policy: downtimePolicy(config, until !== undefined ? Math.max(config.downtime.expiryMs, until - at) : config.downtime.expiryMs),
    };
    try {
      await temporal.withDeadline(Date.now() + TEMPORAL_DEADLINES_MS.start, () => startManualDowntime(temporal, config.temporal.taskQueue, input));
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const open = await db.c.downtimes.findOne({ scopeKey: key, status: 'open' });
        return reply.code(409).send({ error: 'conflict', message: `scope ${key} already has an open downtime`, downtimeId: open?._id });
      }
      if (isUnavailable(err)) return temporalUnavailable(reply, err);
      throw err;
    }
    return reply.code(202).send({ id: input.downtimeId, scopeKey: key, status: 'open' });
  });

  const updates = {
    acknowledge: { def: acknowledgeUpdate, extra: { note: { type: 'string', maxLength: 2000 } }, required: ['by'] },
    resolve: { def: resolveUpdate, extra: {}, required: ['by'] },
    extend: { def: extendUpdate, extra: { until: { type: 'string', format: 'date-time' } }, required: ['by', 'until'] },
    escalate: { def: escalateUpdate, extra: { severity: { type: 'string', enum: ['SEV1', 'SEV2', 'SEV3', 'SEV4'] } }, required: ['by'] },
    'probe-percent': { def: setProbePercentUpdate, extra: { percent: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 100 } }, required: ['by', 'percent'] },
  } as const;

  for (const [action, u] of Object.entries(updates)) {
    app.post(`/v1/downtimes/:id/${action}`, {
      onRequest: operators,
      schema: {
        tags: ['downtimes'],
        security: [{ bearer: [] }],
        params: idParam,
        body: { type: 'object', additionalProperties: false, required: [...u.required], properties: { ...actor, ...u.extra } },
      },
    }, async (req, reply) => {
      const { id } = req.params as { id: string };
      const body = req.body as Record<string, unknown>;
      const arg = action === 'extend' ? { ...body, until: Date.parse(String(body.until)) } : body;
      if (action === 'extend' && !Number.isFinite(arg.until)) return reply.code(400).send({ error: 'bad_request', field: 'until', message: UNREADABLE_UNTIL });
      const doc = await db.c.downtimes.findOne({ _id: id });
      if (!doc) return reply.code(404).send({ error: 'not_found', message: `downtime ${id} not found` });
      if (doc.status !== 'open') return reply.code(409).send({ error: 'conflict', message: `downtime ${id} is already resolved (${doc.endReason})` });
      try {
        const handle = temporal.workflow.getHandle(doc.workflowId);
        const update = await temporal.withDeadline(Date.now() + TEMPORAL_DEADLINES_MS.accept, () =>
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          handle.startUpdate(u.def as any, { args: [arg], waitForStage: WorkflowUpdateStage.ACCEPTED }),
        );
        // Accepted: the workflow will apply it. A 503 from here on must not invite a blind retry.
        let state: unknown;
        try {
          state = await temporal.withDeadline(Date.now() + TEMPORAL_DEADLINES_MS.complete, () => update.result());
        } catch (err) {
          if (!isUnavailable(err)) throw err;
          return temporalUnavailable(reply, err, `the ${action} was accepted but the workflow service did not confirm it in time; read the downtime before retrying`);
        }
        return { id, state };
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
          if (err.cause.type === DOWNTIME_CLOSED) return reply.code(409).send({ error: 'conflict', message: err.cause.message });
          if (err.cause.type === INVALID_REQUEST) {
            // "until: must be in the future" is about a field of the request; "already acknowledged by ana" is about the downtime's state.
            const field = /^(\w+):/.exec(err.cause.message)?.[1];
            if (field === undefined) return reply.code(409).send({ error: 'conflict', message: err.cause.message });
            return reply.code(400).send({ error: 'bad_request', field, message: err.cause.message });
          }
        }
        if (err instanceof WorkflowNotFoundError) return reply.code(409).send({ error: 'conflict', message: `downtime ${id} is no longer running` });
        if (isUnavailable(err)) return temporalUnavailable(reply, err);
        throw err;
      }
    });
  }
}
