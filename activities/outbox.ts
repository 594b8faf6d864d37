/**
 * The outbox every step writes through: ops notifications, incident timeline entries and webhook
 * events (with one pending delivery per matching subscription), each written once by its key, so
 * a retried step redoes only what is missing. The worker's dispatchers deliver from it.
 */
import type { Notice, Page, Scope, TimelineEntry } from '../domain';
import { scopeLabel } from '../domain';
import { DeliveryDoc, NotificationDoc, TimelineDoc, WebhookEventDoc, isDuplicateKey } from '../db/mongo';
import { insertIdempotent } from '../db/counters';
import type { ActivityDeps } from './deps';

/** A notice to ops, the timeline and webhook subscribers, with the downtime's view as the event's data. */
export interface NotifyParams extends Notice {
  data: Record<string, unknown>;
}
export interface PartnerAlertParams {
  downtimeId: string;
  scope: Scope;
  at: number;
}

/** What a step sends out: notifications and timeline entries (each once, by _id) and webhook events. */
export interface Dispatch {
  notifications: NotificationDoc[];
  timeline: TimelineDoc[];
  webhooks: { eventId: string; type: WebhookEventDoc['type']; downtimeId: string; data: Record<string, unknown>; at: number }[];
}

/** Ops are told, webhook subscribers get the event, the incident's timeline gets the entry. */
export function notice(p: NotifyParams): Dispatch {
  const at = new Date(p.at);
  return {
    notifications: [{ _id: `${p.key}:ops`, downtimeId: p.downtimeId, channel: 'ops', event: p.type, text: p.text, at }],
    timeline: [{ _id: `${p.key}:timeline`, incidentId: p.downtimeId, kind: p.type, text: p.text, at }],
    webhooks: [{ eventId: p.key, type: p.type, downtimeId: p.downtimeId, data: p.data, at: p.at }],
  };
}

/** The gateway's or bank's contact hears about it. */
export function partnerAlert(p: PartnerAlertParams): Dispatch {
  const partner = p.scope.gateway ?? p.scope.aggregator ?? p.scope.issuer ?? p.scope.network ?? p.scope.psp ?? p.scope.method ?? p.scope.mode ?? 'unknown';
  const text = `Partner ${partner}: we see ${scopeLabel(p.scope)} failing and have routed traffic away`;
  return { notifications: [{ _id: `${p.downtimeId}:partner`, downtimeId: p.downtimeId, channel: 'partner', event: 'partner.alert', text, at: new Date(p.at) }], timeline: [], webhooks: [] };
}

/** On-call is paged (SEV1 also senior management); `n` numbers the pages of one downtime. */
export function pageNotice(p: Page): Dispatch {
  const audience = p.severity === 'SEV1' ? 'on-call + senior management' : 'on-call';
  const at = new Date(p.at);
  return {
    notifications: [{ _id: `${p.downtimeId}:page:${p.n}`, downtimeId: p.downtimeId, channel: 'page', event: `page.${p.severity}`, text: `[${p.severity}] page #${p.n} to ${audience}: ${p.text}`, at }],
    timeline: [{ _id: `${p.downtimeId}:page:${p.n}:timeline`, incidentId: p.downtimeId, kind: 'paged', text: `Paged ${audience} (${p.severity}, page #${p.n})`, at }],
    webhooks: [],
  };
}

/** One entry on the incident's timeline, its key made unique by the downtime's id. */
export function timelineEntry(e: TimelineEntry): Dispatch {
  return { notifications: [], timeline: [{ _id: `${e.downtimeId}:${e.key}`, incidentId: e.downtimeId, kind: e.kind, text: e.text, at: new Date(e.at), by: e.by }], webhooks: [] };
}

export function combined(...parts: (Dispatch | undefined)[]): Dispatch {
  const present = parts.filter((d): d is Dispatch => d !== undefined);
  return {
    notifications: present.flatMap((d) => d.notifications),
    timeline: present.flatMap((d) => d.timeline),
    webhooks: present.flatMap((d) => d.webhooks),
  };
}

export type Outbox = ReturnType<typeof createOutbox>;

export function createOutbox(deps: Pick<ActivityDeps, 'db' | 'log'>) {
  const c = deps.db.c;

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

  return {
    /**
     * Sends a dispatch: notifications, timeline entries and webhook events are written side by side,
     * each once (a retry finds those already written). Returns the notifications this call sent.
     */
    async send(d: Dispatch): Promise<NotificationDoc[]> {
      const [sent] = await Promise.all([
        insertIdempotent((docs) => c.notifications.insertMany(docs, { ordered: false }), d.notifications),
        insertIdempotent((docs) => c.timeline.insertMany(docs, { ordered: false }), d.timeline),
        ...d.webhooks.map(enqueueWebhooks),
      ]);
      for (const n of sent) deps.log?.info({ downtimeId: n.downtimeId, channel: n.channel, event: n.event }, n.text);
      return sent;
    },
  };
}

/** The outbox's steps the actor calls after its start: notices, pages and timeline entries. */
export function notificationActivities(outbox: Outbox) {
  return {
    /** Tells ops and webhook subscribers; the key makes it once-only. */
    async notify(p: NotifyParams): Promise<boolean> {
      return (await outbox.send(notice(p))).length > 0;
    },

    /** Pages on-call (SEV1 also senior management); `n` numbers the pages of one downtime. */
    async page(p: Page): Promise<boolean> {
      return (await outbox.send(pageNotice(p))).length > 0;
    },

    /** An entry on the incident's timeline, once per key. */
    async recordTimeline(e: TimelineEntry): Promise<void> {
      await outbox.send(timelineEntry(e));
    },
  };
}
