/**
 * Fault: the API process restarts under ingest load, once gracefully (SIGTERM) and once killed
 * (SIGKILL).
 *
 * The API runs as a child process on a fixed port, on the run's Temporal dev server and database.
 * A load generator in the test posts batches of 200 to 500 unique attempts from three concurrent
 * senders at about 750 attempts a second and, as the checkout does, posts a batch again with the
 * same ids whenever its request fails (refused, reset, 503) until it gets a 202. The API is
 * restarted twice on the same port while the load runs. At the end, every attempt that got a 202
 * is stored, nothing else is, and the counters count each stored attempt exactly once.
 */
import { randomBytes } from 'node:crypto';
import { eventually } from '../e2e/support';
import { FaultStack, IngestAttempt, IngestClient, apiUrl, mixedTraffic, report, sleep, startFaultStack, stopFaultStack, storedAndCounted } from './support';

const SENDERS = 3;
const RATE_PER_SENDER = 250;
const SIZES = [200, 300, 400, 500];
/** How long the load runs between restarts. */
const STEADY_MS = 8_000;

let stack: FaultStack;
beforeAll(async () => {
  stack = await startFaultStack({ name: 'api-restart', workers: [], api: 'api-1' });
});
afterAll(() => stopFaultStack(stack));

/** Senders posting batches at a steady pace; after an outage they carry on at the pace, without a burst. */
function startLoad(ingest: IngestClient) {
  const run = randomBytes(3).toString('hex');
  let stopped = false;
  let seq = 0;
  const senders = Array.from({ length: SENDERS }, (_, s) =>
    (async () => {
      let next = Date.now() + s * 400;
      await sleep(s * 400);
      while (!stopped) {
        seq += 1;
        const size = SIZES[seq % SIZES.length]!;
        await ingest.postUntilAccepted(mixedTraffic(`load-${run}-${s}-${seq}`, size));
        next += (size / RATE_PER_SENDER) * 1000;
        const wait = next - Date.now();
        if (wait > 0) await sleep(wait);
        else next = Date.now();
      }
    })(),
  );
  return {
    async stop() {
      stopped = true;
      await Promise.all(senders);
    },
  };
}

const inFlightAt = (attempts: IngestAttempt[], at: number) => attempts.filter((a) => a.startedAt < at && a.startedAt + a.ms > at);

/**
 * Waits until a request has been under way for `ageMs` (so the signal lands inside a request,
 * late in it when ageMs is most of a typical request), and returns the ages at that moment.
 */
async function whenInFlight(ingest: IngestClient, ageMs: number, timeoutMs = 20_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ages = ingest.inFlightAges();
    if (ages.some((a) => a >= ageMs) || Date.now() > deadline) return ages;
    await sleep(2);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

test('the API restarted under ingest load, by SIGTERM and by SIGKILL: every attempt that got a 202 is stored and counted exactly once', async () => {
  const { env, db, apis } = stack;
  const ingest = new IngestClient(() => apiUrl(env), { retryDelayMs: 200, timeoutMs: 30_000 });
  const startedAt = Date.now();
  const load = startLoad(ingest);
  await sleep(STEADY_MS);

  // Graceful: SIGTERM while batches are in flight.
  const typicalMs = median(ingest.batches.flatMap((b) => b.attempts).filter((a) => a.status === 202).map((a) => a.ms));
  const agesAtTerm = await whenInFlight(ingest, typicalMs / 2);
  const termAt = Date.now();
  const term = await apis[0]!.stop(30_000);
  const termDone = Date.now();
  await stack.startApi('api-2');
  const secondUp = Date.now();
  await sleep(STEADY_MS);

  // Killed: SIGKILL late inside a request, where the batch may be stored but not yet counted.
  const agesAtKill = await whenInFlight(ingest, typicalMs * 0.7);
  const killAt = Date.now();
  const kill = await apis[1]!.kill();
  await stack.startApi('api-3');
  const thirdUp = Date.now();
  await sleep(STEADY_MS);
  await load.stop();
  const stoppedAt = Date.now();

  const attempts = ingest.batches.flatMap((b) => b.attempts);
  const atTerm = inFlightAt(attempts, termAt);
  const atKill = inFlightAt(attempts, killAt);
  const stats = ingest.stats();
  const accepted = ingest.acceptedIds();
  const before = await storedAndCounted(db);
  let final = before;
  let countedOnce = true;
  try {
    final = await eventually('the counters count every stored attempt exactly once', async () => {
      const s = await storedAndCounted(db);
      final = s;
      return s.counted === s.storedCount ? s : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1_000 });
  } catch {
    countedOnce = false;
  }
  const missing = [...accepted].filter((id) => !final.stored.has(id));
  const unexpected = [...final.stored].filter((id) => !accepted.has(id));
  const lostBatches = ingest.batches.filter((b) => b.attempts.some((a) => a.status === 0));

  report('api-restart', {
    loadMs: stoppedAt - startedAt,
    sent: accepted.size,
    acceptedRate: Math.round(accepted.size / ((stoppedAt - startedAt) / 1000)),
    ingest: stats,
    typicalRequestMs: typicalMs,
    acceptedRateWhileUp: Math.round(accepted.size / ((stoppedAt - startedAt - (secondUp - termAt) - (thirdUp - killAt)) / 1000)),
    sigterm: {
      requestAgesAtSignalMs: agesAtTerm,
      exit: { code: term.code, signal: term.signal, graceful: term.graceful, ms: term.ms },
      inFlight: atTerm.length,
      inFlightAnswered: atTerm.map((a) => a.status),
      downMs: secondUp - termAt,
      exitMs: termDone - termAt,
    },
    sigkill: { requestAgesAtSignalMs: agesAtKill, exit: kill, inFlight: atKill.length, inFlightAnswered: atKill.map((a) => a.status), downMs: thirdUp - killAt },
    batchesWithALostAnswer: lostBatches.length,
    lostBatchesFoundStoredOnRetry: lostBatches.filter((b) => (b.final.body?.duplicates ?? 0) > 0).length,
    stored: final.storedCount,
    counted: final.counted,
    countedRightAfterLoad: before.counted,
    storedRightAfterLoad: before.storedCount,
    acceptedButNotStored: missing.length,
    storedButNeverAccepted: unexpected.length,
    countedOnce,
  });

  // The graceful restart let every request in flight finish with an answer.
  expect(term.graceful).toBe(true);
  expect(atTerm.filter((a) => a.status === 0)).toEqual([]);
  expect(kill.signal).toBe('SIGKILL');
  expect(stats.rejected).toBe(0);
  // Every id that got a 202 is stored; nothing is stored that did not (every failed batch was retried to a 202).
  expect(missing).toEqual([]);
  expect(unexpected).toEqual([]);
  expect(final.storedCount).toBe(accepted.size);
  // Counted exactly once: the counters' total equals the stored attempts.
  expect(final.counted).toBe(final.storedCount);
});
