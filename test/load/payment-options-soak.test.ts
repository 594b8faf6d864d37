/**
 * Payment-options soak: 2,000 requests/s for 60 s from a second process (autocannon), against the
 * API and the worker as real processes, while 100 downtimes open and close through the API and
 * their workflows. No error answer; the p99 is reported.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../scripts/local-servers';
import type { Database } from '../../db/mongo';
import { KEYS, ManagedProcess, api, apiUrl, cleanTemporal, database, faultDir, faultEnv, freePort, report, sleep, startApi, startWorker, Env } from '../faults/support';
import { eventually } from '../e2e/support';
import { residentMb } from './support';

const RATE = 2_000;
const SECONDS = 60;
const DOWNTIMES = 100;
const BANKS = Array.from({ length: DOWNTIMES }, (_, i) => `netbanking:bank_${String(i).padStart(3, '0')}`);

let env: Env;
let apiProcess: ManagedProcess | undefined;
let workerProcess: ManagedProcess | undefined;
let db: Database;

beforeAll(async () => {
  const dir = faultDir('options-soak');
  env = faultEnv({ PORT: String(await freePort()) });
  db = await database(env);
  [workerProcess, apiProcess] = await Promise.all([startWorker(env, dir), startApi(env, dir)]);
  const methods = [
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'] },
    { method: 'card:hdfc_credit', gateways: ['razorpay'] },
    ...BANKS.map((method, i) => ({ method, gateways: i % 2 ? ['payu', 'razorpay'] : ['payu'] })),
  ];
  const put = await api(env).put('/v1/catalog', KEYS.admin, { methods });
  expect(put.status).toBe(200);
});

afterAll(async () => {
  await apiProcess?.stop();
  await workerProcess?.stop();
  await cleanTemporal(env.TEMPORAL_ADDRESS!, env.TEMPORAL_TASK_QUEUE!);
  await db?.db.dropDatabase().catch(() => undefined);
  await db?.close();
});

interface LoadSummary {
  requests: number;
  perSec: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

function runLoad(): Promise<LoadSummary> {
  return new Promise((resolve, reject) => {
    const input = { base: apiUrl(env), key: KEYS.checkout, rate: RATE, seconds: SECONDS, connections: 32 };
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/load/options-load.ts'), JSON.stringify(input)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
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

/** Opens the bank's downtime, holds it for `holdMs`, resolves it; returns the downtime id. */
async function openAndClose(method: string, holdMs: number): Promise<string> {
  const client = api(env);
  const opened = await client.post<{ id: string }>('/v1/downtimes', KEYS.operator, { scope: { method }, reason: 'soak: planned maintenance', by: 'soak' });
  if (opened.status !== 202) throw new Error(`open ${method}: ${opened.status} ${JSON.stringify(opened.body)}`);
  await sleep(holdMs);
  await eventually(`resolve ${method}`, async () => {
    const res = await client.post(`/v1/downtimes/${opened.body.id}/resolve`, KEYS.operator, { by: 'soak', reason: 'maintenance over' });
    return res.status === 200 ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 500 });
  return opened.body.id;
}

test('2,000 payment-option requests/s for 60 s while 100 downtimes open and close: no error answer', async () => {
  const memoryAtStart = { api: residentMb(apiProcess!.pid), worker: residentMb(workerProcess!.pid) };
  const load = runLoad();
  // Spread the openings over the first 40 s; each downtime stays open 5 to 15 s.
  const churn = Promise.all(BANKS.map(async (method, i) => {
    await sleep(2_000 + i * 400);
    return openAndClose(method, 5_000 + (i % 11) * 1_000);
  }));
  const [summary, ids] = await Promise.all([load, churn]);
  const memoryAtEnd = { api: residentMb(apiProcess!.pid), worker: residentMb(workerProcess!.pid) };
  const resolved = await db.c.downtimes.countDocuments({ _id: { $in: ids }, status: 'resolved' });

  report('payment-options-soak', { rate: RATE, seconds: SECONDS, downtimes: DOWNTIMES, load: summary, resolved, memoryMb: { start: memoryAtStart, end: memoryAtEnd } });
  expect(summary.non2xx).toBe(0);
  expect(summary.errors).toBe(0);
  expect(summary.timeouts).toBe(0);
  expect(resolved).toBe(DOWNTIMES);
});
