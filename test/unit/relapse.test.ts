import { DetectionSettings, EndReason, RouteCounter, judgeScopes, reEnabled, relapseBound, relapseRun, relapses, topologyOf } from '../../domain';
import { TABLE_SETTINGS, binomial, counter, seeded } from './helpers';

/** The short profile's detection: 2 s buckets, a 20 s window, a 60 s wide window (the watch). */
const BUCKET = 2_000;
const settings: DetectionSettings = { ...TABLE_SETTINGS, windowMs: 20_000, baselineWindowMs: 300_000 };
const WATCH = 60_000;
const T = 1_000_000_000;
const sbi = { method: 'netbanking:sbi' };
/** SBI netbanking recovered at T after an outage measured at 5% success, on a 95% baseline. */
const watch = { scope: sbi, at: T, baseline: 0.95, outage: 0.05 };

/** Five minutes of healthy history before the outage, 20 attempts a bucket at 95%, on both gateways of a card beside it. */
function history(): RouteCounter[] {
  const out: RouteCounter[] = [];
  for (let b = T - 360_000; b < T - 60_000; b += BUCKET) {
    out.push(counter('netbanking:sbi', 'payu', b, { success: 2, systemFailure: 0 }));
    out.push(counter('card:visa', 'payu', b, { success: 19, systemFailure: 1 }));
  }
  return out;
}

/** SBI's buckets after the recovery: [successes, failures] each, from the bucket holding T + 1 s on. */
const after = (buckets: [number, number][], gateway = 'payu') => buckets.map(([ok, bad], i) => counter('netbanking:sbi', gateway, T + i * BUCKET, { success: ok, systemFailure: bad }));

describe('which ended downtimes detection reads', () => {
  const ended = (endReason: EndReason, outage?: number) => ({ scope: sbi, at: T, endReason, baseline: 0.95, ...(outage !== undefined ? { outage } : {}) });

  test('recoveries overrule the evidence before them; expiries do not, but are watched like them', () => {
    const { recoveries, watches } = reEnabled([ended('recovered', 0.05), ended('manual', 0.1), ended('expired', 0.02), ended('superseded', 0.05)]);
    expect(recoveries).toEqual([{ scope: sbi, at: T }, { scope: sbi, at: T }]);
    expect(watches.map((w) => w.outage)).toEqual([0.05, 0.1, 0.02]);
  });

  test('a downtime that measured no outage is not watched', () => {
    expect(reEnabled([ended('expired')]).watches).toEqual([]);
  });
});

describe('relapse watch after a recovery', () => {
  test('its bound keeps a false relapse over the whole watch at the detection level: ln(30 starting buckets / 1%)', () => {
    expect(relapseBound(WATCH, BUCKET, 0.01)).toBeCloseTo(Math.log(3000), 9);
  });

  test('reopens a quiet method on its first four failures after the re-enable, which detection alone leaves for want of attempts', () => {
    const cs = [...history(), ...after([[1, 0], [0, 2], [0, 2]])];
    const now = T + 3 * BUCKET;
    expect(judgeScopes(cs, [{ scope: sbi, at: T }], now, settings, BUCKET).failing).toEqual([]);
    const sbiOnPayu = topologyOf({ methods: [{ method: 'netbanking:sbi', gateways: ['payu'] }, { method: 'card:visa', gateways: ['payu'] }] });
    const found = judgeScopes(cs, [{ scope: sbi, at: T }], now, settings, BUCKET, sbiOnPayu, [watch]).failing;
    expect(found.map((h) => h.key)).toEqual(['netbanking:sbi@*']);
    // Counted from the CUSUM's run: the failing buckets, not the success before them.
    expect(found[0]).toMatchObject({ attempts: 4, successes: 0, baseline: 0.95, windowMs: 2 * BUCKET });
    expect(found[0]!.threshold).toBeCloseTo(0.95 * 0.85, 9);
  });

  test('reopens a scope seen failing on one of its gateways there only: its users fail over, and the others reopen on their own failures', () => {
    const sbiOnTwo = topologyOf({ methods: [{ method: 'netbanking:sbi', gateways: ['payu', 'razorpay'] }] });
    const onPayu = after([[0, 2], [0, 2]]);
    expect(relapses(onPayu, [watch], T + 2 * BUCKET, settings, WATCH, BUCKET, sbiOnTwo).map((h) => h.key)).toEqual(['netbanking:sbi@payu']);
    // Payu hidden (covered), the failover to razorpay fails too.
    const failover = [...onPayu.map((c) => ({ ...c, covered: 2 })), ...after([[0, 0], [0, 0], [0, 2], [0, 2]], 'razorpay')];
    expect(relapses(failover, [watch], T + 4 * BUCKET, settings, WATCH, BUCKET, sbiOnTwo).map((h) => h.key)).toEqual(['netbanking:sbi@razorpay']);
    // Payu's route re-enabled since: the method's run starts again then, and the failures before it are not a relapse.
    const payuBack = { ...watch, scope: { method: 'netbanking:sbi', gateway: 'payu' }, at: T + 4 * BUCKET };
    expect(relapses([...onPayu, ...after([[0, 0], [0, 0], [0, 0], [0, 0], [1, 0]])], [watch, payuBack], T + 4 * BUCKET, settings, WATCH, BUCKET, sbiOnTwo)).toEqual([]);
    // Seen failing on both: the method.
    const both = [...onPayu, ...after([[0, 2], [0, 2]], 'razorpay')];
    expect(relapses(both, [watch], T + 2 * BUCKET, settings, WATCH, BUCKET, sbiOnTwo).map((h) => h.key)).toEqual(['netbanking:sbi@*']);
  });

  test('does not reopen on three failures with successes between them', () => {
    const cs = [...history(), ...after([[0, 1], [3, 1], [2, 0], [0, 1]])];
    expect(judgeScopes(cs, [{ scope: sbi, at: T }], T + 4 * BUCKET, settings, BUCKET, undefined, [watch]).failing).toEqual([]);
  });

  test('reopens a partial relapse (back to 60% against 95%) within a few seconds of a busy scope', () => {
    const w = { ...watch, outage: 0.6 };
    const rand = seeded(7);
    const cs = after(Array.from({ length: 10 }, (): [number, number] => {
      const ok = binomial(10, 0.6, rand);
      return [ok, 10 - ok];
    }));
    const firstFound = Array.from({ length: 10 }, (_, i) => T + i * BUCKET).find((now) => relapses(cs, [w], now, settings, WATCH, BUCKET).length > 0);
    expect(firstFound).toBeDefined();
    expect(firstFound! - T).toBeLessThanOrEqual(4 * BUCKET);
  });

  test('a healthy scope at its baseline relapses falsely in at most about 1% of watches', () => {
    const rand = seeded(11);
    let falseRelapses = 0;
    const trials = 4000;
    for (let t = 0; t < trials; t++) {
      const cs = after(Array.from({ length: WATCH / BUCKET }, (): [number, number] => {
        const ok = binomial(10, 0.95, rand);
        return [ok, 10 - ok];
      }));
      if (relapses(cs, [watch], T + WATCH, settings, WATCH, BUCKET).length > 0) falseRelapses += 1;
    }
    // The bound is at most 1% (Ville's inequality is loose): allow for the sampling error of 4000 trials.
    expect(falseRelapses / trials).toBeLessThan(0.0125);
  });

  test('leaves a method failing on one gateway only to detection: its other gateway still works', () => {
    const visa = { scope: { method: 'card:visa' }, at: T, baseline: 0.95, outage: 0.05 };
    const onPayu = [0, 1, 2].map((i) => counter('card:visa', 'payu', T + i * BUCKET, { success: 0, systemFailure: 20 }));
    const onRazorpay = [0, 1, 2].map((i) => counter('card:visa', 'razorpay', T + i * BUCKET, { success: 5, systemFailure: 0 }));
    expect(relapses(onPayu, [visa], T + 3 * BUCKET, settings, WATCH, BUCKET)).toHaveLength(1);
    // Pooled, 60 failures outweigh 15 successes by far; but razorpay's own outcomes say healthy.
    expect(relapses([...onPayu, ...onRazorpay], [visa], T + 3 * BUCKET, settings, WATCH, BUCKET)).toEqual([]);
  });

  test('ignores buckets under another downtime: they are the probe\'s to judge', () => {
    const cs = after([[0, 4], [0, 4]]).map((c) => ({ ...c, covered: 4 }));
    expect(relapses(cs, [watch], T + 2 * BUCKET, settings, WATCH, BUCKET)).toEqual([]);
  });

  test('drops a watch once a later recovery covers its scope, so the outage between cannot reopen it again', () => {
    const cs = [...history(), ...after([[0, 4], [0, 4], [0, 4], [0, 4], [0, 4], [4, 0]])];
    const now = T + 6 * BUCKET;
    expect(relapses(cs, [watch], now, settings, WATCH, BUCKET)).toHaveLength(1);
    expect(relapses(cs, [watch, { ...watch, at: T + 5 * BUCKET }], now, settings, WATCH, BUCKET)).toEqual([]);
  });

  test('cannot tell an outage measured at the baseline from health: no watch', () => {
    expect(relapseRun(after([[0, 4]]), { ...watch, outage: 0.95 }, T + BUCKET, BUCKET)).toBeUndefined();
  });

  test('leaves a gateway failing as a whole to detection, which reports the gateway', () => {
    const payuDown = [
      ...history(),
      ...after([[0, 4], [0, 4]]),
      ...Array.from({ length: 10 }, (_, i) => counter('card:visa', 'payu', T - 16_000 + i * BUCKET, { success: 0, systemFailure: 20 })),
    ];
    const routeWatch = { ...watch, scope: { method: 'netbanking:sbi', gateway: 'payu' } };
    // SBI's own outcomes would prove a relapse; but visa on the same gateway fails too.
    expect(relapseRun(payuDown, routeWatch, T + 2 * BUCKET, BUCKET)!.peak).toBeGreaterThan(relapseBound(WATCH, BUCKET, 0.01));
    expect(relapses(payuDown, [routeWatch], T + 2 * BUCKET, settings, WATCH, BUCKET)).toEqual([]);
    expect(judgeScopes(payuDown, [routeWatch], T + 2 * BUCKET, settings, BUCKET, undefined, [routeWatch]).failing.map((h) => h.key)).toEqual(['*:*@payu']);
  });

  test('leaves a mode failing on a gateway to detection, though the gateway\'s other modes are fine', () => {
    const b = (method: string, i: number, ok: number, bad: number) => counter(method, 'payu', T + i * BUCKET, { success: ok, systemFailure: bad });
    const netbankingDown = [0, 1].flatMap((i) => [b('netbanking:sbi', i, 0, 2), b('netbanking:hdfc', i, 0, 3), b('card:visa', i, 20, 1)]);
    const alone = [0, 1].flatMap((i) => [b('netbanking:sbi', i, 0, 2), b('card:visa', i, 20, 1)]);
    expect(relapses(alone, [watch], T + 2 * BUCKET, settings, WATCH, BUCKET)).toHaveLength(1);
    expect(relapses(netbankingDown, [watch], T + 2 * BUCKET, settings, WATCH, BUCKET)).toEqual([]);
  });

  test('replaces a narrower finding inside the relapsed scope', () => {
    const visa = { method: 'card:visa' };
    const visaWatch = { scope: visa, at: T, baseline: 0.95, outage: 0.05 };
    const routeDown = [
      ...history(),
      ...Array.from({ length: 3 }, (_, i) => counter('card:visa', 'payu', T + i * BUCKET, { success: 0, systemFailure: 20 })),
      // Razorpay carried one attempt, which failed: too little for detection to call that route bad.
      counter('card:visa', 'razorpay', T + BUCKET, { systemFailure: 1 }),
    ];
    expect(judgeScopes(routeDown, [], T + 3 * BUCKET, settings, BUCKET).failing.map((h) => h.key)).toEqual(['card:visa@payu']);
    expect(judgeScopes(routeDown, [visaWatch], T + 3 * BUCKET, settings, BUCKET, undefined, [visaWatch]).failing.map((h) => h.key)).toEqual(['card:visa@*']);
  });
});
