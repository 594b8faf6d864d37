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
 * is due as soon as it is counted.
 */
import type { Client } from '@temporalio/client';
import { downtimeWorkflowId, probeOutcomeSignal, probeSuccessSignal } from '../common/definitions';

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
  /** Counts each signal's result (probe_wake_signals_total). */
  counted?: (result: 'sent' | 'failed') => void;
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
      if (sent === undefined || at - sent >= minGapMs) {
        this.send(key, workflowId, kind, at);
      } else if (kind === 'outcome' && !this.held.has(key)) {
        this.held.add(key);
        (this.deps.later ?? unrefTimer)(() => {
          this.held.delete(key);
          this.send(key, workflowId, kind, now());
        }, sent + minGapMs - at);
      }
    }
  }

  private send(key: string, workflowId: string, kind: WakeKind, at: number): void {
    this.lastSent.set(key, at);
    this.deps.signal(workflowId, kind).then(
      () => this.deps.counted?.('sent'),
      (err: unknown) => {
        this.deps.counted?.('failed');
        this.deps.log?.warn({ workflowId, kind, err: err instanceof Error ? err.message : String(err) }, 'probe wake signal failed');
      },
    );
  }
}

/** A waker that signals through the Temporal client. */
export function temporalProbeWaker(client: Client, deps: Omit<ProbeWakerDeps, 'signal'>): ProbeWaker {
  return new ProbeWaker({
    ...deps,
    signal: (workflowId, kind) => client.workflow.getHandle(workflowId).signal(kind === 'outcome' ? probeOutcomeSignal : probeSuccessSignal),
  });
}
