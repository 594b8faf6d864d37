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

export interface WorkerParts {
  worker: Worker;
  client: Client;
  close(): Promise<void>;
}

export async function createWorker(config: Config, db: Database, temporalAddress: string, log?: ActivityDeps['log']): Promise<WorkerParts> {
  const connection = await NativeConnection.connect({ address: temporalAddress });
  const clientConnection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const activities = createActivities({ db, config, temporal: { client, taskQueue: config.temporal.taskQueue }, now: Date.now, log });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  return {
    worker,
    client,
    async close() {
      await clientConnection.close();
      await connection.close();
    },
  };
}
