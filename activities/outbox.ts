/**
 * The outbox every step writes through: ops notifications, incident timeline entries, webhook
 * events (one pending delivery per matching subscription), and the channels that reach people:
 * a PagerDuty event per page (and its acknowledgement and close), an ops chat message per step,
 * a mail to each partner the downtime concerns. Each is written once by its key, so a retried
 * step redoes only what is missing; the worker's dispatcher delivers them (worker/dispatcher.ts).
 * Which channel hears what is domain/channels.ts's rule.
 */
import type { Notice, Page, Route, TimelineEntry } from '../domain';
import { CHAT_EVENTS, PARTNER_EVENTS, concernedPartners, pagerDutyAction, topologyOf } from '../domain';
import { DeliveryDoc, DowntimeDoc, NotificationDoc, TimelineDoc, WebhookEventDoc, isDuplicateKey } from '../db/mongo';
import { insertIdempotent } from '../db/counters';
import { workflowInUi } from '../common/temporal-ui';
import type { ActivityDeps } from './deps';
import { MessageContext, pagerDutyEvent, partnerMail, slackMessage } from './messages';

/** A notice to ops, the timeline and webhook subscribers, with the downtime's view as the event's data. */
export interface NotifyParams extends Notice {
  data: Record<string, unknown>;
}

/** What a step sends out: notifications and timeline entries (each once, by _id), webhook events, and notices and pages for the channels. */
export interface Dispatch {
  notifications: NotificationDoc[];
  timeline: TimelineDoc[];
  webhooks: { eventId: string; type: WebhookEventDoc['type']; downtimeId: string; data: Record<string, unknown>; at: number }[];
  /** Carried to chat, PagerDuty and partners, as configured. */
  reach?: ({ kind: 'notice'; notice: Notice } | { kind: 'page'; page: Page })[];
}

/** Ops are told, webhook subscribers get the event, the incident's timeline gets the entry. */
export function notice(p: NotifyParams): Dispatch {
  const at = new Date(p.at);
  return {
    notifications: [{ _id: `${p.key}:ops`, downtimeId: p.downtimeId, channel: 'ops', event: p.type, text: p.text, at }],
    timeline: [{ _id: `${p.key}:timeline`, incidentId: p.downtimeId, kind: p.type, text: p.text, at }],
    webhooks: [{ eventId: p.key, type: p.type, downtimeId: p.downtimeId, data: p.data, at: p.at }],
    reach: [{ kind: 'notice', notice: p }],
  };
}

/** On-call is paged (SEV1 also senior management); `n` numbers the pages of one downtime. */
export function pageNotice(p: Page): Dispatch {
  const audience = p.severity === 'SEV1' ? 'on-call + senior management' : 'on-call';
  const at = new Date(p.at);
  return {
    notifications: [{ _id: `${p.downtimeId}:page:${p.n}`, downtimeId: p.downtimeId, channel: 'page', event: `page.${p.severity}`, text: `[${p.severity}] page #${p.n} to ${audience}: ${p.text}`, at }],
    timeline: [{ _id: `${p.downtimeId}:page:${p.n}:timeline`, incidentId: p.downtimeId, kind: 'paged', text: `Paged ${audience} (${p.severity}, page #${p.n})`, at }],
    webhooks: [],
    reach: [{ kind: 'page', page: p }],
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
    reach: present.flatMap((d) => d.reach ?? []),
  };
}

export type Outbox = ReturnType<typeof createOutbox>;

export function createOutbox(deps: Pick<ActivityDeps, 'db' | 'log' | 'config'>) {
  const c = deps.db.c;
  const { channels, publicUrl } = deps.config;

  /** What the messages say about a downtime, from its record (the notice's own words if there is none). */
  function context(downtimeId: string, d: DowntimeDoc | null): MessageContext {
    return {
      downtimeId,
      scope: d?.scope ?? {},
      severity: d?.severity ?? 'SEV4',
      reason: d?.reason,
      openedAt: d?.openedAt,
      startsAt: d?.origin === 'planned' ? d.startsAt : undefined,
      until: d?.until,
      resolvedAt: d?.resolvedAt,
      endReason: d?.endReason,
      evidence: d?.evidence,
      links: {
        api: `${publicUrl}/v1/downtimes/${encodeURIComponent(downtimeId)}`,
        temporalUi: d ? workflowInUi(deps.config, d.workflowId) : undefined,
        status: `${publicUrl}/status`,
      },
    };
  }

  const delivery = (p: Omit<DeliveryDoc, 'status' | 'attempts' | 'nextAttemptAt' | 'createdAt'>, at: number): DeliveryDoc => ({
    ...p,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: new Date(at),
    createdAt: new Date(at),
  });

  /** Whether PagerDuty was triggered for the downtime: only then do its acknowledgement and close go there. */
  const paged = async (downtimeId: string) => (await c.deliveries.countDocuments({ downtimeId, channel: 'pagerduty', type: 'pagerduty.trigger' }, { limit: 1 })) > 0;

  /** The partners a downtime concerns, with somewhere to write to. */
  async function partnersOf(d: DowntimeDoc): Promise<{ name: string; emails: string[] }[]> {
    const [partners, catalog] = await Promise.all([c.partners.find({}).toArray(), c.catalog.findOne({ _id: 'catalog' })]);
    if (partners.length === 0) return [];
    const routes: Route[] = (catalog?.methods ?? []).flatMap((m) => m.gateways.map((gateway) => ({ method: m.method, gateway })));
    return concernedPartners(partners, d.scope, routes, topologyOf(catalog ?? { methods: [] }))
      .filter((p) => p.emails.length > 0)
      .map((p) => ({ name: p._id, emails: p.emails }));
  }

  /** The channel deliveries of a notice or a page, for the channels configured. */
  async function channelDeliveries(r: NonNullable<Dispatch['reach']>[number]): Promise<DeliveryDoc[]> {
    const downtimeId = r.kind === 'notice' ? r.notice.downtimeId : r.page.downtimeId;
    if (!channels.pagerduty && !channels.slack && !channels.smtp) return [];
    const record = await c.downtimes.findOne({ _id: downtimeId });
    const ctx = context(downtimeId, record);
    if (r.kind === 'page') {
      const { page } = r;
      if (!channels.pagerduty) return [];
      const body = pagerDutyEvent('trigger', { ...ctx, severity: page.severity }, `[${page.severity}] ${page.text}`, page.at);
      return [delivery({ _id: `${downtimeId}:page:${page.n}:pagerduty`, channel: 'pagerduty', receiver: 'pagerduty', downtimeId, eventId: `${downtimeId}:page:${page.n}`, type: 'pagerduty.trigger', body: JSON.stringify(body) }, page.at)];
    }
    const { notice } = r;
    const out: DeliveryDoc[] = [];
    const base = { downtimeId, eventId: notice.key };
    if (channels.slack && CHAT_EVENTS.includes(notice.event)) {
      out.push(delivery({ ...base, _id: `${notice.key}:slack`, channel: 'slack', receiver: 'slack', type: `slack.${notice.event}`, body: JSON.stringify(slackMessage(notice.event, ctx, notice.text)) }, notice.at));
    }
    const action = pagerDutyAction(notice.event);
    if (channels.pagerduty && action && (await paged(downtimeId))) {
      out.push(delivery({ ...base, _id: `${notice.key}:pagerduty`, channel: 'pagerduty', receiver: 'pagerduty', type: `pagerduty.${action}`, body: JSON.stringify(pagerDutyEvent(action, ctx, notice.text, notice.at)) }, notice.at));
    }
    if (channels.smtp && record && PARTNER_EVENTS.includes(notice.event)) {
      for (const partner of await partnersOf(record)) {
        const mail = partnerMail(notice.event, ctx, partner);
        out.push(delivery({ ...base, _id: `${notice.key}:partner:${partner.name}`, channel: 'email', receiver: `partner:${partner.name}`, type: `email.${notice.event}`, body: JSON.stringify(mail) }, notice.at));
      }
    }
    return out;
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
    const deliveries = subscriptions.map((sub) => delivery({ _id: `${eventId}:${sub._id}`, channel: 'webhook', receiver: sub._id, downtimeId, eventId, url: sub.url, type, body }, at));
    await insertIdempotent((docs) => c.deliveries.insertMany(docs, { ordered: false }), deliveries);
  }

  async function enqueueChannels(reach: NonNullable<Dispatch['reach']>) {
    const deliveries = (await Promise.all(reach.map(channelDeliveries))).flat();
    await insertIdempotent((docs) => c.deliveries.insertMany(docs, { ordered: false }), deliveries);
  }

  return {
    /**
     * Sends a dispatch: notifications, timeline entries, webhook events and channel deliveries are
     * written side by side, each once (a retry finds those already written). Returns the
     * notifications this call sent.
     */
    async send(d: Dispatch): Promise<NotificationDoc[]> {
      const [sent] = await Promise.all([
        insertIdempotent((docs) => c.notifications.insertMany(docs, { ordered: false }), d.notifications),
        insertIdempotent((docs) => c.timeline.insertMany(docs, { ordered: false }), d.timeline),
        ...d.webhooks.map(enqueueWebhooks),
        enqueueChannels(d.reach ?? []),
      ]);
      for (const n of sent) deps.log?.info({ downtimeId: n.downtimeId, channel: n.channel, event: n.event }, n.text);
      return sent;
    },
  };
}

/** What one decision of an actor sends out: notices (with the downtime's view as their data), pages, timeline entries. */
export type Announcement = { kind: 'notify'; notice: NotifyParams } | { kind: 'page'; page: Page } | { kind: 'timeline'; entry: TimelineEntry };

const dispatchOf = (a: Announcement): Dispatch => (a.kind === 'notify' ? notice(a.notice) : a.kind === 'page' ? pageNotice(a.page) : timelineEntry(a.entry));

/** The outbox's steps the actor calls after its start. */
export function notificationActivities(outbox: Outbox) {
  return {
    /** Tells ops and webhook subscribers; the key makes it once-only. */
    async notify(p: NotifyParams): Promise<boolean> {
      return (await outbox.send(notice(p))).length > 0;
    },

    /**
     * Everything one decision sends, in one step and one write per collection: an escalation's
     * notice and page go out together, and a thousand actors escalating at once cost the
     * database a thousand steps, not three thousand. Each item is once-only by its key.
     */
    async announce(items: Announcement[]): Promise<void> {
      await outbox.send(combined(...items.map(dispatchOf)));
    },
  };
}
