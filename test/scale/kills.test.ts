/**
 * Two APIs and two workers behind nginx, under a steady checkout and ingest load through the
 * balancer: one API is killed with SIGKILL (and started again), then one worker. The checkout
 * sees no failed answer (nginx passes a request the dead API dropped to the other one); every
 * transaction the API accepted is stored and counted once; a downtime opened while the worker is
 * dead is disabled; both APIs give the same options to the same user, within DOWNTIME_REFRESH of
 * each other. The checkout client (client/checkout) runs beside the load; at the end both APIs
 * are stopped and the balancer answers 502: the client answers from what it knows and keeps the
 * reports until an API is back.
 */
import { randomBytes } from 'node:crypto';
import { CheckoutClient, PaymentOptions } from '../../client/checkout/src';
import { DowntimeBody, eventually, httpClient, userInBucket } from '../e2e/support';
import { IngestClient, KEYS, apiUrl, background, mixedTraffic, report, sleep, storedAndCounted } from '../faults/support';
import { ScaleStack, checkoutLoad, startScaleStack, stopScaleStack, window } from './support';

const DOWNTIME_REFRESH_MS = 200;
const CATALOG = [
  { method: 'upi:gpay', gateways: ['payu', 'razorpay'] },
  { method: 'card:visa_debit', gateways: ['razorpay'] },
  { method: 'netbanking:hdfc', gateways: ['cashfree'] },
  { method: 'netbanking:sbi', gateways: ['payu'] },
];

let stack: ScaleStack;
beforeAll(async () => {
  stack = await startScaleStack({ name: 'scale-kills', temporalClient: true, env: { DOWNTIME_REFRESH: `${DOWNTIME_REFRESH_MS}ms`, SNAPSHOT_REFRESH: '1s' } });
});
afterAll(() => stopScaleStack(stack));

type Options = { options: { method: string; state: string }[] };

test('one API and then one worker SIGKILLed under load: no failed checkout answer, every accepted transaction stored and counted once, a downtime still disabled, both APIs agreeing', async () => {
  const lb = httpClient(stack.base);
  const direct = stack.apiEnvs.map((e) => httpClient(apiUrl(e)));
  const catalogAt = Date.now();
  expect((await lb.put('/v1/catalog', KEYS.admin, { methods: CATALOG })).status).toBe(200);
  // The replica that did not take the write offers the catalog within DOWNTIME_REFRESH too.
  const offering = await Promise.all(direct.map((api) => eventually('the replica offers the catalog', async () => {
    const o = await api.get<Options>('/v1/payment-options?userId=first_shopper', KEYS.checkout);
    return o.body.options?.length === CATALOG.length ? Date.now() : undefined;
  }, { intervalMs: 10 })));
  const catalogSpreadMs = Math.max(...offering) - catalogAt;

  const checkout = checkoutLoad(stack.base, KEYS.checkout);
  const ingest = new IngestClient(() => stack.base, { retryDelayMs: 200 });
  const run = randomBytes(3).toString('hex');
  let batch = 0;
  const ingestLoop = background(async () => {
    batch += 1;
    await ingest.postUntilAccepted(mixedTraffic(`${run}-${batch}`, 40));
  }, 50);
  const client = new CheckoutClient({ baseUrl: stack.base, checkoutKey: KEYS.checkout, ingestKey: KEYS.ingest, catalog: CATALOG, deadlineMs: 1_000, flushIntervalMs: 200 });
  const clientAnswers: PaymentOptions[] = [];
  let reported = 0;
  const clientLoop = background(async () => {
    const userId = `client_shopper_${clientAnswers.length % 50}`;
    clientAnswers.push(await client.paymentOptions(userId));
    client.report([{ id: `${run}-client-${reported++}`, userId, method: 'upi:gpay', gateway: 'payu', status: 'success' }]);
  }, 20);
  await sleep(3_000);

  // One API dies without a word; it comes back four seconds later on its port.
  const apiKilledAt = Date.now();
  await stack.apis[0]!.kill();
  await sleep(4_000);
  const apiBackAt = Date.now();
  await stack.restartApi(0, 'api-1b');
  await sleep(3_000);

  // One worker dies; a downtime is opened through the balancer while it is dead.
  const workerKilledAt = Date.now();
  await stack.workers[0]!.kill();
  const opened = await lb.post<{ id: string }>('/v1/downtimes', KEYS.operator, { scope: { method: 'netbanking:sbi' }, reason: 'SBI reports an outage', by: 'ops@example.com' });
  expect(opened.status).toBe(202);
  const id = opened.body.id;
  const percents = [10, 50];
  const userA = userInBucket('agree_a', id, 'A', percents);
  // Each API asked directly, side by side, until it hides the bank from the bucket-A user.
  const hiddenAt: (number | undefined)[] = [undefined, undefined];
  const watch = background(async () => {
    await Promise.all(direct.map(async (api, i) => {
      const o = await api.get<Options>(`/v1/payment-options?userId=${userA}`, KEYS.checkout);
      if (o.status === 200 && hiddenAt[i] === undefined && !o.body.options.some((x) => x.method === 'netbanking:sbi')) hiddenAt[i] = Date.now();
    }));
  }, 10);
  const disabled = await eventually('the downtime opened with a worker dead is disabled', async () => {
    const d = (await lb.get<DowntimeBody>(`/v1/downtimes/${id}`, KEYS.operator)).body;
    return d.disabledAt ? d : undefined;
  }, { timeoutMs: 60_000, intervalMs: 100 });
  await eventually('both APIs hide the bank from the bucket-A user', async () => (hiddenAt.every((t) => t !== undefined) ? true : undefined), { timeoutMs: 10_000 });
  await watch.stop();
  await sleep(2_000);
  const stoppedAt = Date.now();
  const answers = await checkout.stop();
  await ingestLoop.stop();
  await clientLoop.stop();

  // The checkout never saw a failure, during either kill or around them.
  const duringApiKill = window(answers, apiKilledAt, apiBackAt);
  const duringWorkerKill = window(answers, workerKilledAt, stoppedAt);
  const all = window(answers, 0, Infinity);
  expect(all.failed).toEqual([]);
  expect(duringApiKill.answers).toBeGreaterThan(0);
  expect(ingestLoop.errors).toEqual([]);

  // Both APIs answer every user alike now, and they hid the bank within DOWNTIME_REFRESH of each other
  // (and of the polling: each pair of asks takes some milliseconds of its own).
  const apart = Math.abs(hiddenAt[0]! - hiddenAt[1]!);
  expect(apart).toBeLessThanOrEqual(DOWNTIME_REFRESH_MS + 100);
  for (let u = 0; u < 40; u++) {
    const [a, b] = await Promise.all(direct.map((api) => api.get<Options>(`/v1/payment-options?userId=agree_${u}`, KEYS.checkout)));
    expect({ user: u, options: b!.body }).toEqual({ user: u, options: a!.body });
  }

  // Every transaction accepted is stored, and counted once (an interrupted batch's count is
  // finished by the API within a few seconds).
  await client.flush();
  const accepted = ingest.acceptedIds();
  const final = await eventually('every stored transaction counted', async () => {
    const s = await storedAndCounted(stack.db);
    return s.counted === s.storedCount ? s : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  const missing = [...accepted].filter((x) => !final.stored.has(x));
  expect(missing).toEqual([]);
  const clientStats = client.stats();
  expect(final.storedCount).toBe(accepted.size + clientStats.report.sent);
  expect(clientStats.report.sent + clientStats.report.duplicates).toBe(reported);
  // The client's answers all came from the API: nginx hid both kills from it too.
  expect(clientAnswers.filter((a) => a.source !== 'api').map((a) => a.fallbackReason)).toEqual([]);

  // Both APIs stopped: nginx answers 502. The client answers from its last good answers, or the
  // catalog, and holds the reports until an API is back.
  for (const a of stack.apis) await a.kill();
  const down = await httpClient(stack.base).get(`/v1/payment-options?userId=client_shopper_1`, KEYS.checkout);
  expect(down.status).toBe(502);
  const known = await client.paymentOptions('client_shopper_1');
  const unknown = await client.paymentOptions('client_shopper_new');
  expect(known).toMatchObject({ source: 'last-good', fallbackReason: 'http 502' });
  expect(unknown).toMatchObject({ source: 'catalog', fallbackReason: 'http 502' });
  client.report([{ id: `${run}-while-down`, userId: 'client_shopper_1', method: 'upi:gpay', gateway: 'payu', status: 'failure', errorCode: 'GATEWAY_TIMEOUT' }]);
  await sleep(1_000);
  expect(client.stats().report.queued).toBe(1);
  await stack.restartApi(1, 'api-2b');
  await client.close();
  expect(await stack.db.c.transactions.countDocuments({ _id: `${run}-while-down` })).toBe(1);

  report('scale-kills', {
    checkoutAnswers: all.answers,
    checkoutFailed: all.failed.length,
    answersWhileApiDead: duringApiKill.answers,
    answersAfterWorkerKill: duringWorkerKill.answers,
    downtimeOpenedToDisabledMs: Date.parse(disabled.disabledAt!) - workerKilledAt,
    apisHidTheBankApartMs: apart,
    catalogOfferedByBothWithinMs: catalogSpreadMs,
    ingest: ingest.stats(),
    stored: final.storedCount,
    counted: final.counted,
    client: client.stats(),
    clientAnswersBySource: clientAnswers.reduce<Record<string, number>>((m, a) => ({ ...m, [`${a.source}${a.fallbackReason ? ` (${a.fallbackReason})` : ''}`]: (m[`${a.source}${a.fallbackReason ? ` (${a.fallbackReason})` : ''}`] ?? 0) + 1 }), {}),
  });
});
