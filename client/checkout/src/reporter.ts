/**
 * `report(transactions)`: the checkout hands over its payment attempts and goes on. They are
 * queued (bounded: past `maxQueued`, the batch being sent included, the oldest waiting are
 * dropped and counted), sent in batches of up to `batchSize` every `flushIntervalMs` or as soon
 * as a batch is full, one batch at a time. A
 * batch that fails (no answer, a timeout, 429 or 5xx) is sent again with the same ids, after
 * Retry-After or a backoff; the API stores each id once, so a batch stored before its answer was
 * lost is not counted twice. A batch the API refuses outright (400, 401, 403, 413) is dropped and
 * reported through `onError`: sending it again cannot succeed. Nothing here throws to the caller
 * or holds the process open.
 */
import { CONTRACT, ReportAnswer, Transaction } from './types';
import { describe } from './options';

export interface ReporterConfig {
  baseUrl: string;
  /** A key with the `ingest` role. */
  apiKey: string;
  /** Transactions per request (default 500, at most the API's 1,000). */
  batchSize?: number;
  /** How long a transaction waits for a batch to fill, in ms (default 1,000). */
  flushIntervalMs?: number;
  /** The most transactions held, sent or not (default 50,000): the bound on the client's memory. */
  maxQueued?: number;
  /** One request's time limit, in ms (default 10,000). */
  requestTimeoutMs?: number;
  /** The first retry's wait, doubled each time up to `retryMaxMs` (defaults 250 and 30,000). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Told of what was dropped or refused: never the transactions' contents beyond ids. */
  onError?: (e: ReportError) => void;
  fetch?: typeof fetch;
}

export type ReportError =
  | { kind: 'dropped'; count: number; reason: 'queue full' | 'closed' }
  | { kind: 'refused'; status: number; ids: string[] }
  | { kind: 'rejected'; id: string; error: string }
  | { kind: 'retrying'; attempt: number; reason: string; waitMs: number }
  | { kind: 'invalid'; message: string };

export interface ReporterStats {
  queued: number;
  sent: number;
  duplicates: number;
  rejected: number;
  dropped: number;
  refused: number;
  requests: number;
  retries: number;
}

export class Reporter {
  private queue: Transaction[] = [];
  /** The batch being sent, out of the queue until it is finished with. */
  private inFlight = 0;
  private sending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly stats: ReporterStats = { queued: 0, sent: 0, duplicates: 0, rejected: 0, dropped: 0, refused: 0, requests: 0, retries: 0 };

  constructor(private readonly config: ReporterConfig) {}

  private get batchSize(): number {
    return Math.min(CONTRACT.transactions.maxBatch, Math.max(1, this.config.batchSize ?? 500));
  }

  /** Queues the attempts and returns at once. */
  report(transactions: readonly Transaction[]): void {
    if (!Array.isArray(transactions)) {
      this.tell({ kind: 'invalid', message: 'report takes an array of transactions' });
      return;
    }
    if (transactions.length === 0) return;
    if (this.closed) {
      this.stats.dropped += transactions.length;
      this.tell({ kind: 'dropped', count: transactions.length, reason: 'closed' });
      return;
    }
    // One at a time: spreading a very large array into push() overflows the stack.
    for (const t of transactions) this.queue.push(t);
    const max = Math.max(this.batchSize, (this.config.maxQueued ?? 50_000) - this.inFlight);
    if (this.queue.length > max) {
      const count = this.queue.length - max;
      this.queue.splice(0, count);
      this.stats.dropped += count;
      this.tell({ kind: 'dropped', count, reason: 'queue full' });
    }
    this.stats.queued = this.queue.length;
    if (this.queue.length >= this.batchSize) this.kick();
    else this.schedule();
  }

  /** Sends everything queued now, retrying until `deadlineMs` has passed; resolves when done or out of time, never rejects. */
  async flush(deadlineMs = 10_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    while ((this.queue.length > 0 || this.sending) && Date.now() < until) {
      this.kick(until);
      await Promise.race([this.sending, new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())).unref())]);
    }
  }

  /** Flushes (within the deadline) and stops the timers; later reports are dropped. */
  async close(deadlineMs = 10_000): Promise<void> {
    await this.flush(deadlineMs);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer || this.sending || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, this.config.flushIntervalMs ?? 1_000);
    this.timer.unref();
  }

  /** Starts sending unless a batch is under way (it goes on to the next when done). */
  private kick(until = Infinity): void {
    if (this.sending || this.queue.length === 0) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.sending = this.drain(until).finally(() => {
      this.sending = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }

  /** Sends full batches while there are any (and what is left, once), each until it is accepted, refused or out of time. */
  private async drain(until: number): Promise<void> {
    do {
      const batch = this.queue.splice(0, this.batchSize);
      this.inFlight = batch.length;
      this.stats.queued = this.queue.length + batch.length;
      const done = await this.send(batch, until);
      this.inFlight = 0;
      if (!done) {
        // Out of time (a flush's deadline): back at the head of the queue for the next send.
        this.queue.unshift(...batch);
        return;
      }
      this.stats.queued = this.queue.length;
    } while (this.queue.length >= this.batchSize || (this.queue.length > 0 && until !== Infinity));
  }

  /** True when the batch is finished with (accepted or refused); false when it ran out of time. */
  private async send(batch: Transaction[], until: number): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      const reason = await this.post(batch);
      if (reason === undefined) return true;
      const wait = typeof reason === 'object' ? reason.waitMs : Math.min(this.config.retryMaxMs ?? 30_000, (this.config.retryBaseMs ?? 250) * 2 ** (attempt - 1));
      const why = typeof reason === 'object' ? reason.reason : reason;
      if (Date.now() + wait > until || this.closed) return false;
      this.stats.retries += 1;
      this.tell({ kind: 'retrying', attempt, reason: why, waitMs: wait });
      await new Promise((r) => setTimeout(r, wait).unref());
    }
  }

  /** Posts once: undefined when the batch is finished with, else why it should be sent again (with the API's Retry-After). */
  private async post(batch: Transaction[]): Promise<undefined | string | { reason: string; waitMs: number }> {
    this.stats.requests += 1;
    let res: Response;
    try {
      res = await (this.config.fetch ?? fetch)(`${this.config.baseUrl}${CONTRACT.transactions.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.config.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ transactions: batch }),
        signal: AbortSignal.timeout(this.config.requestTimeoutMs ?? 10_000),
      });
    } catch (err) {
      return describe(err);
    }
    const body = (await res.json().catch(() => undefined)) as ReportAnswer | undefined;
    if (res.status === 202 && body) {
      this.stats.sent += body.accepted;
      this.stats.duplicates += body.duplicates;
      this.stats.rejected += body.rejected.length;
      for (const r of body.rejected) this.tell({ kind: 'rejected', id: batch[r.index]?.id ?? `#${r.index}`, error: r.error });
      return undefined;
    }
    if (res.status === 429 || res.status >= 500 || res.status === 202) {
      const after = Number(res.headers.get('retry-after'));
      return Number.isFinite(after) && after > 0 ? { reason: `http ${res.status}`, waitMs: after * 1000 } : `http ${res.status}`;
    }
    this.stats.refused += batch.length;
    this.tell({ kind: 'refused', status: res.status, ids: batch.map((t) => t.id) });
    return undefined;
  }

  private tell(e: ReportError): void {
    try {
      this.config.onError?.(e);
    } catch {
      // the caller's hook must not break reporting
    }
  }
}
