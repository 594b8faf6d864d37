/**
 * Ingest soak: 2,000 transactions/s for 60 s from a second process on loopback, against the API
 * and the worker as real processes. Nothing accepted is lost (stored = accepted = counted), no
 * answer is an error, and the API's and the worker's resident memory is reported at start and end.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../scripts/local-servers';
import type { Database } from '../../db/mongo';
import { KEYS, ManagedProcess, apiUrl, cleanTemporal, database, faultDir, faultEnv, freePort, report, startApi, startWorker, Env } from '../faults/support';
import { eventually } from '../e2e/support';
import { residentMb } from './support';

const RATE = 2_000;
const SECONDS = 60;
const BATCH = 200;

let env: Env;
let dir: string;
let apiProcess: ManagedProcess | undefined;
let workerProcess: ManagedProcess | undefined;
let db: Database;

beforeAll(async () => {
  dir = faultDir('ingest-soak');
  env = faultEnv({ PORT: String(await freePort()) });
  db = await database(env);
  [workerProcess, apiProcess] = await Promise.all([startWorker(env, dir), startApi(env, dir)]);
});

afterAll(async () => {
  await apiProcess?.stop();
  await workerProcess?.stop();
  await cleanTemporal(env.TEMPORAL_ADDRESS!, env.TEMPORAL_TASK_QUEUE!);
  await db?.db.dropDatabase().catch(() => undefined);
  await db?.close();
});

interface LoadSummary {
  sent: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  statuses: Record<string, number>;
  elapsedSec: number;
  achievedPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
}

function runLoad(): Promise<LoadSummary> {
  return new Promise((resolve, reject) => {
    const input = { base: apiUrl(env), key: KEYS.ingest, ratePerSec: RATE, seconds: SECONDS, batch: BATCH, tag: `soak${Date.now()}` };
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/load/ingest-load.ts'), JSON.stringify(input)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadSummary);
    });
  });
}

/** Transactions in the counters. Summed here: FerretDB 1.24's $group fills only the first of several $sum accumulators. */
async function countedTotal(): Promise<number> {
  const docs = await db.c.counters.find({}, { projection: { success: 1, systemFailure: 1, userFailure: 1 } }).toArray();
  return docs.reduce((n, d) => n + d.success + d.systemFailure + d.userFailure, 0);
}

test('2,000 transactions/s for 60 s: every accepted transaction stored and counted once, no error answers', async () => {
  const memoryAtStart = { api: residentMb(apiProcess!.pid), worker: residentMb(workerProcess!.pid) };
  const load = await runLoad();
  const memoryAtEnd = { api: residentMb(apiProcess!.pid), worker: residentMb(workerProcess!.pid) };
  const stored = await db.c.transactions.countDocuments();
  const counted = await eventually('counters hold every stored transaction', async () => {
    const n = await countedTotal();
    return n === stored ? n : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1_000, describe: () => ({ stored }) }).catch(async () => countedTotal());

  report('ingest-soak', { rate: RATE, seconds: SECONDS, batch: BATCH, load, stored, counted, memoryMb: { start: memoryAtStart, end: memoryAtEnd } });
  expect(load.statuses).toEqual({ 202: load.sent / BATCH });
  expect(load.accepted).toBe(load.sent);
  expect(stored).toBe(load.accepted);
  expect(counted).toBe(stored);
});
