/**
 * Fault: a webhook receiver that is down, then slow, then back.
 *
 * The worker (whose dispatcher delivers the outbox) and the API run as child processes on the
 * run's Temporal dev server and database. A subscriber registers through the API; an operator
 * opens and resolves a downtime, which writes two events. The receiver's port is closed at first;
 * then it listens but answers only after the dispatcher's request timeout (worker/channels.ts:
 * 10 s), still processing what it got; then it answers at once. It processes each event id once,
 * de-duplicating by the Webhook-Id header as the documented recipe says, and counts what it would
 * have processed without that.
 */
import { BACKOFF_BASE_MS } from '../../worker/dispatcher';
import { DowntimeBody, eventually } from '../e2e/support';
import { Arrival, FaultStack, KEYS, api, report, sleep, startFaultStack, stopFaultStack, verifiesWebhook } from './support';

/** Longer than the dispatcher's request timeout (10 s): the dispatcher gives up before the answer. */
const SLOW_MS = 12_000;
const BHIM = { method: 'upi:bhim', gateway: 'payu' };

type Phase = 'absent' | 'slow' | 'healthy';
let phase: Phase = 'absent';
let secret = '';
const phaseOf = new Map<Arrival, Phase>();
/** Event ids the receiver processed (recipe: de-duplicate by Webhook-Id), and how often it would have processed each without it. */
const processed = new Map<string, number>();
const processedWithoutDedupe = new Map<string, number>();
const badSignatures: Arrival[] = [];
let processedAfterAbandon = 0;
let slowInFlight = 0;

function handle(a: Arrival, abandoned: boolean): void {
  if (!verifiesWebhook(secret, a)) {
    badSignatures.push(a);
    return;
  }
  processedWithoutDedupe.set(a.id, (processedWithoutDedupe.get(a.id) ?? 0) + 1);
  if (abandoned) processedAfterAbandon += 1;
  if (!processed.has(a.id)) processed.set(a.id, 1);
}

/** The receiver's answer to an arrival, by phase. */
async function answer(a: Arrival): Promise<number> {
  const p = phase;
  phaseOf.set(a, p);
  if (p === 'slow') {
    // Busy: the answer comes after the dispatcher has given up, but the work is done.
    slowInFlight += 1;
    await sleep(SLOW_MS);
    handle(a, true);
    slowInFlight -= 1;
    return 200;
  }
  handle(a, false);
  return 204;
}

let stack: FaultStack;
beforeAll(async () => {
  // The receiver's port stays closed until the test opens it.
  stack = await startFaultStack({ name: 'webhook-receiver', receiver: { answer, closed: true } });
});
afterAll(() => stopFaultStack(stack));

test('webhooks to a receiver that is down, then slow, then back: each event arrives, is processed once with the Webhook-Id recipe, signed, and retried at growing intervals', async () => {
  const { env, db } = stack;
  const receiver = stack.receiver!;
  const http = api(env);
  const hook = await http.post<{ id: string; secret: string }>('/v1/webhooks', KEYS.admin, { url: receiver.url, events: ['downtime.started', 'downtime.updated', 'downtime.resolved'] });
  expect(hook.status).toBe(201);
  secret = hook.body.secret;
  expect((await http.put('/v1/catalog', KEYS.admin, { methods: [{ method: BHIM.method, gateways: [BHIM.gateway] }] })).status).toBe(200);

  // Real downtime activity writes the events: an operator opens a downtime and resolves it.
  const opened = await http.post<{ id: string }>('/v1/downtimes', KEYS.operator, { scope: { method: BHIM.method }, reason: 'NPCI reports BHIM down', by: 'ops@example.com' });
  expect(opened.status).toBe(202);
  const id = opened.body.id;
  await eventually('the downtime is probing', async () => ((await http.get<DowntimeBody>(`/v1/downtimes/${id}`, KEYS.operator)).body.live?.phase === 'probing' ? true : undefined), { timeoutMs: 60_000 });
  const resolved = await http.post(`/v1/downtimes/${id}/resolve`, KEYS.operator, { by: 'ops@example.com' });
  expect(resolved.status).toBe(200);
  const events = await eventually('both events are written', async () => {
    const es = await db.c.webhookEvents.find({ downtimeId: id }).toArray();
    return es.length === 2 ? es : undefined;
  });
  const eventIds = events.map((e) => e._id).sort();
  const deliveries = () => db.c.deliveries.find({ eventId: { $in: eventIds } }).toArray();

  // Down: nothing listens; each delivery fails to connect, three times.
  const absent = await eventually('every delivery failed three times against the closed port', async () => {
    const ds = await deliveries();
    return ds.length === eventIds.length && ds.every((d) => d.attempts >= 3) ? ds : undefined;
  }, { timeoutMs: 60_000, intervalMs: 100 });
  // The third attempt is counted when claimed: let it meet the closed port before opening it.
  await sleep(500);
  expect(receiver.arrivals).toHaveLength(0);

  // Slow: listening, answering after the dispatcher's timeout, twice per event.
  phase = 'slow';
  await receiver.listen();
  const slowArrivals = (eid: string) => receiver.arrivals.filter((a) => a.id === eid && phaseOf.get(a) === 'slow').length;
  await eventually('each event reached the slow receiver twice', async () => (eventIds.every((eid) => slowArrivals(eid) >= 2) ? true : undefined), { timeoutMs: 150_000, intervalMs: 100 });

  // Back: answers at once.
  phase = 'healthy';
  const delivered = await eventually('every delivery is marked delivered', async () => {
    const ds = await deliveries();
    return ds.every((d) => d.status === 'delivered') ? ds : undefined;
  }, { timeoutMs: 150_000, intervalMs: 250 });
  await sleep(3_000);
  // Let the last slow handlers finish their work before counting.
  await eventually('the slow handlers finished', async () => (slowInFlight === 0 ? true : undefined), { timeoutMs: 2 * SLOW_MS });

  const gaps: Record<string, number[]> = {};
  for (const eid of eventIds) {
    const times = receiver.arrivals.filter((a) => a.id === eid).map((a) => a.at).sort((x, y) => x - y);
    gaps[eid] = times.slice(1).map((at, i) => at - times[i]!);
  }
  report('webhook-receiver', {
    events: eventIds,
    dispatcherTimeoutMs: 10_000,
    backoffBaseMs: BACKOFF_BASE_MS,
    slowReceiverMs: SLOW_MS,
    absentPhase: absent.map((d) => ({ event: d.eventId, attempts: d.attempts, lastError: d.lastError })),
    attemptsPerEvent: Object.fromEntries(delivered.map((d) => [d.eventId, d.attempts])),
    arrivalsPerEvent: Object.fromEntries(eventIds.map((eid) => [eid, receiver.arrivals.filter((a) => a.id === eid).map((a) => phaseOf.get(a))])),
    receiverSideGapsMs: gaps,
    processedOnceWithDedupe: Object.fromEntries(processed),
    wouldHaveProcessedWithoutDedupe: Object.fromEntries(processedWithoutDedupe),
    abandonedDeliveriesStillProcessed: processedAfterAbandon,
    badSignatures: badSignatures.length,
  });

  // Every event arrived, with a valid signature and the body it names.
  expect([...new Set(receiver.arrivals.map((a) => a.id))].sort()).toEqual(eventIds);
  expect(badSignatures).toEqual([]);
  for (const a of receiver.arrivals) expect(JSON.parse(a.body)).toMatchObject({ id: a.id });
  // Processed exactly once per event id, with the recipe; without it, once per arrival that got processed.
  expect(eventIds.map((eid) => processed.get(eid))).toEqual(eventIds.map(() => 1));

  // The receiver saw the retries at growing intervals (timeout + backoff, the backoff doubling).
  for (const eid of eventIds) {
    expect(gaps[eid]!.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < gaps[eid]!.length; i += 1) expect(gaps[eid]![i]!).toBeGreaterThan(gaps[eid]![i - 1]!);
  }
  // One delivery per event and subscriber; its attempts are the three refused connections and the arrivals.
  expect(delivered).toHaveLength(eventIds.length);
  for (const d of delivered) {
    const seen = receiver.arrivals.filter((a) => a.id === d.eventId).length;
    expect(d.attempts - seen).toBeGreaterThanOrEqual(3);
  }
});
