/**
 * End to end, on the real Temporal dev server and the real database: during a hard outage the
 * downtime's record asks to be woken by a probe success, the checkout posts one bucket-B success
 * through the API, and the actor looks at the probe at once instead of at its next interval.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { KeyRing } from '../../api/auth';
import type { Config } from '../../common/config';
import { startManualDowntime } from '../../common/starter';
import type { Database } from '../../db/mongo';
import { createWorker, WorkerParts } from '../../worker/worker';
import { downtimeInput } from '../support/downtime-input';
import { KEYS, testClient, testConfig, testDatabase } from '../support/stack';
import { DowntimeBody, eventually, httpClient, listen, userInBucket } from './support';

jest.setTimeout(90_000);

// Long enough that a look within half of it cannot be the interval's next one.
const PROBE_INTERVAL_MS = 16_000;
const BANK = `netbanking:wake_${randomBytes(3).toString('hex')}`;

let config: Config;
let db: Database;
let parts: WorkerParts;
let running: Promise<void>;
let temporal: Awaited<ReturnType<typeof testClient>>;
let app: FastifyInstance;
let api: ReturnType<typeof httpClient>;
let workflowId: string | undefined;

beforeAll(async () => {
  config = testConfig({ SNAPSHOT_REFRESH: '200ms', PROBE_INTERVAL: `${PROBE_INTERVAL_MS / 1000}s` });
  db = await testDatabase(config);
  parts = await createWorker(config, db, process.env.TEST_TEMPORAL_ADDRESS!);
  running = parts.worker.run();
  temporal = await testClient();
  app = await buildApp({ config, db, temporal: temporal.client, keys: new KeyRing(config.apiKeys!) });
  api = httpClient(await listen(app));
  expect((await api.put('/v1/catalog', KEYS.admin, { methods: [{ method: BANK, gateways: ['payu'] }] })).status).toBe(200);
});

afterAll(async () => {
  await app?.close();
  if (workflowId) await temporal?.client.workflow.getHandle(workflowId).terminate('end-to-end test cleanup').catch(() => undefined);
  parts?.worker.shutdown();
  await running;
  await parts?.close();
  await temporal?.close();
  await db?.db.dropDatabase();
  await db?.close();
});

const downtime = async (id: string) => (await api.get<DowntimeBody>(`/v1/downtimes/${id}`, KEYS.operator)).body;

test('a bucket-B success posted during a hard outage brings the actor\'s next look forward', async () => {
  // Detected with 10 successes in 200 attempts: one probe success weighs much.
  const input = downtimeInput(config, { method: BANK, gateway: 'payu' }, Date.now());
  ({ workflowId } = await startManualDowntime(temporal.client, config.temporal.taskQueue, input));
  const id = input.downtimeId;

  // The first look, one interval in, sees no probe outcome: no lean, so the record asks to be woken.
  const first = await eventually('the first look', async () => {
    const d = await downtime(id);
    return d.lastProbe ? d : undefined;
  }, { timeoutMs: PROBE_INTERVAL_MS + 10_000, intervalMs: 250 });
  expect(first.lastProbe).toMatchObject({ samples: 0, verdict: 'insufficient' });
  expect((await db.c.downtimes.findOne({ _id: id }))?.wakeOnProbeSuccess).toBe(true);
  await eventually('the API\'s snapshot knows', async () => (app.deps.snapshot.current.downtimes.find((d) => d.id === id)?.wakeOnProbeSuccess ? true : undefined));

  // One shopper of bucket B pays with the bank, and it works.
  const userB = userInBucket('wake_b', id, 'B', [first.probePercent]);
  const options = await api.get<{ options: { method: string; gateway: string; state: string }[] }>(`/v1/payment-options?userId=${userB}`, KEYS.checkout);
  expect(options.body.options).toContainEqual(expect.objectContaining({ method: BANK, gateway: 'payu', state: 'probe' }));
  const posted = await api.post('/v1/transactions', KEYS.ingest, { transactions: [{ id: `wake-${id}`, userId: userB, method: BANK, gateway: 'payu', status: 'success' }] });
  expect(posted.status).toBe(202);

  // The actor looked on the success, within half an interval (its next look by the clock was a whole one away).
  const woken = await eventually('a look that saw the success', async () => {
    const d = await downtime(id);
    return d.lastProbe && d.lastProbe.successes >= 1 ? d : undefined;
  }, { timeoutMs: PROBE_INTERVAL_MS / 2, intervalMs: 100 });
  expect(woken.lastProbe).toMatchObject({ samples: 1, successes: 1, verdict: 'insufficient' });
  // Now leaning toward recovery: prompt looks take over, and the record no longer asks.
  expect(woken.lastProbe!.llr).toBeGreaterThan(0);
  expect((await db.c.downtimes.findOne({ _id: id }))?.wakeOnProbeSuccess).toBe(false);
  // Ops see the signal on /metrics.
  expect((await api.get<string>('/metrics')).body).toMatch(/^probe_wake_signals_total\{result="sent"\} 1$/m);
});
