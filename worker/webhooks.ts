/**
 * The webhook outbox dispatcher. Activities write one pending delivery per (event, subscriber);
 * this loop claims due deliveries with a lease, POSTs them signed, and retries failures with
 * exponential backoff until delivered. Receivers de-duplicate by the Webhook-Id header.
 *
 * Up to `DELIVERY_CONCURRENCY` deliveries are in flight, at most one per subscriber: one slow or
 * unreachable receiver (each attempt may wait `TIMEOUT_MS`) no longer holds up every other
 * partner's events, and each receiver still gets its events one at a time, oldest due first.
 * Claims stay one at a time within the process, so none is claimed twice here.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Database, DeliveryDoc } from '../db/mongo';
import { signWebhook } from '../common/webhook-signature';

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 10 * 60_000;
const LEASE_MS = 30_000;
const TIMEOUT_MS = 10_000;

export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

export const DELIVERY_CONCURRENCY = 8;

/** Claims the oldest due delivery of a subscriber not in `busy`, with a lease. */
async function claim(db: Database, at: Date, busy: string[]): Promise<DeliveryDoc | null> {
  return db.c.deliveries.findOneAndUpdate(
    {
      status: 'pending',
      nextAttemptAt: { $lte: at },
      subscriptionId: { $nin: busy },
      $or: [{ leaseUntil: { $exists: false } }, { leaseUntil: { $lte: at } }],
    },
    { $set: { leaseUntil: new Date(at.getTime() + LEASE_MS) }, $inc: { attempts: 1 } },
    { returnDocument: 'after', sort: { nextAttemptAt: 1 } },
  );
}

/** Delivers every due delivery (see the module comment); resolves to how many were delivered. */
export async function deliverDue(db: Database, log: Logger, now: () => number = Date.now, concurrency = DELIVERY_CONCURRENCY, pollMs = 500): Promise<number> {
  let delivered = 0;
  let failure: unknown;
  const inFlight = new Map<string, Promise<void>>();
  while (failure === undefined) {
    if (inFlight.size >= Math.max(1, concurrency)) {
      await Promise.race(inFlight.values());
      continue;
    }
    const busy = [...inFlight.keys()];
    const claimed = await claim(db, new Date(now()), busy);
    if (!claimed) {
      // Nothing due but for the subscribers busy when asked: done if there were none. Otherwise
      // look again when one in flight ends (its next event may be due; it may have ended while
      // this claim was on its way) or after `pollMs` (another's may have come), whichever is first.
      if (busy.length === 0) break;
      if (inFlight.size === 0) continue;
      const poll = new AbortController();
      await Promise.race([...inFlight.values(), delay(pollMs, undefined, { signal: poll.signal }).catch(() => undefined)]);
      poll.abort();
      continue;
    }
    const sub = claimed.subscriptionId;
    inFlight.set(
      sub,
      attempt(db, claimed, log, now)
        .then((ok) => void (ok && (delivered += 1)), (err: unknown) => void (failure ??= err))
        .finally(() => inFlight.delete(sub)),
    );
  }
  await Promise.all(inFlight.values());
  if (failure !== undefined) throw failure;
  return delivered;
}

async function attempt(db: Database, d: DeliveryDoc, log: Logger, now: () => number): Promise<boolean> {
  const sub = await db.c.webhooks.findOne({ _id: d.subscriptionId });
  if (!sub) {
    await db.c.deliveries.updateOne({ _id: d._id }, { $set: { status: 'delivered', lastError: 'subscription deleted' }, $unset: { leaseUntil: '' } });
    return false;
  }
  const timestamp = Math.floor(now() / 1000);
  let status: number | undefined;
  let error: string | undefined;
  try {
    const res = await fetch(d.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': d.eventId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(sub.secret, timestamp, d.body),
      },
      body: d.body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    status = res.status;
    await res.body?.cancel();
    if (res.ok) {
      await db.c.deliveries.updateOne({ _id: d._id }, { $set: { status: 'delivered', deliveredAt: new Date(now()), lastStatus: status }, $unset: { leaseUntil: '', lastError: '' } });
      return true;
    }
    error = `HTTP ${status}`;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const next = new Date(now() + backoffMs(d.attempts));
  await db.c.deliveries.updateOne({ _id: d._id }, { $set: { nextAttemptAt: next, lastError: error, ...(status ? { lastStatus: status } : {}) }, $unset: { leaseUntil: '' } });
  log.warn({ deliveryId: d._id, attempts: d.attempts, error, retryAt: next.toISOString() }, 'webhook delivery failed; will retry');
  return false;
}

export function startWebhookDispatcher(db: Database, log: Logger, intervalMs = 500): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    running = deliverDue(db, log)
      .catch((err) => log.warn({ err: err instanceof Error ? err.message : err }, 'webhook dispatcher pass failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  let timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
