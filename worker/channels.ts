/**
 * How each channel sends one delivery: a signed webhook POST, a PagerDuty Events API v2 event, a
 * Slack incoming-webhook message, an SMTP mail. Secrets (the routing key, the chat URL, signing
 * secrets, SMTP credentials) are added here from configuration and never stored or logged.
 */
import nodemailer from 'nodemailer';
import type { Config } from '../common/config';
import type { Database, DeliveryDoc } from '../db/mongo';
import { webhookHeaders } from '../common/webhook-signature';

/** What one attempt did: delivered, or why not (an HTTP status, an error) for the retry log. */
export type SendResult = { ok: true; status?: number } | { ok: false; status?: number; error: string; permanent?: boolean };

export type Sender = (d: DeliveryDoc, now: number) => Promise<SendResult>;

const TIMEOUT_MS = 10_000;

async function post(url: string, body: string, headers: Record<string, string>): Promise<SendResult> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.body?.cancel();
    return res.ok ? { ok: true, status: res.status } : { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The senders of the configured channels; a delivery of an unconfigured one waits (it is never dropped). */
export function createSenders(config: Config, db: Database): { send: Sender; close(): void } {
  const { pagerduty, slack, smtp } = config.channels;
  const mailer = smtp ? nodemailer.createTransport(smtp.url, { from: smtp.from }) : undefined;

  const senders: Record<DeliveryDoc['channel'], Sender | undefined> = {
    async webhook(d, now) {
      const sub = await db.c.webhooks.findOne({ _id: d.receiver });
      if (!sub) return { ok: false, error: 'subscription deleted', permanent: true };
      const secrets = [sub.secret, ...(sub.previousSecrets ?? []).filter((p) => p.until.getTime() > now).map((p) => p.secret)];
      return post(d.url ?? sub.url, d.body, webhookHeaders(secrets, d.eventId, Math.floor(now / 1000), d.body));
    },
    pagerduty: pagerduty && (async (d) => post(pagerduty.eventsUrl, JSON.stringify({ routing_key: pagerduty.routingKey, ...JSON.parse(d.body) }), {})),
    slack: slack && (async (d) => post(slack.url, d.body, {})),
    email: mailer && (async (d) => {
      const mail = JSON.parse(d.body) as { to: string[]; subject: string; text: string };
      try {
        // The delivery's key as Message-ID: a receiver sees a resent mail as the same message.
        await mailer.sendMail({ to: mail.to, subject: mail.subject, text: mail.text, messageId: `<${encodeURIComponent(d._id)}@payment-downtime-orchestrator>` });
        return { ok: true };
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        return { ok: false, error: err instanceof Error ? err.message : String(err), ...(code !== undefined ? { status: code } : {}) };
      }
    }),
  };

  return {
    send: (d, now) => (senders[d.channel] ?? (async () => ({ ok: false, error: `channel ${d.channel} is not configured` }) as SendResult))(d, now),
    close: () => mailer?.close(),
  };
}
