/**
 * Wakes a downtime actor when bucket B's attempts through its scope bring what its record asked
 * for. `wakeOnProbeSuccess` (domain/probe.ts wakesOnSuccess): during a hard outage one success is
 * strong evidence that the route is back, and the actor looks at once instead of up to a
 * PROBE_INTERVAL later, while bucket A still cannot see the route. `wakeOnProbeOutcome`
 * (wakesOnOutcome): while the test leans toward recovery, any outcome, which either adds to the
 * proof or undoes the lean.
 *
 * Sent after the outcome is counted (so the look reads it), at most once per actor and kind per
 * `minGapMs` across the API replicas (gap-waker.ts). An outcome within the gap is held to its end,
 * since the look it asks for is due as soon as it is counted; a success within it is dropped.
 */
import type { Client } from '@temporalio/client';
import { downtimeWorkflowId, probeOutcomeSignal, probeSuccessSignal } from '../common/definitions';
import { oncePerGap } from '../db/claims';
import type { Database } from '../db/mongo';
import { GapWaker, GapWakerDeps } from './gap-waker';

/** What woke the actor: a success its record asked for, or any outcome during a lean. */
export type WakeKind = 'success' | 'outcome';

export interface ProbeWakerDeps extends Omit<GapWakerDeps<never>, 'signal'> {
  /** Sends the signal of that kind to the actor's workflow. */
  signal: (workflowId: string, kind: WakeKind) => Promise<void>;
}

/** One wake: the actor's workflow and what woke it. */
interface ActorWake {
  workflowId: string;
  kind: WakeKind;
}

export class ProbeWaker {
  private readonly waker: GapWaker<ActorWake>;

  constructor(deps: ProbeWakerDeps) {
    this.waker = new GapWaker<ActorWake>({ ...deps, signal: (w) => deps.signal(w.workflowId, w.kind) }, (w) => ({ ...w }), 'probe wake signal failed');
  }

  /** Signals the actor of each scope, unless it was signalled within `minGapMs` (an outcome is then held until the gap ends). */
  wake(scopeKeys: Iterable<string>, kind: WakeKind = 'success'): void {
    for (const scopeKey of scopeKeys) {
      const workflowId = downtimeWorkflowId(scopeKey);
      this.waker.wake(`${kind} ${workflowId}`, { workflowId, kind }, kind === 'outcome');
    }
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
