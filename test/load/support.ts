/** Helpers of the load soaks. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../../db/mongo';
import { ROOT } from '../../scripts/local-servers';
import { Env, ManagedProcess, cleanTemporal, database, faultDir, faultEnv, freePort, startApi, startWorker } from '../faults/support';

/** Resident memory of a process in MB, from /proc (Linux). */
export function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

/** The worker and the API as real processes on a database and task queue of the soak's own. */
export async function startStack(name: string): Promise<{ env: Env; db: Database; api: ManagedProcess; worker: ManagedProcess; stop(): Promise<void> }> {
  const dir = faultDir(name);
  const env = faultEnv({ PORT: String(await freePort()) });
  const db = await database(env);
  const [worker, api] = await Promise.all([startWorker(env, dir), startApi(env, dir)]);
  return {
    env,
    db,
    api,
    worker,
    async stop() {
      await api.stop();
      await worker.stop();
      await cleanTemporal(env.TEMPORAL_ADDRESS!, env.TEMPORAL_TASK_QUEUE!);
      await db.db.dropDatabase().catch(() => undefined);
      await db.close();
    },
  };
}

/** Runs a load generator (test/load/<script>) as a second process and parses the JSON summary it prints last. */
export function runLoadGenerator<T>(script: string, input: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/load', script), JSON.stringify(input)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
    });
  });
}
