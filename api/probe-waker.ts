/**
 * Wakes a downtime actor when bucket B pays through its scope successfully and its record asked
 * for it (`wakeOnProbeSuccess`, domain/probe.ts wakesOnSuccess): during a hard outage one success
 * is strong evidence that the route is back, and the actor looks at once instead of up to a
 * PROBE_INTERVAL later, while bucket A still cannot see the route.
 *
 * Fire and forget, after the success is counted (so the look reads it): a signal that fails is
 * logged and costs only the early look, the interval still comes. At most one signal per actor
 * per `minGapMs`, so a burst of successes wakes it once.
 */
import type { Client } from '@temporalio/client';
import { downtimeWorkflowId, probeSuccessSignal } from '../common/definitions';

export interface ProbeWakerDeps {
  /** Sends the signal to the actor's workflow. */
  signal: (workflowId: string) => Promise<void>;
  now: () => number;
  minGapMs: number;
  log?: { warn(obj: object, msg: string): void };
  /** Counts each signal's result (probe_wake_signals_total). */
  counted?: (result: 'sent' | 'failed') => void;
}

export class ProbeWaker {
  private readonly lastSent = new Map<string, number>();

  constructor(private readonly deps: ProbeWakerDeps) {}

  /** Signals the actor of each scope, unless it was signalled within `minGapMs`. */
  wake(scopeKeys: Iterable<string>): void {
    const { now, minGapMs } = this.deps;
    const at = now();
    for (const [key, sent] of this.lastSent) if (at - sent >= minGapMs) this.lastSent.delete(key);
    for (const scopeKey of scopeKeys) {
      if (this.lastSent.has(scopeKey)) continue;
      this.lastSent.set(scopeKey, at);
      const workflowId = downtimeWorkflowId(scopeKey);
      this.deps.signal(workflowId).then(
        () => this.deps.counted?.('sent'),
        (err: unknown) => {
          this.deps.counted?.('failed');
          this.deps.log?.warn({ workflowId, err: err instanceof Error ? err.message : String(err) }, 'probe success signal failed');
        },
      );
    }
  }
}

/** A waker that signals through the Temporal client. */
export function temporalProbeWaker(client: Client, deps: Omit<ProbeWakerDeps, 'signal'>): ProbeWaker {
  return new ProbeWaker({ ...deps, signal: (workflowId) => client.workflow.getHandle(workflowId).signal(probeSuccessSignal) });
}
