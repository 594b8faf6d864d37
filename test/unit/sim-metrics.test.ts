/** The report's arithmetic: failures avoided against the counterfactual, collateral, delays, false downtimes, probe sufficiency. */
import { PolicyDowntime, emptyRun } from '../../sim/baseline';
import { detectionDelay, expectedProbeSamples, falseAlarm, measurePolicy, probeSufficiency, reEnableDelay } from '../../sim/metrics';
import { judge, summaryRow } from '../../sim/report';
import type { Scenario } from '../../sim/scenario';
import { Checkout, buildWorld } from '../../sim/truth';
import { seeded } from './helpers';

const scenario = (over: Partial<Scenario> = {}): Scenario => ({
  name: 'metrics',
  seed: 1,
  durationSec: 200,
  checkoutsPerSec: 10,
  users: 10,
  userFailureShare: 0.5,
  catalog: [
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'], share: 0.5, successRate: 0.95 },
    { method: 'netbanking:sbi', gateways: ['payu'], share: 0.5, successRate: 0.95 },
  ],
  outages: [{ scope: { gateway: 'payu' }, startSec: 100, endSec: 180, successRate: 0 }],
  ...over,
});

const settings = { durationSec: 200, detectionWindowSec: 20 };
const checkout = (index: number, t: number, preferred: number): Checkout => ({ index, t, user: index, preferred, dBurst: 0.9, dSuccess: 0.5, dKind: 0.5, dCode: 0 });
const downtime = (d: Partial<PolicyDowntime>): PolicyDowntime => ({ id: 'd', scopeKey: '*:*@payu', scope: { gateway: 'payu' }, origin: 'detected', openedAt: 0, ...d });

describe('failures avoided and collateral', () => {
  // gpay@razorpay = 0, gpay@payu = 1, sbi@payu = 2
  const world = buildWorld(scenario({ catalog: [
    { method: 'upi:gpay', gateways: ['payu', 'razorpay'], share: 0.5, successRate: 0.95 },
    { method: 'netbanking:sbi', gateways: ['payu'], share: 0.5, successRate: 0.95 },
  ] }));
  const [gpayPayu, gpayRazorpay, sbiPayu] = [0, 1, 2];
  const checkouts = [checkout(0, 50, 0), checkout(1, 110, 0), checkout(2, 120, 0), checkout(3, 130, 1), checkout(4, 140, 1), checkout(5, 150, 1), checkout(6, 190, 1), checkout(7, 195, 0)];

  test('counts attempts through a failing route against the same checkouts sent to their preferred method\'s first gateway', () => {
    const run = emptyRun('product', checkouts.length);
    run.route.set([gpayPayu, gpayPayu, gpayRazorpay, sbiPayu, gpayRazorpay, gpayRazorpay, gpayRazorpay, gpayPayu]);
    run.hidden.set([0, 0, 0, 0, 1, 1, 1, 0]);
    const m = measurePolicy(world, checkouts, run, settings);
    const o = m.outages[0]!;
    // No handling: 5 checkouts in the outage, all through payu. Product: checkouts 1 and 3.
    expect(o.avoided).toEqual({ noHandling: 5, policy: 2, pct: 60 });
    expect(o.avoidedWithFailover).toEqual({ noHandling: 2, policy: 1, pct: 50 });
    expect(o.avoidedWithoutFailover).toEqual({ noHandling: 3, policy: 1, pct: 100 * (1 - 1 / 3) });
    // sbi is unhealthy in the outage, so hiding it there is not collateral; checkout 6 (after the outage) is.
    expect(m.collateral).toEqual({ count: 1, healthyCheckouts: 5, pct: 20, causes: { routeFailing: 0, afterOutage: 1, untouched: 0 } });
    expect(o.judged).toBe(true);
  });

  test('says where the failed attempts and the collateral went: before detection, as probes, otherwise; hidden beside a failing route, after the outage, before any', () => {
    const run = emptyRun('product', checkouts.length);
    run.route.set([gpayPayu, gpayPayu, gpayRazorpay, sbiPayu, gpayRazorpay, gpayRazorpay, gpayRazorpay, gpayPayu]);
    run.hidden.set([1, 0, 1, 0, 1, 1, 1, 0]);
    run.probe.set([0, 0, 0, 1, 0, 0, 0, 0]);
    run.downtimes = [downtime({ disabledAt: 115, resolvedAt: 185, endReason: 'recovered' })];
    const m = measurePolicy(world, checkouts, run, settings);
    // Checkout 1 failed on payu before the downtime, checkout 3 as a probe of it.
    expect(m.outages[0]!.lost).toEqual({ beforeDetection: 1, probe: 1, other: 0 });
    // Checkout 0 was hidden before any outage, 2 while payu failed (gpay could go through razorpay), 6 after it.
    expect(m.collateral.causes).toEqual({ untouched: 1, routeFailing: 1, afterOutage: 1 });
  });

  test('no handling with nothing through a failing route leaves avoided undefined, not 100%', () => {
    const quiet = buildWorld(scenario({ outages: [{ scope: { gateway: 'nowhere' }, startSec: 100, endSec: 180, successRate: 0 }] }));
    const m = measurePolicy(quiet, checkouts, emptyRun('product', checkouts.length), settings);
    expect(m.outages[0]!.avoided.pct).toBeNull();
  });
});

describe('delays', () => {
  const world = buildWorld(scenario());

  test('detection: outage start to the first covering downtime disabled; 0 when one already was; null when none during the outage', () => {
    expect(detectionDelay(world, [downtime({ openedAt: 104, disabledAt: 105 })], 0)).toBe(5);
    expect(detectionDelay(world, [downtime({ openedAt: 50, disabledAt: 51, resolvedAt: 120 })], 0)).toBe(0);
    expect(detectionDelay(world, [downtime({ openedAt: 185, disabledAt: 186 })], 0)).toBeNull();
    expect(detectionDelay(world, [downtime({ scope: { mode: 'card' }, openedAt: 104, disabledAt: 105 })], 0)).toBeNull();
    expect(detectionDelay(world, [downtime({ openedAt: 104 })], 0)).toBeNull();
  });

  test('re-enable: outage end to the last covering downtime resolved, through superseding', () => {
    const narrow = downtime({ id: 'a', scope: { method: 'netbanking:sbi' }, openedAt: 104, disabledAt: 105, resolvedAt: 110, endReason: 'superseded' });
    const broad = downtime({ id: 'b', openedAt: 109, disabledAt: 110, resolvedAt: 184.5, endReason: 'recovered' });
    expect(reEnableDelay(world, [narrow, broad], 0, settings)).toEqual({ delay: 4.5, ids: ['a', 'b'] });
  });

  test('re-enable is null with a reason when still disabled at the end of the run, or when the routes failed again first', () => {
    expect(reEnableDelay(world, [downtime({ disabledAt: 105 })], 0, settings)).toMatchObject({ delay: null, note: expect.stringContaining('still disabled at the end of the run') });
    const flapping = buildWorld(scenario({ outages: [
      { scope: { gateway: 'payu' }, startSec: 100, endSec: 120, successRate: 0 },
      { scope: { gateway: 'payu' }, startSec: 140, endSec: 160, successRate: 0 },
    ] }));
    expect(reEnableDelay(flapping, [downtime({ disabledAt: 105, resolvedAt: 170 })], 0, settings)).toMatchObject({ delay: null, note: expect.stringContaining('flap') });
    expect(reEnableDelay(flapping, [downtime({ disabledAt: 105, resolvedAt: 170 })], 1, settings)).toMatchObject({ delay: 10 });
  });

  test('re-enable before the end (an expiry mid-outage) counts as 0 and says so', () => {
    expect(reEnableDelay(world, [downtime({ disabledAt: 105, resolvedAt: 165, endReason: 'expired' })], 0, settings)).toMatchObject({ delay: 0, note: expect.stringContaining('before the outage ended (expired)') });
  });
});

test('a false downtime never covered an outage route during an outage, give or take one window', () => {
  const world = buildWorld(scenario());
  expect(falseAlarm(world, downtime({ openedAt: 85, disabledAt: 86, resolvedAt: 95 }), settings)).toBe(false);
  expect(falseAlarm(world, downtime({ openedAt: 20, disabledAt: 21, resolvedAt: 40 }), settings)).toBe(true);
  expect(falseAlarm(world, downtime({ scope: { gateway: 'razorpay' }, openedAt: 120, disabledAt: 121 }), settings)).toBe(true);
});

describe('probe sufficiency', () => {
  test('the expected sample number of the sequential test matches a simulation of it', () => {
    const s = { degradation: 0.15, alpha: 0.01, beta: 0.05 };
    const asn = expectedProbeSamples(0.95, s);
    const rand = seeded(9);
    const p1 = 0.95;
    const p0 = p1 * 0.85;
    const [up, down] = [Math.log(0.95 / 0.01), Math.log(0.05 / 0.99)];
    let total = 0;
    for (let run = 0; run < 2000; run += 1) {
      let llr = 0;
      let n = 0;
      while (llr < up && llr > down) {
        llr += rand() < p1 ? Math.log(p1 / p0) : Math.log((1 - p1) / (1 - p0));
        n += 1;
      }
      total += n;
    }
    expect(asn).toBeGreaterThan(0.8 * (total / 2000));
    expect(asn).toBeLessThan(1.2 * (total / 2000));
    // Against a measured 5% outage rate each success is strong evidence: a few samples suffice.
    expect(expectedProbeSamples(0.95, s, 0.05)).toBeLessThan(3);
    // An outage "rate" above the threshold is no outage: the threshold test.
    expect(expectedProbeSamples(0.95, s, 0.9)).toBeCloseTo(asn, 9);
  });

  test('methods with no healthy gateway left bring probe samples, failed-over ones a fifth as many; a freeze window demands more', () => {
    const world = buildWorld(scenario({ checkoutsPerSec: 1000 }));
    const p = { probeIntervalSec: 2, probePercent: 10, minProbeSamples: 20, degradation: 0.15, alpha: 0.01, beta: 0.05, inFreeze: false };
    const normal = probeSufficiency(world, 0, p);
    // sbi (half the traffic, 97.5% of it success or system failure) at 10%.
    expect(normal.samplesPerSec).toBeCloseTo(1000 * 0.5 * 0.975 * 0.1, 6);
    expect(normal.sufficed).toBe(true);
    const frozen = probeSufficiency(world, 0, { ...p, inFreeze: true });
    expect(frozen.needed).toBeGreaterThan(normal.needed);
    const failover = buildWorld(scenario({ checkoutsPerSec: 1000, outages: [{ scope: { gateway: 'razorpay' }, startSec: 100, endSec: 180, successRate: 0 }] }));
    // gpay fails over to payu: only a fifth of the probe share still pays through razorpay.
    expect(probeSufficiency(failover, 0, p).samplesPerSec).toBeCloseTo(1000 * 0.5 * 0.975 * 0.1 * 0.2, 6);
  });
});

describe('judging the targets', () => {
  const profile = { detectionIntervalSec: 2, detectionWindowSec: 20, probeIntervalSec: 2, expirySec: 60, probePercent: 10, minProbeSamples: 20, degradation: 0.15, alpha: 0.01, beta: 0.05 };
  const world = buildWorld(scenario());
  const checkouts = Array.from({ length: 200 }, (_, i) => checkout(i, i, i % 2));

  function figures(disabledAt: number, resolvedAt: number, failing: number[]) {
    const run = emptyRun('product', checkouts.length);
    run.route.fill(0);
    for (const i of failing) run.route[i] = 2;
    run.downtimes = [downtime({ openedAt: disabledAt, disabledAt, resolvedAt })];
    return measurePolicy(world, checkouts, run, settings);
  }

  test('meets a target only with the measured figure, judges re-enable only when probe traffic sufficed, and compares with the baseline', () => {
    const product = figures(103, 183, [101, 103]);
    const baseline = figures(110, 170, [101, 103, 105, 107, 109]);
    const probe = { samplesPerSec: 1, expectedInTarget: 6, needed: 40, sufficed: false };
    const s = scenario();
    const outages = [{ outage: 0, label: 'x', scope: s.outages[0]!.scope, startSec: 100, endSec: 180, successRate: 0, judged: true, inFreeze: false, product: product.outages[0]!, baseline: baseline.outages[0]!, probe }];
    const j = judge(s, outages, product, baseline, profile);
    const by = (what: string) => j.find((x) => x.what === what)!;
    expect(by('detection delay')).toMatchObject({ met: true, product: '3.0 s', baseline: '10.0 s' });
    expect(by('re-enable delay').met).toBeNull();
    expect(by('re-enable delay').why).toMatch(/^not judged: probe traffic/);
    expect(by('no worse than the baseline').met).toBe(false);
    expect(by('no worse than the baseline').product).toMatch(/re-enable delay/);
    const row = summaryRow({ scenario: 'x', outages, collateral: { product: product.collateral, baseline: baseline.collateral }, falseDowntimes: { product: 0, baseline: 0 }, met: 1, missed: 1 } as never);
    expect(row.detection).toEqual([3, 10]);
    expect(row.reEnable).toEqual([3, 0]);
  });
});
