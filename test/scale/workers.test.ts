/**
 * The workers' side of two of everything: a downtime detected while one of the two workers is
 * dead is disabled about as soon as with both alive; and a worker started from a newer build of
 * the same workflow code (a copy of the repository whose workflow source differs by a line, so
 * its bundle is built anew) takes over the open downtimes, replaying their histories without a
 * non-determinism error, and goes on running them.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { stateQuery } from '../../common/definitions';
import { ROOT } from '../../scripts/local-servers';
import { scopeMatchesRoute } from '../../domain';
import { DowntimeBody, eventually, httpClient } from '../e2e/support';
import { KEYS, background, historySummary, report, sleep, startWorker } from '../faults/support';
import type { TransactionRecord } from '../../common/transaction';
import { ScaleStack, startScaleStack, stopScaleStack } from './support';

let stack: ScaleStack;
beforeAll(async () => {
  // Detection judges a scope from 20 attempts in its window (the fault suite's default never judges).
  stack = await startScaleStack({ name: 'scale-workers', temporalClient: true, env: { MIN_ATTEMPTS: '20' } });
});
afterAll(() => stopScaleStack(stack));

const HEALTHY = [
  { method: 'upi:gpay', gateway: 'payu' },
  { method: 'card:visa_debit', gateway: 'razorpay' },
  { method: 'netbanking:hdfc', gateway: 'cashfree' },
];

/** Every 250 ms through the balancer: healthy attempts, and failing ones on `failing` while it is set. */
function traffic(run: string) {
  let failing: { method: string; gateway: string } | undefined;
  let n = 0;
  const lb = httpClient(stack.base);
  const loop = background(async () => {
    const txs: TransactionRecord[] = [];
    for (let i = 0; i < 12; i++) txs.push({ id: `${run}-${n++}`, userId: `user_${n % 97}`, ...HEALTHY[i % HEALTHY.length]!, status: 'success' });
    if (failing) for (let i = 0; i < 6; i++) txs.push({ id: `${run}-${n++}`, userId: `user_${n % 97}`, ...failing, status: 'failure', errorCode: 'BANK_UNAVAILABLE' });
    const res = await lb.post('/v1/transactions', KEYS.ingest, { transactions: txs });
    if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
  }, 250);
  return { loop, fail: (route: { method: string; gateway: string }) => void (failing = route) };
}

/**
 * The first open downtime disabled after `from` whose scope covers the route (the route's own,
 * or a broader one detection rolled the failures up to): ms from `from` to its disable.
 */
async function disabledAfter(route: { method: string; gateway: string }, from: number): Promise<{ id: string; ms: number; scopeKey: string }> {
  const lb = httpClient(stack.base);
  const d = await eventually(`a downtime covering ${route.method} on ${route.gateway} is disabled`, async () => {
    const open = await lb.get<{ downtimes: DowntimeBody[] }>('/v1/downtimes?status=open', KEYS.operator);
    return open.body.downtimes.find((x) => x.disabledAt && Date.parse(x.disabledAt) >= from && scopeMatchesRoute(x.scope, route));
  }, { timeoutMs: 120_000, intervalMs: 100 });
  return { id: d.id, ms: Date.parse(d.disabledAt!) - from, scopeKey: d.scopeKey };
}

test('detection with one worker dead disables about as soon as with both; a newer build of the workflows replays the open downtimes and runs them on', async () => {
  const lb = httpClient(stack.base);
  const banks = [{ method: 'netbanking:axis', gateway: 'payu' }, { method: 'netbanking:kotak', gateway: 'payu' }];
  const catalog = [...HEALTHY, ...banks].map((r) => ({ method: r.method, gateways: [r.gateway] }));
  expect((await lb.put('/v1/catalog', KEYS.admin, { methods: catalog })).status).toBe(200);
  const t = traffic(randomBytes(3).toString('hex'));
  await sleep(3_000);

  // Both workers alive: the first bank fails.
  let from = Date.now();
  t.fail(banks[0]!);
  const alive = await disabledAfter(banks[0]!, from);

  // One worker dies; the second bank fails.
  await stack.workers[0]!.kill();
  from = Date.now();
  t.fail(banks[1]!);
  const dead = await disabledAfter(banks[1]!, from);
  // About as soon: the detection Schedule's next run and the new downtime's tasks go to the worker
  // alive. A task that was on the dead worker's sticky queue waits for Temporal to give it to the
  // other one (the sticky schedule-to-start time-out); that is the most it may add here.
  expect(dead.ms).toBeLessThanOrEqual(alive.ms + 15_000);

  // The second worker dies too; a worker built from a newer copy of the code takes over.
  await stack.workers[1]!.kill();
  const copy = mkdtempSync(join(stack.dir, 'newer-build-'));
  for (const part of ['workflows', 'activities', 'worker', 'api', 'domain', 'common', 'db', 'client', 'scripts', 'tools', 'package.json', 'tsconfig.json']) {
    cpSync(join(ROOT, part), join(copy, part), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  appendFileSync(join(copy, 'workflows', 'downtime.ts'), `\n// Built again at ${new Date().toISOString()}: the same workflow code, a newer bundle.\n`);
  const newer = await startWorker(stack.env, stack.dir, 'worker-newer', 120_000, join(copy, 'worker', 'main.ts'));
  stack.workers.push(newer);

  // Each open downtime answers a query (a replay of its whole history on the new worker, whose
  // cache is empty) and then takes an operator's request.
  const client = stack.t!.client;
  for (const d of [alive, dead]) {
    const view = await client.workflow.getHandle(`downtime:${d.scopeKey}`).query(stateQuery);
    expect(view).toMatchObject({ downtimeId: d.id, status: 'open' });
  }
  expect((await lb.post(`/v1/downtimes/${alive.id}/extend`, KEYS.operator, { by: 'amy', until: new Date(Date.now() + 30 * 60_000).toISOString() })).status).toBe(200);
  await t.loop.stop();
  expect(t.loop.errors).toEqual([]);
  await sleep(2_000);

  const histories = await Promise.all([alive, dead].map((d) => historySummary(stack.t!, `downtime:${d.scopeKey}`)));
  expect(histories.map((h) => h.workflowTaskFailures)).toEqual([[], []]);
  expect(readFileSync(newer.logFile, 'utf8')).not.toMatch(/nondetermin/i);
  report('scale-workers', { disabledWithBothWorkersMs: alive.ms, disabledWithOneWorkerDeadMs: dead.ms, replayedOnNewerBuild: 2, workflowTaskFailures: 0 });
});
