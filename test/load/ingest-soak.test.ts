/**
 * Ingest soak: 2,000 transactions/s for 60 s from a second process on loopback, against the API
 * and the worker as real processes. Nothing accepted is lost (stored = accepted = counted), no
 * answer is an error, and the API's and the worker's resident memory is reported at start and end.
 */
import type { Database } from '../../db/mongo';
import { countedAttempts } from '../../db/counters';
import { KEYS, apiUrl, report, Env } from '../faults/support';
import { eventually } from '../e2e/support';
import { residentMb, runLoadGenerator, startStack } from './support';

const RATE = 2_000;
const SECONDS = 60;
const BATCH = 200;

let stack: Awaited<ReturnType<typeof startStack>>;
let env: Env;
let db: Database;

beforeAll(async () => {
  stack = await startStack('ingest-soak');
  ({ env, db } = stack);
});

afterAll(async () => stack?.stop());

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

const runLoad = () => runLoadGenerator<LoadSummary>('ingest-load.ts', { base: apiUrl(env), key: KEYS.ingest, ratePerSec: RATE, seconds: SECONDS, batch: BATCH, tag: `soak${Date.now()}` });

/** Transactions in the counters, as detection reads them. */
const countedTotal = () => countedAttempts(db);

test('2,000 transactions/s for 60 s: every accepted transaction stored and counted once, no error answers', async () => {
  const memoryAtStart = { api: residentMb(stack.api.pid), worker: residentMb(stack.worker.pid) };
  const load = await runLoad();
  const memoryAtEnd = { api: residentMb(stack.api.pid), worker: residentMb(stack.worker.pid) };
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
