/** The waker's own rules, with a recording signal in place of Temporal (the signal's path end to end: test/e2e/probe-wake.test.ts). */
import { ProbeWaker } from '../../api/probe-waker';

function waker(opts: { fail?: boolean } = {}) {
  let now = 1_000;
  const sent: string[] = [];
  const warnings: object[] = [];
  const results: string[] = [];
  const w = new ProbeWaker({
    counted: (r) => void results.push(r),
    now: () => now,
    minGapMs: 500,
    signal: async (id) => {
      sent.push(id);
      if (opts.fail) throw new Error('workflow not found');
    },
    log: { warn: (obj) => void warnings.push(obj) },
  });
  return { w, sent, warnings, results, advance: (ms: number) => void (now += ms) };
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
  expect(warnings).toEqual([{ workflowId: 'downtime:upi@*', err: 'workflow not found' }]);
  expect(results).toEqual(['failed']);
});
