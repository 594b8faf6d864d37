/**
 * The downtime's record and its incident: opened already disabled for bucket A, kept current with
 * the actor's live state, closed when it re-enables. The checkout snapshot and the API read them.
 */
import type { ActorState, EndReason, Page, ProbeDecision, Severity } from '../domain';
import { reviewDueAt, scopeLabel } from '../domain';
import { downtimeWorkflowId, type DowntimeInput } from '../common/definitions';
import { DowntimeDoc, IncidentDoc, TimelineDoc, isDuplicateKey } from '../db/mongo';
import { markDowntimeChanged } from '../db/downtime-changes';
import type { ActivityDeps } from './deps';
import { NotifyParams, Outbox, combined, notice, pageNotice, timelineEntry } from './outbox';

const DISABLED_TEXT = 'Hidden at checkout for bucket A; bucket B keeps it as a probe';

/** What a downtime's record takes from its input, scheduled or opened. */
function recordOf(input: DowntimeInput) {
  return {
    _id: input.downtimeId,
    scope: input.scope,
    scopeKey: input.scopeKey,
    origin: input.origin,
    reason: input.reason,
    openedBy: input.openedBy,
    until: input.until !== undefined ? new Date(input.until) : undefined,
    baseline: input.baseline,
    threshold: input.threshold,
    workflowId: downtimeWorkflowId(input.scopeKey),
  };
}

/** A new downtime's record, disabled from `disabledAt`, its incident, and its first timeline entries. */
function openingRecord(input: DowntimeInput, severity: Severity, expiresAt: number, disabledAt: number): { downtime: DowntimeDoc; incident: IncidentDoc; timeline: TimelineDoc[] } {
  const at = new Date(input.openedAt);
  const disabled = new Date(disabledAt);
  const downtime: DowntimeDoc = {
    ...recordOf(input),
    status: 'open',
    phase: 'probing',
    disabledAt: disabled,
    openedAt: at,
    expiresAt: new Date(expiresAt),
    probePercent: input.policy.probePercent,
    severity,
    evidence: input.evidence,
    reopensId: input.reopensId,
    updatedAt: disabled,
  };
  const incident: IncidentDoc = {
    _id: input.downtimeId,
    downtimeId: input.downtimeId,
    scopeKey: input.scopeKey,
    title: `${scopeLabel(input.scope)} unavailable`,
    severity,
    status: 'open',
    stage: 'investigating',
    openedAt: at,
    escalations: [],
  };
  const reopened = input.reopensId ? ` (reopens ${input.reopensId}: failing again soon after re-enable)` : '';
  const timeline: TimelineDoc[] = [
    { _id: `${input.downtimeId}:opened`, incidentId: input.downtimeId, kind: 'opened', text: `Downtime opened by ${input.openedBy}: ${input.reason}${reopened}`, at, by: input.openedBy },
    { _id: `${input.downtimeId}:disabled`, incidentId: input.downtimeId, kind: 'disabled', text: DISABLED_TEXT, at: disabled },
  ];
  return { downtime, incident, timeline };
}

export function downtimeRecordActivities(deps: Pick<ActivityDeps, 'db' | 'config'>, outbox: Outbox) {
  const c = deps.db.c;

  async function insertOnce<T>(insert: () => Promise<T>): Promise<void> {
    try {
      await insert();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  return {
    /**
     * A new downtime's whole start in one step: the record, already disabled for bucket A (the
     * first write, so nothing waits on the rest), then side by side the incident, the timeline,
     * the ops notification and webhook event, the partner alert and the page when there is one.
     * Every write is keyed, so a retry redoes only what is missing.
     */
    async openDowntime(
      input: DowntimeInput,
      severity: Severity,
      expiresAt: number,
      disabledAt: number,
      announce: { notify: NotifyParams; page?: Page },
    ): Promise<void> {
      const opening = openingRecord(input, severity, expiresAt, disabledAt);
      await insertOnce(() => c.downtimes.insertOne(opening.downtime));
      // A scheduled maintenance's record exists since it was scheduled: it opens now. (Only then:
      // an update reads the whole collection on FerretDB 1.24, and a burst of opens pays it each.)
      if (input.startsAt !== undefined) {
        const { _id, ...opened } = opening.downtime;
        await c.downtimes.updateOne({ _id, status: 'scheduled' }, { $set: opened });
      }
      await markDowntimeChanged(deps.db, input.downtimeId);
      const outgoing = combined(
        { notifications: [], timeline: opening.timeline, webhooks: [] },
        notice(announce.notify),
        announce.page && pageNotice(announce.page),
      );
      await Promise.all([insertOnce(() => c.incidents.insertOne(opening.incident)), outbox.send(outgoing)]);
    },

    /**
     * A maintenance scheduled ahead: its record (`scheduled`, nothing hidden yet), the timeline
     * entry and the notice to subscribers, chat and partners, each once.
     */
    async scheduleDowntime(input: DowntimeInput, notify: NotifyParams): Promise<void> {
      const at = new Date(input.openedAt);
      const doc: DowntimeDoc = {
        ...recordOf(input),
        status: 'scheduled',
        phase: 'scheduled',
        openedAt: at,
        startsAt: new Date(input.startsAt ?? input.openedAt),
        expiresAt: new Date(input.until ?? input.startsAt ?? input.openedAt),
        probePercent: input.policy.probePercent,
        severity: 'SEV4',
        updatedAt: at,
      };
      await insertOnce(() => c.downtimes.insertOne(doc));
      await markDowntimeChanged(deps.db, input.downtimeId);
      const window = `${doc.startsAt!.toISOString()} to ${doc.until?.toISOString() ?? 'open-ended'}`;
      await outbox.send(combined(timelineEntry({ downtimeId: input.downtimeId, key: 'scheduled', kind: 'scheduled', text: `Maintenance scheduled by ${input.openedBy} for ${window}: ${input.reason}`, at: input.openedAt, by: input.openedBy }), notice(notify)));
    },

    /** Calls off a scheduled maintenance: its record says cancelled, and those told it was scheduled hear so. */
    async cancelScheduled(p: { downtimeId: string; at: number; by: string; reason?: string }, notify: NotifyParams): Promise<void> {
      await c.downtimes.updateOne({ _id: p.downtimeId, status: 'scheduled' }, { $set: { status: 'cancelled', phase: 'resolved', endReason: 'cancelled', cancelledAt: new Date(p.at), resolvedBy: p.by, updatedAt: new Date(p.at) } });
      await markDowntimeChanged(deps.db, p.downtimeId, { closed: true });
      await outbox.send(combined(timelineEntry({ downtimeId: p.downtimeId, key: 'cancelled', kind: 'cancelled', text: `Maintenance cancelled by ${p.by}${p.reason ? `: ${p.reason}` : ''}`, at: p.at, by: p.by }), notice(notify)));
    },

    /**
     * Persists the live state the API and the snapshot read. `changed` says which parts differ from
     * the last save (all, when absent): the incident's severity and acknowledgement, and what
     * checkout reads (severity, probe share, wake requests; see db/downtime-changes.ts). A part
     * that did not change is not written, and checkout is not told.
     */
    async saveDowntimeState(p: { downtimeId: string; at: number; changed?: { incident: boolean; checkout: boolean } } & Pick<ActorState, 'severity' | 'probePercent' | 'expiresAt' | 'extendedUntil' | 'acknowledgement' | 'lastProbe' | 'wakeOnProbeSuccess' | 'wakeOnProbeOutcome'>): Promise<void> {
      // By `_id` alone: the actor is its open record's only writer and saves before it closes, so
      // no status guard is needed, and an `_id`-only filter is the lookup FerretDB's SQLite backend
      // can serve from an index (tools/ferretdb/idindex.go) rather than by decoding every record.
      await c.downtimes.updateOne(
        { _id: p.downtimeId },
        {
          $set: {
            severity: p.severity,
            probePercent: p.probePercent,
            expiresAt: new Date(p.expiresAt),
            ...(p.extendedUntil !== undefined ? { extendedUntil: new Date(p.extendedUntil) } : {}),
            ...(p.acknowledgement ? { acknowledgement: p.acknowledgement } : {}),
            ...(p.lastProbe ? { lastProbe: p.lastProbe } : {}),
            wakeOnProbeSuccess: p.wakeOnProbeSuccess,
            wakeOnProbeOutcome: p.wakeOnProbeOutcome,
            updatedAt: new Date(p.at),
          },
        },
      );
      if (p.changed?.checkout !== false) await markDowntimeChanged(deps.db, p.downtimeId);
      if (p.changed?.incident === false) return;
      await c.incidents.updateOne(
        { _id: p.downtimeId },
        {
          $set: {
            severity: p.severity,
            ...(p.acknowledgement ? { acknowledgedAt: new Date(p.acknowledgement.at), acknowledgedBy: p.acknowledgement.by } : {}),
          },
        },
      );
      // Someone owns it now: an incident still investigating has its cause identified by them.
      if (p.acknowledgement) await c.incidents.updateOne({ _id: p.downtimeId, status: 'open', stage: 'investigating' }, { $set: { stage: 'identified' } });
    },

    /** Re-enables the scope and closes the record and the incident. */
    async closeDowntime(p: { downtimeId: string; endReason: EndReason; at: number; by: string; supersededBy?: string; severity: Severity; lastProbe?: ProbeDecision; outageRate?: number }): Promise<void> {
      const at = new Date(p.at);
      await c.downtimes.updateOne(
        { _id: p.downtimeId, status: 'open' },
        {
          $set: {
            status: 'resolved',
            phase: 'resolved',
            endReason: p.endReason,
            resolvedAt: at,
            resolvedBy: p.by,
            severity: p.severity,
            updatedAt: at,
            ...(p.supersededBy ? { supersededBy: p.supersededBy } : {}),
            ...(p.lastProbe ? { lastProbe: p.lastProbe } : {}),
            ...(p.outageRate !== undefined ? { outageRate: p.outageRate } : {}),
          },
        },
      );
      await markDowntimeChanged(deps.db, p.downtimeId, { closed: true });
      const dueAt = reviewDueAt(p.severity, p.at, deps.config.reviewDueAfterMs, p.endReason);
      await c.incidents.updateOne(
        { _id: p.downtimeId, status: 'open' },
        { $set: { status: 'resolved', stage: 'resolved', resolvedAt: at, endReason: p.endReason, severity: p.severity, ...(dueAt !== undefined ? { reviewDueAt: new Date(dueAt) } : {}) } },
      );
      const how = { recovered: 'probe proved recovery', expired: 'expiry reached without enough probe evidence', manual: 'resolved by the incident manager', superseded: `superseded by ${p.supersededBy}`, completed: 'the planned maintenance window is over', cancelled: 'the planned maintenance was cancelled' }[p.endReason];
      await outbox.send(timelineEntry({ downtimeId: p.downtimeId, key: 'closed', kind: 'resolved', text: `Re-enabled: ${how}`, at: p.at, by: p.by }));
    },
  };
}
