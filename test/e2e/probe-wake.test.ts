/**
 * End to end, on the real Temporal dev server and the real database: during a hard outage the
 * downtime's record asks to be woken by a probe success, the checkout posts one bucket-B success
 * through the API, and the actor looks at the probe at once instead of at its next interval. That
 * look leans toward recovery: the record then asks for any outcome, and a failure posted next is
 * looked at once too.
 */
import { randomBytes } from 'node:crypto';
import { startManualDowntime } from '../../common/starter';
import { SOONEST_LOOK_FRACTION } from '../../domain';
import { downtimeInput } from '../support/downtime-input';
import { KEYS } from '../support/stack';
import { DowntimeBody, E2eStack, eventually, startStack, userInBucket } from './support';

jest.setTimeout(90_000);

// Long enough that a look within half of it cannot be the interval's next one.
const PROBE_INTERVAL_MS = 16_000;
const BANK = `netbanking:wake_${randomBytes(3).toString('hex')}`;

let stack: E2eStack;

beforeAll(async () => {
  stack = await startStack({ SNAPSHOT_REFRESH: '200ms', PROBE_INTERVAL: `${PROBE_INTERVAL_MS / 1000}s` });
  expect((await stack.api.put('/v1/catalog', KEYS.admin, { methods: [{ method: BANK, gateways: ['payu'] }] })).status).toBe(200);
});

afterAll(async () => {
  await stack?.close();
});

const downtime = async (id: string) => (await stack.api.get<DowntimeBody>(`/v1/downtimes/${id}`, KEYS.operator)).body;

test('a bucket-B success posted during a hard outage brings the actor\'s next look forward', async () => {
  const { config, db, temporal, app, api } = stack;
  // Detected with 10 successes in 200 attempts: one probe success weighs much.
  const input = downtimeInput(config, { method: BANK, gateway: 'payu' }, Date.now());
  await startManualDowntime(temporal.client, config.temporal.taskQueue, input);
  stack.started(input.scopeKey);
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
  const wokenSeenAt = Date.now();
  // Now leaning toward recovery: the record asks for any outcome instead of a success.
  expect(woken.lastProbe!.llr).toBeGreaterThan(0);
  const leaning = await db.c.downtimes.findOne({ _id: id });
  expect(leaning).toMatchObject({ wakeOnProbeSuccess: false, wakeOnProbeOutcome: true });
  await eventually('the API\'s snapshot knows of the lean', async () => (app.deps.snapshot.current.downtimes.find((d) => d.id === id)?.wakeOnProbeOutcome ? true : undefined));

  // The same shopper pays again and the bank fails: the actor looks at once, before the lean's
  // own look by the clock (a quarter interval after the last one, at the soonest), and the lean is undone.
  const soonestLookMs = PROBE_INTERVAL_MS * SOONEST_LOOK_FRACTION;
  const failed = await api.post('/v1/transactions', KEYS.ingest, { transactions: [{ id: `wake-fail-${id}`, userId: userB, method: BANK, gateway: 'payu', status: 'failure', errorCode: 'BANK_UNAVAILABLE' }] });
  expect(failed.status).toBe(202);
  const refuted = await eventually('a look that saw the failure', async () => {
    const d = await downtime(id);
    return d.lastProbe && d.lastProbe.samples >= 2 ? d : undefined;
  }, { timeoutMs: Math.max(500, wokenSeenAt + soonestLookMs - 1_000 - Date.now()), intervalMs: 100 });
  expect(refuted.lastProbe).toMatchObject({ samples: 2, successes: 1 });
  expect(refuted.lastProbe!.llr).toBeLessThan(woken.lastProbe!.llr);
  // Ops see both signals on /metrics.
  expect((await api.get<string>('/metrics')).body).toMatch(/^probe_wake_signals_total\{result="sent"\} 2$/m);
});
