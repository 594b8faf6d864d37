/**
 * Wakes a downtime actor when bucket B's attempts through its scope bring what its record asked
 * for. `wakeOnProbeSuccess` (domain/probe.ts wakesOnSuccess): during a hard outage one success is
 * strong evidence that the route is back, and the actor looks at once instead of up to a
 * PROBE_INTERVAL later, while bucket A still cannot see the route. `wakeOnProbeOutcome`
 * (wakesOnOutcome): while the test leans toward recovery, any outcome, which either adds to the
 * proof or undoes the lean.
 *
 * Fire and forget, after the outcome is counted (so the look reads it): a signal that fails is
 * logged and costs only the early look, the interval still comes. At most one signal per actor
 * and kind per `minGapMs`, so a burst of successes wakes it once; an outcome that comes within
 * the gap is signalled when the gap ends (once, however many came), since the look it asks for
 * is due as soon as it is counted. With several API replicas, `claim` makes the gap one for all
 * of them: the replica that takes the wake's turn in the database signals, the others do not.
 */
import type { Client } from '@temporalio/client';
import { downtimeWorkflowId, probeOutcomeSignal, probeSuccessSignal } from '../common/definitions';
import { oncePerGap } from '../db/claims';
import type { Database } from '../db/mongo';

/** What woke the actor: a success its record asked for, or any outcome during a lean. */
export type WakeKind = 'success' | 'outcome';

export interface ProbeWakerDeps {
  /** Sends the signal of that kind to the actor's workflow. */
  signal: (workflowId: string, kind: WakeKind) => Promise<void>;
  now: () => number;
  minGapMs: number;
  /** Runs `fn` after `ms` (the gap's end for a held outcome signal); an unreferenced timer by default. */
  later?: (fn: () => void, ms: number) => void;
  log?: { warn(obj: object, msg: string): void };
  /**
   * Takes the wake of `key` (kind and workflow id) for the gap from `at`, once across every API
   * replica (db/claims.ts oncePerGap); a wake another replica took is not signalled again.
   */
  claim?: (key: string, at: number) => Promise<boolean>;
  /** Counts each wake's result (probe_wake_signals_total): signalled, failed, or left to the replica that took it. */
  counted?: (result: 'sent' | 'failed' | 'taken') => void;
}

const unrefTimer = (fn: () => void, ms: number) => void setTimeout(fn, ms).unref();

export class ProbeWaker {
  /** When each actor and kind was last signalled (key: kind and workflow id). */
  private readonly lastSent = new Map<string, number>();
  /** Outcome signals held until their gap ends. */
  private readonly held = new Set<string>();

  constructor(private readonly deps: ProbeWakerDeps) {}

  /** Signals the actor of each scope, unless it was signalled within `minGapMs` (an outcome is then held until the gap ends). */
  wake(scopeKeys: Iterable<string>, kind: WakeKind = 'success'): void {
    const { now, minGapMs } = this.deps;
    const at = now();
    for (const [key, sent] of this.lastSent) if (at - sent >= minGapMs && !this.held.has(key)) this.lastSent.delete(key);
    for (const scopeKey of scopeKeys) {
      const workflowId = downtimeWorkflowId(scopeKey);
      const key = `${kind} ${workflowId}`;
      const sent = this.lastSent.get(key);
      if (sent === undefined || at - sent >= minGapMs) this.send(key, workflowId, kind, at);
      else if (kind === 'outcome') this.hold(key, workflowId, sent + minGapMs - at);
    }
  }

  /** An outcome signal held until its gap ends, then sent (once, however many came meanwhile). */
  private hold(key: string, workflowId: string, ms: number): void {
    if (this.held.has(key)) return;
    this.held.add(key);
    (this.deps.later ?? unrefTimer)(() => {
      this.held.delete(key);
      this.send(key, workflowId, 'outcome', this.deps.now(), true);
    }, ms);
  }

  /** Signals the actor, or leaves it to the replica that took the wake; `held` when the send ends a hold. */
  private send(key: string, workflowId: string, kind: WakeKind, at: number, held = false): void {
    this.lastSent.set(key, at);
    const { claim } = this.deps;
    const signalled = claim ? claim(key, at).then((mine) => (mine ? this.signal(workflowId, kind) : this.taken(key, workflowId, kind, held))) : this.signal(workflowId, kind);
    signalled.then(
      (result) => this.deps.counted?.(result),
      (err: unknown) => {
        this.deps.counted?.('failed');
        this.deps.log?.warn({ workflowId, kind, err: err instanceof Error ? err.message : String(err) }, 'probe wake signal failed');
      },
    );
  }

  private async signal(workflowId: string, kind: WakeKind): Promise<'sent'> {
    await this.deps.signal(workflowId, kind);
    return 'sent';
  }

  /**
   * Another replica woke the actor within the gap. This replica's outcome may have been counted
   * after that look read the counters: it is held to the gap's end, as one within this replica's
   * own gap is; once (a held one that finds the wake taken again was counted before that wake).
   */
  private taken(key: string, workflowId: string, kind: WakeKind, held: boolean): 'taken' {
    if (kind === 'outcome' && !held) this.hold(key, workflowId, this.deps.minGapMs);
    return 'taken';
  }
}

/** A waker that signals through the Temporal client, once across the API replicas sharing `db`. */
export function temporalProbeWaker(client: Client, db: Database, deps: Omit<ProbeWakerDeps, 'signal' | 'claim'>): ProbeWaker {
  return new ProbeWaker({
    ...deps,
    claim: (key, at) => oncePerGap(db, `wake:${key}`, at, deps.minGapMs),
    signal: (workflowId, kind) => client.workflow.getHandle(workflowId).signal(kind === 'outcome' ? probeOutcomeSignal : probeSuccessSignal),
  });
}
