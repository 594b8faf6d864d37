/**
 * Wakes a workflow early, at most once per gap: the machinery shared by the probe's wakes of a
 * downtime actor (probe-waker.ts) and the ingest's wakes of detection (detection-waker.ts).
 *
 * Fire and forget: a wake that fails is logged and costs only the early run, the scheduled one
 * still comes. At most one wake per key per `minGapMs`, so a burst wakes once. A wake that asks to
 * be held (`hold`) and comes within the gap is sent when the gap ends (once, however many came),
 * since what it brings was counted after the last wake's read. With several API replicas, `claim`
 * makes the gap one for all of them: the replica that takes the wake's turn in the database sends
 * it, the others do not (and hold it to the gap's end, when it asked to be held).
 */

export interface GapWakerDeps<T> {
  /** Sends the wake to its target. */
  signal: (target: T) => Promise<void>;
  now: () => number;
  minGapMs: number;
  /** Runs `fn` after `ms` (the gap's end for a held wake); an unreferenced timer by default. */
  later?: (fn: () => void, ms: number) => void;
  log?: { warn(obj: object, msg: string): void };
  /** Takes the wake of `key` for the gap from `at`, once across every API replica (db/claims.ts oncePerGap). */
  claim?: (key: string, at: number) => Promise<boolean>;
  /** Counts each wake's result: sent, failed, or left to the replica that took it. */
  counted?: (result: 'sent' | 'failed' | 'taken') => void;
}

export type WakeResult = 'sent' | 'failed' | 'taken';

const unrefTimer = (fn: () => void, ms: number) => void setTimeout(fn, ms).unref();

export class GapWaker<T> {
  /** When each key was last woken. */
  private readonly lastSent = new Map<string, number>();
  /** Wakes held until their gap ends. */
  private readonly held = new Set<string>();

  /** `describe` names a target in the log line of a failed wake; `what` is that line. */
  constructor(
    private readonly deps: GapWakerDeps<T>,
    private readonly describe: (target: T) => object,
    private readonly what: string,
  ) {}

  /** Wakes `target`, unless `key` was woken within `minGapMs` (with `hold`, it is then sent when the gap ends). */
  wake(key: string, target: T, hold: boolean): void {
    const { now, minGapMs } = this.deps;
    const at = now();
    for (const [k, sent] of this.lastSent) if (at - sent >= minGapMs && !this.held.has(k)) this.lastSent.delete(k);
    const sent = this.lastSent.get(key);
    if (sent === undefined || at - sent >= minGapMs) this.send(key, target, hold, at);
    else if (hold) this.hold(key, target, sent + minGapMs - at);
  }

  /** A wake held until its gap ends, then sent (once, however many came meanwhile). */
  private hold(key: string, target: T, ms: number): void {
    if (this.held.has(key)) return;
    this.held.add(key);
    (this.deps.later ?? unrefTimer)(() => {
      this.held.delete(key);
      this.send(key, target, true, this.deps.now(), true);
    }, ms);
  }

  /** Sends the wake, or leaves it to the replica that took it; `wasHeld` when the send ends a hold. */
  private send(key: string, target: T, hold: boolean, at: number, wasHeld = false): void {
    this.lastSent.set(key, at);
    const { claim } = this.deps;
    const sent = claim ? claim(key, at).then((mine) => (mine ? this.signal(target) : this.taken(key, target, hold && !wasHeld))) : this.signal(target);
    sent.then(
      (result) => this.deps.counted?.(result),
      (err: unknown) => {
        this.deps.counted?.('failed');
        this.deps.log?.warn({ ...this.describe(target), err: err instanceof Error ? err.message : String(err) }, this.what);
      },
    );
  }

  private async signal(target: T): Promise<'sent'> {
    await this.deps.signal(target);
    return 'sent';
  }

  /**
   * Another replica took the wake within the gap. What this replica counted may have come after
   * that wake's read: a wake that asked to be held is held to the gap's end, as one within this
   * replica's own gap is; once (a held one that finds the wake taken again was counted before it).
   */
  private taken(key: string, target: T, hold: boolean): 'taken' {
    if (hold) this.hold(key, target, this.deps.minGapMs);
    return 'taken';
  }
}
