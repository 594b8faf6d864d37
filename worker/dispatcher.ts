/**
 * The outbox dispatcher. Activities write one pending delivery per (message, receiver); this loop
 * claims due deliveries, each by a turn that one dispatcher alone can take and then a lease (so
 * two dispatchers never send one at once, on FerretDB as on MongoDB), sends each
 * through its channel (worker/channels.ts), and retries failures with exponential backoff until
 * delivered. Receivers de-duplicate by the delivery's id (the webhook-id header, PagerDuty's
 * dedup_key, the mail's Message-ID).
 *
 * Up to `DELIVERY_CONCURRENCY` deliveries are in flight, at most one per receiver: one slow or
 * unreachable receiver (each attempt may wait its timeout) does not hold up any other, and each
 * receiver gets one downtime's messages in the order they were written (PagerDuty must see the
 * trigger before the acknowledgement; webhooks excepted, see `waitingFor`). Claims stay one at a time within the process.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Database, DeliveryDoc } from '../db/mongo';
import { takeNextTurn } from '../db/claims';
import type { Sender } from './channels';

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 10 * 60_000;
const LEASE_MS = 30_000;
/** How long a delivery waits, at least, behind an earlier one of its downtime to the same receiver. */
const WAIT_FOR_EARLIER_MS = 250;

export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

export const DELIVERY_CONCURRENCY = 8;

/** Due deliveries read per claim: when another dispatcher takes the first, the next is tried. */
const CLAIM_CANDIDATES = 8;

/**
 * Claims the oldest due delivery of a receiver not in `busy`: takes the delivery's next turn
 * (db/claims.ts), once across every dispatcher, then sets its lease. A turn taken more than a
 * lease ago by a process that died before setting the lease is passed over for the next turn.
 */
async function claim(db: Database, at: Date, busy: string[]): Promise<DeliveryDoc | null> {
  const now = at.getTime();
  const due = await db.c.deliveries
    .find({
      status: 'pending',
      nextAttemptAt: { $lte: at },
      receiver: { $nin: busy },
      $or: [{ leaseUntil: { $exists: false } }, { leaseUntil: { $lte: at } }],
    })
    .sort({ nextAttemptAt: 1 })
    .limit(CLAIM_CANDIDATES)
    .toArray();
  const taken = new Set<string>();
  for (const d of due) {
    if (taken.has(d.receiver)) continue;
    const turn = await takeNextTurn(db, `delivery:${d._id}`, d.claims ?? 0, now, LEASE_MS);
    if (turn === undefined) {
      taken.add(d.receiver);
      continue;
    }
    const leaseUntil = new Date(now + LEASE_MS);
    await db.c.deliveries.updateOne({ _id: d._id }, { $set: { leaseUntil, claims: turn + 1 }, $inc: { attempts: 1 } });
    return { ...d, leaseUntil, claims: turn + 1, attempts: d.attempts + 1 };
  }
  return null;
}

/** Delivers every due delivery (see the module comment); resolves to how many were delivered. */
export async function deliverDue(db: Database, send: Sender, log: Logger, now: () => number = Date.now, concurrency = DELIVERY_CONCURRENCY, pollMs = 500): Promise<number> {
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
    const receiver = claimed.receiver;
    inFlight.set(
      receiver,
      attempt(db, claimed, send, log, now)
        .then((ok) => void (ok && (delivered += 1)), (err: unknown) => void (failure ??= err))
        .finally(() => inFlight.delete(receiver)),
    );
  }
  await Promise.all(inFlight.values());
  if (failure !== undefined) throw failure;
  return delivered;
}

/**
 * An earlier delivery of the same downtime to the same receiver still pending: this one waits for
 * it. Webhooks are not held back: the Standard Webhooks receiver orders by the event's time and
 * de-duplicates by id, and one subscriber's failing event should not hide the next from it.
 */
async function waitingFor(db: Database, d: DeliveryDoc): Promise<DeliveryDoc | null> {
  if (d.downtimeId === undefined || d.channel === 'webhook') return null;
  return db.c.deliveries.findOne(
    { receiver: d.receiver, downtimeId: d.downtimeId, status: 'pending', _id: { $ne: d._id }, createdAt: { $lt: d.createdAt } },
    { sort: { createdAt: 1 }, projection: { _id: 1, nextAttemptAt: 1 } },
  );
}

async function attempt(db: Database, d: DeliveryDoc, send: Sender, log: Logger, now: () => number): Promise<boolean> {
  const before = await waitingFor(db, d);
  if (before) {
    // Not an attempt: put it back until the earlier one is due (a little later if that one is in
    // flight with another dispatcher), and let that go first.
    const next = new Date(Math.max(now() + WAIT_FOR_EARLIER_MS, before.nextAttemptAt.getTime() + 1));
    await db.c.deliveries.updateOne({ _id: d._id }, { $set: { nextAttemptAt: next }, $inc: { attempts: -1 }, $unset: { leaseUntil: '' } });
    return false;
  }
  const result = await send(d, now());
  if (result.ok) {
    await db.c.deliveries.updateOne({ _id: d._id }, { $set: { status: 'delivered', deliveredAt: new Date(now()), ...(result.status ? { lastStatus: result.status } : {}) }, $unset: { leaseUntil: '', lastError: '' } });
    return true;
  }
  if (result.permanent) {
    // Nothing to deliver to any more (a deleted subscription): closed, with why.
    await db.c.deliveries.updateOne({ _id: d._id }, { $set: { status: 'delivered', lastError: result.error }, $unset: { leaseUntil: '' } });
    return false;
  }
  const next = new Date(now() + backoffMs(d.attempts));
  await db.c.deliveries.updateOne({ _id: d._id }, { $set: { nextAttemptAt: next, lastError: result.error, ...(result.status ? { lastStatus: result.status } : {}) }, $unset: { leaseUntil: '' } });
  log.warn({ deliveryId: d._id, channel: d.channel, attempts: d.attempts, error: result.error, retryAt: next.toISOString() }, 'delivery failed; will retry');
  return false;
}

export function startDispatcher(db: Database, send: Sender, log: Logger, intervalMs = 500): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    running = deliverDue(db, send, log)
      .catch((err) => log.warn({ err: err instanceof Error ? err.message : err }, 'dispatcher pass failed'))
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
