/** The waker's own rules, with a recording signal in place of Temporal (the signal's path end to end: test/e2e/probe-wake.test.ts). */
import { ProbeWaker } from '../../api/probe-waker';

function waker(opts: { fail?: boolean } = {}) {
  let now = 1_000;
  const sent: string[] = [];
  const kinds: string[] = [];
  const warnings: object[] = [];
  const results: string[] = [];
  /** Held signals, run by `advance` when their time comes. */
  let timers: { at: number; fn: () => void }[] = [];
  const w = new ProbeWaker({
    counted: (r) => void results.push(r),
    now: () => now,
    minGapMs: 500,
    later: (fn, ms) => void timers.push({ at: now + ms, fn }),
    signal: async (id, kind) => {
      sent.push(id);
      kinds.push(kind);
      if (opts.fail) throw new Error('workflow not found');
    },
    log: { warn: (obj) => void warnings.push(obj) },
  });
  const advance = (ms: number) => {
    now += ms;
    const due = timers.filter((t) => t.at <= now);
    timers = timers.filter((t) => t.at > now);
    for (const t of due) t.fn();
  };
  return { w, sent, kinds, warnings, results, advance, held: () => timers.length };
}

test('signals each scope\'s actor by its workflow id, once per gap however many successes come', async () => {
  const { w, sent, results, advance } = waker();
  w.wake(['upi@*', 'netbanking:sbi@*']);
  w.wake(['upi@*']);
  advance(499);
  w.wake(['upi@*']);
  expect(sent).toEqual(['downtime:upi@*', 'downtime:netbanking:sbi@*']);
  advance(1);
  w.wake(['upi@*']);
  expect(sent).toEqual(['downtime:upi@*', 'downtime:netbanking:sbi@*', 'downtime:upi@*']);
  await new Promise((r) => setImmediate(r));
  expect(results).toEqual(['sent', 'sent', 'sent']);
});

test('a failed signal is logged with the workflow id and throws nothing', async () => {
  const { w, sent, warnings, results } = waker({ fail: true });
  expect(() => w.wake(['upi@*'])).not.toThrow();
  await new Promise((r) => setImmediate(r));
  expect(sent).toEqual(['downtime:upi@*']);
  expect(warnings).toEqual([{ workflowId: 'downtime:upi@*', kind: 'success', err: 'workflow not found' }]);
  expect(results).toEqual(['failed']);
});

test('an outcome within the gap is held and signalled once when the gap ends; a success within it is dropped', async () => {
  const { w, sent, kinds, advance, held } = waker();
  w.wake(['upi@*'], 'outcome');
  advance(100);
  w.wake(['upi@*'], 'outcome');
  w.wake(['upi@*'], 'outcome');
  expect(sent).toEqual(['downtime:upi@*']);
  expect(held()).toBe(1);
  // The gap ends 500 ms after the first signal: the held one goes then, once.
  advance(399);
  expect(sent).toHaveLength(1);
  advance(1);
  expect(sent).toEqual(['downtime:upi@*', 'downtime:upi@*']);
  expect(kinds).toEqual(['outcome', 'outcome']);
  // The held signal started a new gap.
  w.wake(['upi@*'], 'outcome');
  expect(sent).toHaveLength(2);
  advance(500);
  expect(sent).toHaveLength(3);
  // Successes are not held.
  w.wake(['sbi@*'], 'success');
  advance(100);
  w.wake(['sbi@*'], 'success');
  expect(held()).toBe(0);
  advance(1_000);
  expect(kinds.slice(3)).toEqual(['success']);
});

test('each kind has its own gap: a success signal does not hold back the outcome signal that follows a lean', async () => {
  const { w, kinds } = waker();
  w.wake(['upi@*'], 'success');
  w.wake(['upi@*'], 'outcome');
  expect(kinds).toEqual(['success', 'outcome']);
});
