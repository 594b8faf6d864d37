/**
 * Two API replicas' wakers on one database (two connections, as two processes have): a burst of
 * probe outcomes that reaches both wakes the actor once, not once per replica. The claim is the
 * real one (db/claims.ts oncePerGap) on the run's MongoDB-wire server; the signal is recorded.
 */
import { ProbeWaker, WakeKind } from '../../api/probe-waker';
import { oncePerGap } from '../../db/claims';
import { connectDatabase, Database } from '../../db/mongo';
import { testConfig, testDatabase } from '../support/stack';

const GAP_MS = 400;
let first: Database;
let second: Database;

beforeAll(async () => {
  const config = testConfig();
  first = await testDatabase(config);
  second = await connectDatabase(config.mongo.uri!, config.mongo.db);
});
afterAll(async () => {
  await first.db.dropDatabase();
  await Promise.all([first.close(), second.close()]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function replicas() {
  const signals: { replica: number; workflowId: string; kind: WakeKind; at: number }[] = [];
  const results: string[] = [];
  const make = (replica: number, db: Database) =>
    new ProbeWaker({
      now: Date.now,
      minGapMs: GAP_MS,
      claim: (key, at) => oncePerGap(db, `wake:${key}`, at, GAP_MS),
      signal: async (workflowId, kind) => void signals.push({ replica, workflowId, kind, at: Date.now() }),
      counted: (r) => void results.push(r),
    });
  return { a: make(1, first), b: make(2, second), signals, results };
}

test('successes reaching both replicas at once signal the actor once; after the gap, once more', async () => {
  const { a, b, signals, results } = replicas();
  const scope = `card:visa@${Date.now()}`;
  for (let i = 0; i < 5; i++) {
    a.wake([scope], 'success');
    b.wake([scope], 'success');
  }
  await sleep(150);
  expect(signals).toHaveLength(1);
  expect(results.sort()).toEqual(['sent', 'taken']);
  await sleep(GAP_MS);
  b.wake([scope], 'success');
  a.wake([scope], 'success');
  await sleep(150);
  expect(signals).toHaveLength(2);
});

test('an outcome the other replica\'s wake may have missed is held to the gap\'s end and sent once, not bounced between replicas', async () => {
  const { a, b, signals } = replicas();
  const scope = `upi:gpay@${Date.now()}`;
  a.wake([scope], 'outcome');
  await sleep(50);
  b.wake([scope], 'outcome');
  await sleep(GAP_MS * 4);
  expect(signals.map((s) => s.kind)).toEqual(['outcome', 'outcome']);
  expect(signals[1]!.at - signals[0]!.at).toBeGreaterThanOrEqual(GAP_MS);
});
