/**
 * Downtimes for the API: records read from the database, the live state and incident managers'
 * requests through Temporal. Throws the API's errors (api/errors.ts); routes only translate HTTP.
 */
import type { Client } from '@temporalio/client';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import type { Config } from '../../common/config';
import { DowntimeInput, DowntimeStatus, DowntimeView, REQUEST_REFUSED, stateQuery } from '../../common/definitions';
import { manualDowntimeInput } from '../../common/policy';
import { startManualDowntime } from '../../common/starter';
import { workflowInUi } from '../../common/temporal-ui';
import { Refusal, scopeKey } from '../../domain';
import type { Database, DowntimeDoc } from '../../db/mongo';
import { presentDelivery } from './webhooks';
import { ApiError, badRequest, conflict, notFound, parseTime, temporalUnavailable, validScope } from '../errors';

/**
 * How long an operator call waits on Temporal before answering 503. Without a deadline the client
 * retries an unreachable server for about 20 s, and a query to a workflow whose worker is down
 * waits about as long.
 */
export const TEMPORAL_DEADLINES_MS = { query: 5_000, start: 5_000, accept: 5_000, complete: 20_000 };
/**
 * How long opening a downtime waits for its actor's first step (the record) so that the answer's
 * id can be read and acted on at once, and how often it looks: soon at first, then less and less
 * (every look reads the database, and a burst of opens multiplies them).
 */
const RECORDED_WAIT_MS = { total: 5_000, firstPoll: 25, maxPoll: 500, growth: 1.5 };

/** Temporal unreachable or too slow: UNAVAILABLE or DEADLINE_EXCEEDED anywhere in the cause chain (the client wraps gRPC errors). */
export function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    if (isGrpcServiceError(e) && [4, 14].includes(e.code)) return true;
    if (/\b(UNAVAILABLE|DEADLINE_EXCEEDED)\b|ECONNREFUSED/.test(e.message)) return true;
  }
  return false;
}

/** A downtime as the API shows it, with the link to its actor's page in the Temporal Web UI. */
export function presentDowntime(d: DowntimeDoc, config: Config) {
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
    startsAt: d.startsAt?.toISOString(),
    until: d.until?.toISOString(),
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
    links: { temporalUi: workflowInUi(config, d.workflowId) },
  };
}

/** A refused request as the API answers it: a field that is wrong is 400, a downtime whose state refuses it 409. */
export function refusalError(r: Refusal): ApiError {
  return r.kind === 'invalid' ? new ApiError(400, 'bad_request', r.message, { field: r.field }) : conflict(r.message);
}

export interface ManualDowntimeRequest {
  scope: Record<string, string>;
  reason: string;
  until?: string;
  by?: string;
  planned?: boolean;
  /** Scheduled maintenance: a future start (with `until`). */
  startsAt?: string;
}

export class DowntimeService {
  constructor(private readonly deps: { db: Database; temporal: Client; config: Config; now: () => number }) {}

  async list(q: { status?: DowntimeStatus; limit: number }) {
    const docs = await this.deps.db.c.downtimes.find(q.status ? { status: q.status } : {}).sort({ openedAt: -1 }).limit(q.limit).toArray();
    return docs.map((d) => presentDowntime(d, this.deps.config));
  }

  /** The record, the workflow's live state while open (or why it could not be read), and the incident's timeline. */
  async get(id: string) {
    const { db, temporal } = this.deps;
    const doc = await this.record(id);
    let live: DowntimeView | null = null;
    let liveError: string | undefined;
    if (doc.status === 'open' || doc.status === 'scheduled') {
      try {
        live = await temporal.withDeadline(Date.now() + TEMPORAL_DEADLINES_MS.query, () => temporal.workflow.getHandle(doc.workflowId).query(stateQuery));
      } catch (err) {
        liveError = isUnavailable(err) ? 'workflow service unavailable' : err instanceof Error ? err.message : String(err);
      }
    }
    const [timeline, deliveries] = await Promise.all([
      db.c.timeline.find({ incidentId: id }).sort({ at: 1 }).toArray(),
      db.c.deliveries.find({ downtimeId: id }, { projection: { body: 0 } }).sort({ createdAt: 1 }).limit(500).toArray(),
    ]);
    return {
      ...presentDowntime(doc, this.deps.config),
      live,
      liveError,
      timeline: timeline.map((t) => ({ at: t.at.toISOString(), kind: t.kind, text: t.text, by: t.by })),
      deliveries: deliveries.map(presentDelivery),
    };
  }

  /** Opens a manual (or planned) downtime of a scope: its actor starts and disables it at once. */
  async open(req: ManualDowntimeRequest): Promise<{ id: string; scopeKey: string; status: 'open' | 'scheduled' }> {
    const { db, temporal, config, now } = this.deps;
    const scope = validScope(req.scope);
    const at = now();
    const until = req.until !== undefined ? parseTime('until', req.until) : undefined;
    const startsAt = req.startsAt !== undefined ? parseTime('startsAt', req.startsAt) : undefined;
    if (startsAt !== undefined) {
      if (startsAt <= at) throw badRequest('startsAt', 'must be in the future (leave it out to start now)');
      if (until === undefined) throw badRequest('until', 'scheduled maintenance needs an end');
      if (until <= startsAt) throw badRequest('until', 'must be after startsAt');
    }
    if (until !== undefined && until <= at) throw badRequest('until', 'must be in the future');
    const planned = req.planned === true || startsAt !== undefined;
    const input: DowntimeInput = { ...manualDowntimeInput(config, { scope, scopeKey: scopeKey(scope), reason: req.reason, by: req.by ?? 'operator', planned, at, until: until, from: startsAt }), ...(startsAt !== undefined ? { startsAt } : {}) };
    try {
      await temporal.withDeadline(Date.now() + TEMPORAL_DEADLINES_MS.start, () => startManualDowntime(temporal, config.temporal.taskQueue, input));
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const open = await db.c.downtimes.findOne({ scopeKey: input.scopeKey, status: { $in: ['open', 'scheduled'] } });
        throw conflict(`scope ${input.scopeKey} already has ${open?.status === 'scheduled' ? 'scheduled maintenance' : 'an open downtime'}`, open ? { downtimeId: open._id } : {});
      }
      if (isUnavailable(err)) throw temporalUnavailable();
      throw err;
    }
    await this.recorded(input.downtimeId);
    return { id: input.downtimeId, scopeKey: input.scopeKey, status: startsAt !== undefined ? ('scheduled' as const) : ('open' as const) };
  }

  /**
   * Waits until the actor has recorded the downtime (its first step, within milliseconds while a
   * worker runs). Without a worker the answer still comes: the start was accepted and the actor
   * records it when a worker polls, until when reads of the id answer 404.
   */
  private async recorded(id: string): Promise<void> {
    const deadline = Date.now() + RECORDED_WAIT_MS.total;
    for (let poll = RECORDED_WAIT_MS.firstPoll; Date.now() < deadline; poll = Math.min(RECORDED_WAIT_MS.maxPoll, poll * RECORDED_WAIT_MS.growth)) {
      if (await this.deps.db.c.downtimes.findOne({ _id: id }, { projection: { _id: 1 } })) return;
      await new Promise((r) => setTimeout(r, Math.min(poll, Math.max(0, deadline - Date.now()))));
    }
  }

  /**
   * An incident manager's request to the open downtime's actor, as a Temporal update: refused by
   * its validator (409 or 400, see `refusalError`), or applied, answering the actor's state.
   */
  async request<R>(id: string, action: string, update: UpdateDefinition<DowntimeView, [R]>, arg: R, updateId?: string): Promise<{ id: string; state: DowntimeView }> {
    const { temporal } = this.deps;
    const doc = await this.record(id);
    if (doc.status === 'resolved' || doc.status === 'cancelled') throw conflict(`downtime ${id} is already ${doc.status} (${doc.endReason})`);
    try {
      const handle = temporal.workflow.getHandle(doc.workflowId);
      const started = await temporal.withDeadline(Date.now() + TEMPORAL_DEADLINES_MS.accept, () => handle.startUpdate(update, { args: [arg], waitForStage: WorkflowUpdateStage.ACCEPTED, ...(updateId ? { updateId } : {}) }));
      // Accepted: the workflow will apply it. A 503 from here on must not invite a blind retry.
      try {
        return { id, state: await temporal.withDeadline(Date.now() + TEMPORAL_DEADLINES_MS.complete, () => started.result()) };
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        throw temporalUnavailable(`the ${action} was accepted but the workflow service did not confirm it in time; read the downtime before retrying`);
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === REQUEST_REFUSED) {
        throw refusalError(err.cause.details?.[0] as Refusal);
      }
      if (err instanceof WorkflowNotFoundError) throw conflict(`downtime ${id} is no longer running`);
      if (isUnavailable(err)) throw temporalUnavailable();
      throw err;
    }
  }

  private async record(id: string): Promise<DowntimeDoc> {
    const doc = await this.deps.db.c.downtimes.findOne({ _id: id });
    if (!doc) throw notFound('downtime', id);
    return doc;
  }
}
