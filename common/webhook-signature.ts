/**
 * Webhook signatures, by the Standard Webhooks specification (standardwebhooks.com), through its
 * official library. Each delivery carries
 *   webhook-id: <event id>   webhook-timestamp: <unix seconds>   webhook-signature: v1,<base64> [v1,<base64> ...]
 * where each signature is HMAC-SHA256 over `${id}.${timestamp}.${body}` with one of the
 * subscription's secrets (`whsec_<base64>`): the current one, and during a rotation's grace period
 * the previous one too, so a receiver verifies with whichever it holds. The id is signed, so a
 * captured delivery replayed under a new id fails verification; receivers de-duplicate by id and
 * refuse timestamps outside their tolerance.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const SECRET_PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes, base64, with the `whsec_` prefix the libraries expect. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The `webhook-signature` header: one `v1,<base64>` per secret, space-separated. */
export function signWebhook(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  const at = new Date(timestampSeconds * 1000);
  return secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' ');
}

/** The three headers of one delivery. */
export function webhookHeaders(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signWebhook(secrets, id, timestampSeconds, body),
  };
}
