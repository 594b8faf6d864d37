/** Wires config → Mongo → activities → Worker. Used by `npm run worker`, `npm start` and the tests. */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ActivityDeps, createActivities } from '../activities';
import type { Config } from '../common/config';
import type { Database } from '../db/mongo';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

/**
 * Tuned for a burst of new downtimes (bench/actors.ts: 1,000 at once, all disabled within 30 s):
 * with the SDK defaults, first tasks queue behind probe ticks once those start, and the burst
 * takes several times as long (docs/results/notes.md).
 * - A downtime is disabled in its workflow's first task, which runs the start as local activities
 *   and holds its slot meanwhile: 100 slots (default 40), polled by 20 (about half, as the SDK
 *   docs advise).
 * - First tasks come from the non-sticky queue, later ones (probe ticks) from this worker's
 *   sticky queue. The default ratio 0.2 gave the non-sticky queue 2 pollers of 10, and once probe
 *   ticks began the last new downtimes waited behind them: 1 splits the pollers evenly.
 * - Activity tasks are only detection's now (every actor step is a local activity): 20 at a time
 *   (default 100) is ample for one cycle every DETECTION_INTERVAL.
 */
const TUNING = {
  maxConcurrentWorkflowTaskExecutions: 100,
  maxConcurrentWorkflowTaskPolls: 20,
  nonStickyToStickyPollRatio: 1,
  maxConcurrentActivityTaskExecutions: 20,
} as const;

export interface WorkerParts {
  worker: Worker;
  client: Client;
  /** The same steps, for the worker's own loops (overdue reviews). */
  activities: ReturnType<typeof createActivities>;
  close(): Promise<void>;
}

export async function createWorker(config: Config, db: Database, temporalAddress: string, log?: ActivityDeps['log'], metrics?: ActivityDeps['metrics']): Promise<WorkerParts> {
  const connection = await NativeConnection.connect({ address: temporalAddress });
  const clientConnection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const activities = createActivities({ db, config, temporal: { client, taskQueue: config.temporal.taskQueue }, now: Date.now, log, metrics });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    ...TUNING,
  });
  return {
    worker,
    client,
    activities,
    async close() {
      await clientConnection.close();
      await connection.close();
    },
  };
}
