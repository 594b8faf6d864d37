/**
 * Activities: small, idempotent steps that touch the world. The worker builds the deps
 * (database, Temporal client, config, clock) and calls createActivities(deps).
 * Idempotency comes from business keys: a downtime's _id, a notification's key, a
 * timeline entry's key; a retried activity finds its work already done.
 */
import type { Client } from '@temporalio/client';
import {
  EndReason,
  ProbeCounts,
  ProbeDecision,
  Scope,
  ScopeHealth,
  Severity,
  activeFreeze,
  evaluateScopes,
  isRecurring,
  reopenPlan,
  scopeCovers,
  scopeLabel,
  windowedProbe,
  withoutOverruledEvidence,
  countedWindow,
} from '../domain';
import type { Config } from '../common/config';
import { evidenceSignal, supersedeSignal } from '../common/definitions';
import { detectionSettings, downtimePolicy, newDowntimeId } from '../common/policy';
import type { Acknowledgement, DowntimeInput, Evidence } from '../common/definitions';
import { startOrFeedDowntime } from '../common/starter';
import { Database, DeliveryDoc, DowntimeDoc, IncidentDoc, NotificationDoc, TimelineDoc, WebhookEventDoc, isDuplicateKey } from '../db/mongo';
import { openDowntimes, readCounters } from '../db/queries';
import { insertIdempotent } from '../db/counters';

export interface ActivityDeps {
  db: Database;
  config: Config;
  temporal: { client: Client; taskQueue: string };
  /** The edge that reads the clock. */
  now: () => number;
  /** Where ops notifications are logged (pino in the worker). */
  log?: { info(obj: object, msg: string): void };
}

export type Activities = ReturnType<typeof createActivities>;

const DISABLED_TEXT = 'Hidden at checkout for bucket A; bucket B keeps it as a probe';

export interface NotifyParams {
  key: string;
  downtimeId: string;
  type: WebhookEventDoc['type'];
  text: string;
  at: number;
  data: Record<string, unknown>;
}
export interface PartnerAlertParams {
  downtimeId: string;
  scope: Scope;
  at: number;
}
export interface PageParams {
  downtimeId: string;
  severity: Severity;
  n: number;
  at: number;
  text: string;
}

/** What a step sends out: notifications and timeline entries (each once, by _id) and webhook events. */
interface Dispatch {
  notifications: NotificationDoc[];
  timeline: TimelineDoc[];
  webhooks: { eventId: string; type: WebhookEventDoc['type']; downtimeId: string; data: Record<string, unknown>; at: number }[];
}

/** Ops are told, webhook subscribers get the event, the incident's timeline gets the entry. */
function notice(p: NotifyParams): Dispatch {
  const at = new Date(p.at);
  return {
    notifications: [{ _id: `${p.key}:ops`, downtimeId: p.downtimeId, channel: 'ops', event: p.type, text: p.text, at }],
    timeline: [{ _id: `${p.key}:timeline`, incidentId: p.downtimeId, kind: p.type, text: p.text, at }],
    webhooks: [{ eventId: p.key, type: p.type, downtimeId: p.downtimeId, data: p.data, at: p.at }],
  };
}

/** The gateway's or bank's contact hears about it. */
function partnerAlert(p: PartnerAlertParams): Dispatch {
  const partner = p.scope.gateway ?? p.scope.method ?? p.scope.mode ?? 'unknown';
  const text = `Partner ${partner}: we see ${scopeLabel(p.scope)} failing and have routed traffic away`;
  return { notifications: [{ _id: `${p.downtimeId}:partner`, downtimeId: p.downtimeId, channel: 'partner', event: 'partner.alert', text, at: new Date(p.at) }], timeline: [], webhooks: [] };
}

/** On-call is paged (SEV1 also senior management); `n` numbers the pages of one downtime. */
function pageNotice(p: PageParams): Dispatch {
  const audience = p.severity === 'SEV1' ? 'on-call + senior management' : 'on-call';
  const at = new Date(p.at);
  return {
    notifications: [{ _id: `${p.downtimeId}:page:${p.n}`, downtimeId: p.downtimeId, channel: 'page', event: `page.${p.severity}`, text: `[${p.severity}] page #${p.n} to ${audience}: ${p.text}`, at }],
    timeline: [{ _id: `${p.downtimeId}:page:${p.n}:timeline`, incidentId: p.downtimeId, kind: 'paged', text: `Paged ${audience} (${p.severity}, page #${p.n})`, at }],
    webhooks: [],
  };
}

function combined(...parts: (Dispatch | undefined)[]): Dispatch {
  const present = parts.filter((d): d is Dispatch => d !== undefined);
  return {
    notifications: present.flatMap((d) => d.notifications),
    timeline: present.flatMap((d) => d.timeline),
    webhooks: present.flatMap((d) => d.webhooks),
  };
}

/** A new downtime's record, its incident and its first timeline entries (opened, and disabled when it starts so). */
function openingRecord(input: DowntimeInput, severity: Severity, expiresAt: number, disabledAt?: number): { downtime: DowntimeDoc; incident: IncidentDoc; entries: Dispatch } {
  const at = new Date(input.openedAt);
  const disabled = disabledAt !== undefined ? new Date(disabledAt) : undefined;
  const downtime: DowntimeDoc = {
    _id: input.downtimeId,
    scope: input.scope,
    scopeKey: input.scopeKey,
    origin: input.origin,
    reason: input.reason,
    openedBy: input.openedBy,
    status: 'open',
    phase: disabled ? 'probing' : 'disabling',
    disabledAt: disabled,
    openedAt: at,
    expiresAt: new Date(expiresAt),
    until: input.until !== undefined ? new Date(input.until) : undefined,
    probePercent: input.policy.probePercent,
    severity,
    evidence: input.evidence,
    baseline: input.baseline,
    threshold: input.threshold,
    reopensId: input.reopensId,
    workflowId: `downtime:${input.scopeKey}`,
    updatedAt: disabled ?? at,
  };
  const incident: IncidentDoc = {
    _id: input.downtimeId,
    downtimeId: input.downtimeId,
    scopeKey: input.scopeKey,
    title: `${scopeLabel(input.scope)} unavailable`,
    severity,
    status: 'open',
    openedAt: at,
    escalations: [],
  };
  const reopened = input.reopensId ? ` (reopens ${input.reopensId}: failing again soon after re-enable)` : '';
  const timeline: TimelineDoc[] = [
    { _id: `${input.downtimeId}:opened`, incidentId: input.downtimeId, kind: 'opened', text: `Downtime opened by ${input.openedBy}: ${input.reason}${reopened}`, at, by: input.openedBy },
  ];
  if (disabled) timeline.push({ _id: `${input.downtimeId}:disabled`, incidentId: input.downtimeId, kind: 'disabled', text: DISABLED_TEXT, at: disabled });
  return { downtime, incident, entries: { notifications: [], timeline, webhooks: [] } };
}

export function createActivities(deps: ActivityDeps) {
  const { db, config } = deps;
  const c = db.c;

  /** One timeline entry, once per key. */
  async function addTimeline(incidentId: string, key: string, kind: string, text: string, at: number, by?: string) {
    await send({ notifications: [], timeline: [{ _id: key, incidentId, kind, text, at: new Date(at), by }], webhooks: [] });
  }

  /** Writes the webhook event and one pending delivery per matching subscription, once per key. */
  async function enqueueWebhooks(w: Dispatch['webhooks'][number]) {
    const { eventId, type, downtimeId, data, at } = w;
    try {
      await c.webhookEvents.insertOne({ _id: eventId, type, downtimeId, data, createdAt: new Date(at) });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const subscriptions = await c.webhooks.find({ events: type }).toArray();
    const body = JSON.stringify({ id: eventId, type, createdAt: new Date(at).toISOString(), data });
    const deliveries: DeliveryDoc[] = subscriptions.map((sub) => ({
      _id: `${eventId}:${sub._id}`,
      eventId,
      subscriptionId: sub._id,
      url: sub.url,
      type,
      body,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: new Date(at),
      createdAt: new Date(at),
    }));
    await insertIdempotent((docs) => c.deliveries.insertMany(docs, { ordered: false }), deliveries);
  }

  /**
   * Sends a dispatch: notifications, timeline entries and webhook events are written side by side,
   * each once (a retry finds those already written). Returns the notifications this call sent.
   */
  async function send(d: Dispatch): Promise<NotificationDoc[]> {
    const [sent] = await Promise.all([
      insertIdempotent((docs) => c.notifications.insertMany(docs, { ordered: false }), d.notifications),
      insertIdempotent((docs) => c.timeline.insertMany(docs, { ordered: false }), d.timeline),
      ...d.webhooks.map(enqueueWebhooks),
    ]);
    for (const n of sent) deps.log?.info({ downtimeId: n.downtimeId, channel: n.channel, event: n.event }, n.text);
    return sent;
  }

  /** Inserts the downtime's record; a retry that finds it makes sure it is disabled when it should be. */
  async function insertRecord(doc: DowntimeDoc): Promise<void> {
    try {
      await c.downtimes.insertOne(doc);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // A no-op when the first try got that far.
      if (doc.disabledAt) await c.downtimes.updateOne({ _id: doc._id, disabledAt: { $exists: false } }, { $set: { disabledAt: doc.disabledAt, phase: 'probing', updatedAt: doc.disabledAt } });
    }
  }

  async function openIncident(doc: IncidentDoc): Promise<void> {
    try {
      await c.incidents.insertOne(doc);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  return {
    /** Reads the per-route counters of the window and judges every scope (roll-up included). */
    async detectFailingScopes(now: number): Promise<{ failing: ScopeHealth[]; evaluated: number }> {
      const settings = detectionSettings(config);
      const [counters, recovered] = await Promise.all([
        readCounters(db, now - settings.windowMs - settings.baselineWindowMs, now),
        c.downtimes
          .find({ status: 'resolved', endReason: { $in: ['recovered', 'manual'] }, resolvedAt: { $gte: new Date(now - settings.windowMs) } }, { projection: { scope: 1, resolvedAt: 1 } })
          .toArray(),
      ]);
      const recoveries = recovered.map((d) => ({ scope: d.scope, at: d.resolvedAt!.getTime() }));
      const verdict = evaluateScopes(withoutOverruledEvidence(counters, recoveries, now, settings.windowMs), now, settings);
      const failing = verdict.failing.map((h) => countedWindow(h, recoveries, now, config.detection.counterBucketMs));
      return { failing, evaluated: verdict.failing.length + verdict.healthy.length };
    },

    /**
     * Starts the downtime of a failing scope, or feeds the open downtime that already covers it.
     * Narrower open downtimes inside a newly started scope are superseded.
     */
    async openOrFeedDowntime(health: ScopeHealth, now: number): Promise<{ action: 'started' | 'signalled'; downtimeId: string; superseded: string[] }> {
      const evidence: Evidence = {
        at: now,
        attempts: health.attempts,
        windowMs: health.windowMs,
        successes: health.successes,
        rate: health.rate,
        baseline: health.baseline,
        threshold: health.threshold,
        trafficShare: health.trafficShare,
        ...(health.detectionWindow ? { detectionWindow: health.detectionWindow } : {}),
      };
      const open = await openDowntimes(db);
      const covering = open.find((d) => d.scopeKey !== health.key && scopeCovers(d.scope, health.scope));
      if (covering) {
        const handle = deps.temporal.client.workflow.getHandle(covering.workflowId);
        await handle.signal(evidenceSignal, evidence);
        return { action: 'signalled', downtimeId: covering._id, superseded: [] };
      }
      const previous = await c.downtimes.find({ scopeKey: health.key, status: 'resolved' }).sort({ resolvedAt: -1 }).limit(1).next();
      const plan = reopenPlan(
        previous?.resolvedAt ? { id: previous._id, resolvedAt: previous.resolvedAt.getTime(), expiryMs: previous.expiresAt.getTime() - previous.openedAt.getTime() } : undefined,
        now,
        config.downtime.expiryMs,
        { windowMs: config.downtime.flapWindowMs, multiplier: config.downtime.flapMultiplier, maxExpiryMs: config.downtime.maxExpiryMs },
      );
      const input: DowntimeInput = {
        downtimeId: newDowntimeId(),
        scope: health.scope,
        scopeKey: health.key,
        origin: 'detected',
        reason: `success rate ${(health.rate * 100).toFixed(1)}% over ${health.attempts} attempts, below ${(health.threshold * 100).toFixed(1)}% (baseline ${(health.baseline * 100).toFixed(1)}%)`,
        openedBy: 'detection',
        openedAt: now,
        reopensId: plan.reopensId,
        evidence,
        baseline: health.baseline,
        threshold: health.threshold,
        policy: downtimePolicy(config, plan.expiryMs),
      };
      const res = await startOrFeedDowntime(deps.temporal.client, deps.temporal.taskQueue, input, evidence);
      const superseded: string[] = [];
      if (res.started) {
        for (const narrower of open.filter((d) => d.scopeKey !== health.key && scopeCovers(health.scope, d.scope))) {
          await deps.temporal.client.workflow
            .getHandle(narrower.workflowId)
            .signal(supersedeSignal, { byDowntimeId: res.downtimeId, byScopeKey: health.key });
          superseded.push(narrower._id);
        }
      }
      return { action: res.started ? 'started' : 'signalled', downtimeId: res.downtimeId, superseded };
    },

    /**
     * Records the downtime and opens its incident (once). Given `disabledAt`, the record is written
     * already disabled for bucket A (phase 'probing'), so no disableScope follows: one insert
     * instead of an insert and an update (an update reads the whole collection on FerretDB).
     */
    async recordDowntime(input: DowntimeInput, severity: Severity, expiresAt: number, disabledAt?: number): Promise<void> {
      const opening = openingRecord(input, severity, expiresAt, disabledAt);
      await insertRecord(opening.downtime);
      await Promise.all([openIncident(opening.incident), send(opening.entries)]);
    },

    /**
     * A new downtime's whole start in one step: the record, already disabled for bucket A (the
     * first write, so nothing waits on the rest), then side by side the incident, the timeline,
     * the ops notification and webhook event, the partner alert and the page when there is one.
     * One local activity instead of three, five or six round trips to the database instead of
     * eight to ten; every write is keyed, so a retry redoes only what is missing.
     */
    async openDowntime(
      input: DowntimeInput,
      severity: Severity,
      expiresAt: number,
      disabledAt: number,
      announce: { notify: NotifyParams; partner: PartnerAlertParams; page?: PageParams },
    ): Promise<void> {
      const opening = openingRecord(input, severity, expiresAt, disabledAt);
      await insertRecord(opening.downtime);
      const outgoing = combined(
        opening.entries,
        notice(announce.notify),
        partnerAlert(announce.partner),
        announce.page && pageNotice(announce.page),
      );
      await Promise.all([openIncident(opening.incident), send(outgoing)]);
    },

    /** Hides the scope for bucket A: the checkout snapshot hides open downtimes that are disabled. */
    async disableScope(downtimeId: string, at: number): Promise<void> {
      await c.downtimes.updateOne({ _id: downtimeId, disabledAt: { $exists: false } }, { $set: { disabledAt: new Date(at), phase: 'probing', updatedAt: new Date(at) } });
      await addTimeline(downtimeId, `${downtimeId}:disabled`, 'disabled', DISABLED_TEXT, at);
    },

    /** Tells ops and webhook subscribers; the key makes it once-only. */
    async notify(p: NotifyParams): Promise<boolean> {
      return (await send(notice(p))).length > 0;
    },

    /** Alerts the gateway's or bank's contact. */
    async alertPartner(p: PartnerAlertParams): Promise<boolean> {
      return (await send(partnerAlert(p))).length > 0;
    },

    /** Pages on-call (SEV1 also senior management); `n` numbers the pages of one downtime. */
    async page(p: PageParams): Promise<boolean> {
      return (await send(pageNotice(p))).length > 0;
    },

    /**
     * Bucket-B outcomes for the scope since `since`, and whether a freeze window is active. Also the
     * start of the counter bucket holding `now` and the outcomes in it so far: a test restarted
     * there, less those, counts every later outcome once and loses none (the workflow's
     * EXACT_RESTARTS). `nextSince`, the bucket after it, is where runs from before restarted.
     */
    async readProbe(p: { scope: Scope; since: number; now: number }): Promise<{
      successes: number;
      failures: number;
      inFreeze: boolean;
      nextSince?: number;
      bucketStart?: number;
      inBucket?: ProbeCounts;
    }> {
      // From the bucket holding `since` to the one holding `now`.
      const bucketMs = config.detection.counterBucketMs;
      const from = p.since - bucketMs + 1;
      const counters = await readCounters(db, from, p.now);
      const probe = windowedProbe(counters, p.scope, from, p.now);
      const bucketStart = Math.floor(p.now / bucketMs) * bucketMs;
      const inBucket = windowedProbe(counters, p.scope, bucketStart, p.now);
      const windows = await c.freezeWindows.find({ endsAt: { $gt: new Date(p.now) } }).toArray();
      const freeze = activeFreeze(windows.map((w) => ({ id: w._id, name: w.name, startsAt: w.startsAt.getTime(), endsAt: w.endsAt.getTime() })), p.now);
      return { ...probe, inFreeze: freeze !== undefined, nextSince: bucketStart + bucketMs, bucketStart, inBucket };
    },

    /** Persists the live state the API and the snapshot read. */
    async saveDowntimeState(p: {
      downtimeId: string;
      at: number;
      severity: Severity;
      probePercent: number;
      expiresAt: number;
      extendedUntil?: number;
      acknowledgement?: Acknowledgement;
      lastProbe?: ProbeDecision;
      wakeOnProbeSuccess?: boolean;
      wakeOnProbeOutcome?: boolean;
    }): Promise<void> {
      await c.downtimes.updateOne(
        { _id: p.downtimeId, status: 'open' },
        {
          $set: {
            severity: p.severity,
            probePercent: p.probePercent,
            expiresAt: new Date(p.expiresAt),
            ...(p.extendedUntil !== undefined ? { extendedUntil: new Date(p.extendedUntil) } : {}),
            ...(p.acknowledgement ? { acknowledgement: p.acknowledgement } : {}),
            ...(p.lastProbe ? { lastProbe: p.lastProbe } : {}),
            ...(p.wakeOnProbeSuccess !== undefined ? { wakeOnProbeSuccess: p.wakeOnProbeSuccess } : {}),
            ...(p.wakeOnProbeOutcome !== undefined ? { wakeOnProbeOutcome: p.wakeOnProbeOutcome } : {}),
            updatedAt: new Date(p.at),
          },
        },
      );
      await c.incidents.updateOne(
        { _id: p.downtimeId, status: 'open' },
        {
          $set: {
            severity: p.severity,
            ...(p.acknowledgement ? { acknowledgedAt: new Date(p.acknowledgement.at), acknowledgedBy: p.acknowledgement.by } : {}),
          },
        },
      );
    },

    /** An entry on the incident's timeline, once per key. */
    async recordTimeline(p: { downtimeId: string; key: string; kind: string; text: string; at: number; by?: string }): Promise<void> {
      await addTimeline(p.downtimeId, `${p.downtimeId}:${p.key}`, p.kind, p.text, p.at, p.by);
    },

    /** Re-enables the scope and closes the record and the incident. */
    async closeDowntime(p: { downtimeId: string; endReason: EndReason; at: number; by: string; supersededBy?: string; severity: Severity; lastProbe?: ProbeDecision }): Promise<void> {
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
          },
        },
      );
      await c.incidents.updateOne({ _id: p.downtimeId, status: 'open' }, { $set: { status: 'resolved', resolvedAt: at, endReason: p.endReason, severity: p.severity } });
      const how = { recovered: 'probe proved recovery', expired: 'expiry reached without enough probe evidence', manual: 'resolved by the incident manager', superseded: `superseded by ${p.supersededBy}` }[p.endReason];
      await addTimeline(p.downtimeId, `${p.downtimeId}:closed`, 'resolved', `Re-enabled: ${how}`, p.at, p.by);
    },

    /** Counts the downtime toward a Problem: K downtimes of one scope in D days open one (once). */
    async recordRecurrence(p: { downtimeId: string; scope: Scope; scopeKey: string; at: number }): Promise<{ problemId?: string; opened: boolean }> {
      const since = new Date(p.at - config.problem.windowMs);
      const recent = await c.downtimes.find({ scopeKey: p.scopeKey, openedAt: { $gte: since } }, { projection: { _id: 1, openedAt: 1 } }).toArray();
      if (!isRecurring(recent.map((d) => d.openedAt.getTime()), p.at, { threshold: config.problem.threshold, windowMs: config.problem.windowMs })) {
        return { opened: false };
      }
      const existing = await c.problems.findOne({ scopeKey: p.scopeKey, status: 'open' });
      if (existing) {
        await c.problems.updateOne({ _id: existing._id }, { $addToSet: { downtimeIds: p.downtimeId } });
        return { problemId: existing._id, opened: false };
      }
      // The problem id derives from the downtime that crossed the threshold: a retry finds it.
      const problemId = `pb_${p.downtimeId}`;
      try {
        await c.problems.insertOne({ _id: problemId, scopeKey: p.scopeKey, scope: p.scope, status: 'open', openedAt: new Date(p.at), downtimeIds: recent.map((d) => d._id) });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const text = `Problem ${problemId}: ${scopeLabel(p.scope)} went down ${recent.length} times in ${Math.round(config.problem.windowMs / 86_400_000)} days; needs a permanent fix`;
      await send({ notifications: [{ _id: `${problemId}:opened`, downtimeId: p.downtimeId, channel: 'ops', event: 'problem.opened', text, at: new Date(p.at) }], timeline: [], webhooks: [] });
      return { problemId, opened: true };
    },
  };
}
