/**
 * PagerDuty's v3 webhook signatures: `X-PagerDuty-Signature: v1=<hex>[, v1=<hex> ...]`, each an
 * HMAC-SHA256 of the raw body with a subscription's secret (several while a secret rotates).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signPagerDuty(secret: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Whether any `v1=` signature in the header is the body's with this secret; compared in constant time. */
export function verifyPagerDuty(secret: string, header: string | undefined, body: string): boolean {
  if (!header) return false;
  const expected = Buffer.from(signPagerDuty(secret, body));
  return header
    .split(',')
    .map((s) => Buffer.from(s.trim()))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
}
