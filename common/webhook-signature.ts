/**
 * Webhook signatures. Each delivery carries
 *   Webhook-Id: <event id>   Webhook-Timestamp: <unix seconds>   Webhook-Signature: v1=<hex>
 * where hex = HMAC-SHA256(secret, `${timestamp}.${body}`). A receiver recomputes it over the raw
 * body, compares in constant time, rejects timestamps older than its tolerance (replays) and
 * de-duplicates by event id.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, ts, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
