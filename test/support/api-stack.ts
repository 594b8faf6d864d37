/**
 * The real API over the test database and Temporal, optionally with a real worker running the
 * workflows: what the end-to-end and bad-input suites start. Each stack has its own database and
 * task queue; downtime workflows a suite remembers are terminated when it closes (workflow ids
 * are per scope and shared by every suite of a run).
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { KeyRing } from '../../api/auth';
import type { Config } from '../../common/config';
import { downtimeWorkflowId } from '../../common/definitions';
import type { Database } from '../../db/mongo';
import { createWorker, WorkerParts } from '../../worker/worker';
import { testClient, testConfig, testDatabase } from './stack';

export interface ApiStack {
  app: FastifyInstance;
  config: Config;
  db: Database;
  temporal: Awaited<ReturnType<typeof testClient>>;
  /** Remembers a downtime workflow this suite started, to terminate it at the end. */
  started(scopeKey: string): void;
  close(): Promise<void>;
}

export async function startApiStack(opts: { worker?: boolean; now?: () => number; env?: Record<string, string> } = {}): Promise<ApiStack> {
  const config = testConfig(opts.env);
  const db = await testDatabase(config);
  const temporal = await testClient();
  let parts: WorkerParts | undefined;
  let running: Promise<void> | undefined;
  if (opts.worker) {
    parts = await createWorker(config, db, process.env.TEST_TEMPORAL_ADDRESS!);
    running = parts.worker.run();
  }
  const app = await buildApp({ config, db, temporal: temporal.client, keys: new KeyRing(config.apiKeys!), ...(opts.now ? { now: opts.now } : {}) });
  const workflows = new Set<string>();
  return {
    app,
    config,
    db,
    temporal,
    started: (scopeKey) => void workflows.add(downtimeWorkflowId(scopeKey)),
    async close() {
      await app.close();
      // Every workflow still running on this stack's task queue (a fuzzed request may have opened
      // one the suite never named), so that no later suite finds its scope already taken.
      for await (const wf of temporal.client.workflow.list({ query: `TaskQueue = "${config.temporal.taskQueue}" AND ExecutionStatus = "Running"` })) {
        workflows.add(wf.workflowId);
      }
      for (const id of workflows) {
        const handle = temporal.client.workflow.getHandle(id);
        const described = await handle.describe().catch(() => undefined);
        if (described?.status.name === 'RUNNING' && described.taskQueue === config.temporal.taskQueue) {
          await handle.terminate('test suite cleanup').catch(() => undefined);
        }
      }
      if (parts) {
        parts.worker.shutdown();
        await running;
        await parts.close();
      }
      await temporal.close();
      await db.db.dropDatabase();
      await db.close();
    },
  };
}
