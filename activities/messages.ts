/**
 * What each channel says: PagerDuty Events API v2 events, Slack Block Kit messages and partner
 * mail, built from the downtime as recorded. Pure formatting; no secret goes in (the routing key
 * and the chat URL are added when sent).
 */
import type { NoticeEvent, PagerDutyAction, Scope, Severity } from '../domain';
import { PAGERDUTY_SEVERITY, scopeLabel } from '../domain';
import type { Evidence } from '../common/definitions';

/** What the messages say about one downtime, and where people can look. */
export interface MessageContext {
  downtimeId: string;
  scope: Scope;
  severity: Severity;
  reason?: string;
  openedAt?: Date;
  /** Scheduled maintenance: its window. */
  startsAt?: Date;
  until?: Date;
  resolvedAt?: Date;
  endReason?: string;
  evidence?: Evidence;
  links: { api: string; temporalUi?: string; status: string };
}

const SOURCE = 'payment-downtime-orchestrator';

/** A PagerDuty Events API v2 event, without its routing key. `dedup_key` is the downtime id. */
export function pagerDutyEvent(action: PagerDutyAction, ctx: MessageContext, summary: string, at: number): Record<string, unknown> {
  if (action !== 'trigger') return { event_action: action, dedup_key: ctx.downtimeId };
  const scope = ctx.scope;
  return {
    event_action: 'trigger',
    dedup_key: ctx.downtimeId,
    payload: {
      summary: summary.slice(0, 1024),
      source: SOURCE,
      severity: PAGERDUTY_SEVERITY[ctx.severity],
      timestamp: new Date(at).toISOString(),
      component: scopeLabel(scope),
      group: scope.gateway ?? scope.aggregator ?? scope.mode ?? scope.method ?? 'payments',
      class: 'payment-downtime',
      custom_details: { downtimeId: ctx.downtimeId, scope, severity: ctx.severity, ...(ctx.reason ? { reason: ctx.reason } : {}), ...(ctx.evidence ? { evidence: evidenceLine(ctx.evidence) } : {}) },
    },
    links: [
      { href: ctx.links.api, text: 'Downtime in the API' },
      ...(ctx.links.temporalUi ? [{ href: ctx.links.temporalUi, text: "The downtime's workflow in the Temporal UI" }] : []),
      { href: ctx.links.status, text: 'Status page' },
    ],
    client: 'Payment downtime orchestrator',
    client_url: ctx.links.status,
  };
}

const HEADLINE: Record<NoticeEvent, string> = {
  started: ':red_circle: Downtime started',
  escalated: ':arrow_double_up: Downtime escalated',
  acknowledged: ':eyes: Downtime acknowledged',
  resolved: ':large_green_circle: Re-enabled',
  scheduled: ':calendar: Maintenance scheduled',
  cancelled: ':heavy_multiplication_x: Maintenance cancelled',
  review_overdue: ':memo: Post-incident review overdue',
};

/** A Slack incoming-webhook message in Block Kit, with a plain-text fallback. */
export function slackMessage(event: NoticeEvent, ctx: MessageContext, text: string): Record<string, unknown> {
  const links = [`<${ctx.links.api}|API>`, ...(ctx.links.temporalUi ? [`<${ctx.links.temporalUi}|Temporal UI>`] : []), `<${ctx.links.status}|Status page>`].join(' · ');
  return {
    text: `${HEADLINE[event]}: ${text}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: HEADLINE[event].replace(/^:[a-z_]+: /, ''), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(scopeLabel(ctx.scope))}* (${ctx.severity})\n${escapeMrkdwn(text)}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${ctx.downtimeId} · ${links}` }] },
    ],
  };
}

/** Slack's three control characters, escaped as its docs ask. */
function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function evidenceLine(e: Evidence): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return `success rate ${pct(e.rate)} over ${e.attempts} attempts in the last ${Math.round(e.windowMs / 1000)} s, against a baseline of ${pct(e.baseline)} (since ${new Date(e.at).toISOString()})`;
}

/** A partner's mail: what we see failing, since when, the evidence, and how it ended. */
export function partnerMail(event: NoticeEvent, ctx: MessageContext, partner: { name: string; emails: string[] }): { to: string[]; subject: string; text: string } {
  const what = scopeLabel(ctx.scope);
  const since = ctx.openedAt ? ctx.openedAt.toISOString() : 'now';
  const subject = {
    started: `[Downtime] ${what}: failing since ${since}`,
    resolved: `[Resolved] ${what}: back in service`,
    scheduled: `[Scheduled maintenance] ${what}${ctx.startsAt ? ` from ${ctx.startsAt.toISOString()}` : ''}`,
    cancelled: `[Maintenance cancelled] ${what}`,
    escalated: `[Downtime escalated] ${what}`,
    acknowledged: `[Downtime acknowledged] ${what}`,
    review_overdue: `[Review overdue] ${what}`,
  }[event];
  const lines = [
    `Hello ${partner.name},`,
    '',
    event === 'resolved' ? `${what} is back in service: we have routed traffic to it again.` : event === 'started' ? `We see ${what} failing and have routed traffic away from it.` : subject,
    '',
    `Downtime: ${ctx.downtimeId}`,
    ...(ctx.startsAt ? [`Window: ${ctx.startsAt.toISOString()} to ${ctx.until?.toISOString() ?? 'open-ended'}`] : [`Since: ${since}`]),
    ...(ctx.resolvedAt ? [`Until: ${ctx.resolvedAt.toISOString()}${ctx.endReason ? ` (${ctx.endReason})` : ''}`] : []),
    ...(ctx.evidence ? [`Evidence: ${evidenceLine(ctx.evidence)}`] : []),
    ...(ctx.reason ? [`Reason: ${ctx.reason}`] : []),
    `Status: ${ctx.links.status}`,
  ];
  return { to: partner.emails, subject, text: lines.join('\n') };
}
