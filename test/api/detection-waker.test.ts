/** The detection waker's rules, with a recording start in place of Temporal (the path end to end: test/e2e/detection-wake.test.ts). */
import { DetectionWaker } from '../../api/detection-waker';

function waker(opts: { fail?: boolean; taken?: boolean } = {}) {
  let now = 1_000;
  let starts = 0;
  const warnings: object[] = [];
  const results: string[] = [];
  let timers: { at: number; fn: () => void }[] = [];
  const w = new DetectionWaker({
    now: () => now,
    minGapMs: 500,
    later: (fn, ms) => void timers.push({ at: now + ms, fn }),
    start: async () => {
      starts += 1;
      if (opts.fail) throw new Error('namespace not found');
    },
    ...(opts.taken ? { claim: async () => false } : {}),
    counted: (r) => void results.push(r),
    log: { warn: (obj) => void warnings.push(obj) },
  });
  const advance = async (ms: number) => {
    now += ms;
    const due = timers.filter((t) => t.at <= now);
    timers = timers.filter((t) => t.at > now);
    for (const t of due) t.fn();
    await new Promise((r) => setImmediate(r));
  };
  return { w, starts: () => starts, warnings, results, advance, held: () => timers.length };
}

test('a burst of failing batches starts one run, and one within the gap starts another when the gap ends', async () => {
  const { w, starts, advance, held } = waker();
  w.wake();
  w.wake();
  await advance(200);
  w.wake();
  expect(starts()).toBe(1);
  expect(held()).toBe(1);
  await advance(299);
  expect(starts()).toBe(1);
  await advance(1);
  expect(starts()).toBe(2);
  // Nothing more came: nothing more is started.
  await advance(2_000);
  expect(starts()).toBe(2);
});

test('a start that fails is logged with the workflow id and throws nothing', async () => {
  const { w, warnings, results, advance } = waker({ fail: true });
  expect(() => w.wake()).not.toThrow();
  await advance(0);
  expect(warnings).toEqual([{ workflowId: 'detection-woken', err: 'namespace not found' }]);
  expect(results).toEqual(['failed']);
});

test('a wake another replica took is not started here, but held to the gap\'s end (its batch may have come after that run\'s read)', async () => {
  const { w, starts, results, advance, held } = waker({ taken: true });
  w.wake();
  await advance(0);
  expect(starts()).toBe(0);
  expect(results).toEqual(['taken']);
  expect(held()).toBe(1);
});
