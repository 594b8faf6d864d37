/**
 * One scenario's own stack: a Temporal dev server (in memory) and a MongoDB-wire server on free
 * loopback ports, then the worker and the API as child processes with the short profile, a
 * fresh database, the scenario's own API keys and LOG_LEVEL=warn. Stopped by `stop()`, and by
 * the simulator on Ctrl-C.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DETECTION_SCHEDULE_ID } from '../common/definitions';
import { ROOT, RunningServer, freePort, startLocalServers, stopProcess, waitForPort } from '../scripts/local-servers';

export interface StackKeys {
  ingest: string;
  checkout: string;
  operator: string;
  admin: string;
}

export interface Stack {
  apiBase: string;
  keys: StackKeys;
  workDir: string;
  env: Record<string, string>;
  /** Writes every workflow's history as JSON (`historyToJSON`) into `dir`; returns how many. */
  saveHistories(dir: string): Promise<number>;
  stop(): Promise<void>;
}

const live = new Set<Stack>();

/** Stops every stack still running (Ctrl-C, or a crash of the simulator). */
export async function stopAllStacks(): Promise<void> {
  await Promise.all([...live].map((s) => s.stop()));
}

function spawnChild(script: string, env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, script)], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

/** Waits until the worker has created the detection Schedule and one detection ran on it. */
async function waitForWorker(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the worker exited with code ${child.exitCode}`);
      const described = await client.schedule.getHandle(DETECTION_SCHEDULE_ID).describe().catch(() => undefined);
      const action = described?.info.recentActions[0]?.action.workflow;
      if (action) {
        await client.workflow.getHandle(action.workflowId, action.firstExecutionRunId).result();
        return;
      }
      if (Date.now() > deadline) throw new Error(`the worker did not run detection within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await connection.close();
  }
}

export async function startStack(name: string, profileEnv: Record<string, string>, log: (line: string) => void): Promise<Stack> {
  const workDir = mkdtempSync(join(tmpdir(), `pdo-sim-${name}-`));
  const servers: RunningServer[] = [];
  const children: ChildProcess[] = [];
  let stopped = false;
  const key = (role: string) => `sim-${role}-${randomBytes(12).toString('hex')}`;
  const keys: StackKeys = { ingest: key('ingest'), checkout: key('checkout'), operator: key('operator'), admin: key('admin') };
  const stack: Stack = {
    apiBase: '',
    keys,
    workDir,
    env: {},
    async saveHistories(dir: string) {
      const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS! });
      try {
        const client = new Client({ connection });
        mkdirSync(dir, { recursive: true });
        let n = 0;
        for await (const w of client.workflow.list({ query: `WorkflowType = 'downtimeWorkflow'` })) {
          const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
          writeFileSync(join(dir, `${w.workflowId.replace(/[^\w.@-]+/g, '_')}.${w.runId}.json`), JSON.stringify(temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history), { longs: Number, enums: String, bytes: String })));
          n += 1;
        }
        return n;
      } finally {
        await connection.close();
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(stack);
      await Promise.all(children.map((c) => stopProcess(c, 10_000)));
      await Promise.all(servers.map((s) => s.stop()));
      if (!process.env.SIM_KEEP_WORKDIR) rmSync(workDir, { recursive: true, force: true });
    },
  };
  live.add(stack);
  try {
    const { temporal, mongo } = await startLocalServers(workDir);
    servers.push(temporal, mongo);
    const apiPort = await freePort();
    const env: Record<string, string> = {
      ...profileEnv,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATA_DIR: workDir,
      TEMPORAL_ADDRESS: temporal.address,
      MONGODB_URI: mongo.address,
      MONGODB_DB: `sim_${name.replace(/-/g, '_')}_${randomBytes(3).toString('hex')}`.slice(0, 63),
      API_KEYS: `${keys.ingest}=ingest,${keys.checkout}=checkout,${keys.operator}=operator,${keys.admin}=admin+operator`,
    };
    stack.env = env;
    const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
    const worker = spawnChild('worker/main.ts', childEnv, join(workDir, 'worker.log'));
    children.push(worker);
    const api = spawnChild('api/main.ts', childEnv, join(workDir, 'api.log'));
    children.push(api);
    await waitForPort('127.0.0.1', apiPort, 90_000, api);
    log(`api on 127.0.0.1:${apiPort}, temporal ${temporal.address}, ${mongo.name} ${mongo.address}`);
    await waitForWorker(temporal.address, worker, 120_000);
    stack.apiBase = `http://127.0.0.1:${apiPort}`;
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}
