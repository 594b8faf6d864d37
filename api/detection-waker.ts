/**
 * Wakes detection from the ingest (domain/detection.ts wakesDetection): a batch that counted a
 * system failure on a route no downtime covers starts a detection run at once, instead of leaving
 * it to the Schedule's next run up to a DETECTION_INTERVAL later.
 *
 * Sent after the batch is counted (so the run reads it), at most once per DETECTION_WAKE_GAP across
 * the API replicas (gap-waker.ts); a failure within the gap is held to its end. The run is the
 * Schedule's workflow under its own id (`detectionWakeWorkflowId`): while one woken run is still
 * going, a wake joins it rather than starting another. A woken run may overlap the Schedule's: both
 * place their findings through the same workflow ids, so the same scope is never opened twice.
 */
import type { Client } from '@temporalio/client';
import { detectionRunTimeoutMs, detectionWakeWorkflowId } from '../common/definitions';
import { oncePerGap } from '../db/claims';
import type { Database } from '../db/mongo';
import { GapWaker, GapWakerDeps } from './gap-waker';

export type DetectionWakerDeps = Omit<GapWakerDeps<void>, 'signal'> & {
  /** Starts a detection run. */
  start: () => Promise<void>;
};

const WAKE_KEY = 'detection';

export class DetectionWaker {
  private readonly waker: GapWaker<void>;

  constructor(deps: DetectionWakerDeps) {
    this.waker = new GapWaker<void>({ ...deps, signal: () => deps.start() }, () => ({ workflowId: detectionWakeWorkflowId }), 'detection wake failed');
  }

  /** Starts a detection run, unless one was woken within the gap (this one is then held to its end). */
  wake(): void {
    this.waker.wake(WAKE_KEY, undefined, true);
  }
}

/** A waker that starts the detection workflow through the Temporal client, once per gap across the API replicas sharing `db`. */
export function temporalDetectionWaker(client: Client, db: Database, run: { taskQueue: string; intervalMs: number }, deps: Omit<DetectionWakerDeps, 'start' | 'claim'>): DetectionWaker {
  return new DetectionWaker({
    ...deps,
    claim: (key, at) => oncePerGap(db, `wake:${key}`, at, deps.minGapMs),
    start: async () => {
      await client.workflow.start('detectionWorkflow', {
        workflowId: detectionWakeWorkflowId,
        taskQueue: run.taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        workflowExecutionTimeout: detectionRunTimeoutMs(run.intervalMs),
        staticSummary: 'Detection woken by a failure on an uncovered route',
      });
    },
  });
}
