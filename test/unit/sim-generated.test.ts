/** Generated worlds, the oracle, and the distribution report over them (sim/generate.ts, sim/oracle.ts, sim/distribution.ts). */
import { WorldResult, distributionMarkdown, lossesMarkdown, quantile, worstWorlds } from '../../sim/distribution';
import { OUTAGE_SHAPES, generateScenario, generateScenarios } from '../../sim/generate';
import { measurePolicy } from '../../sim/metrics';
import { runOracle } from '../../sim/oracle';
import { buildWorld, checkoutStream, isFailing, preferences } from '../../sim/truth';
import { twoGatewayScenario } from './helpers';

test('a seed always draws the same world, and world i of a run is the world of seed S + i', () => {
  expect(JSON.stringify(generateScenario(42))).toBe(JSON.stringify(generateScenario(42)));
  expect(JSON.stringify(generateScenarios(5, 40)[2])).toBe(JSON.stringify(generateScenario(42)));
  expect(JSON.stringify(generateScenario(42))).not.toBe(JSON.stringify(generateScenario(43)));
});

test('400 worlds: every shape is drawn, some worlds are quiet, catalogs and shares within their bounds, every outage covers a route', () => {
  const worlds = generateScenarios(400, 1000);
  const shapes = new Set(worlds.flatMap((w) => w.outages.map((o) => o.label)));
  expect([...shapes].sort()).toEqual([...OUTAGE_SHAPES].sort());
  expect(worlds.filter((w) => w.outages.length === 0).length).toBeGreaterThan(10);
  for (const w of worlds) {
    expect(w.catalog.length).toBeGreaterThanOrEqual(3);
    expect(w.catalog.length).toBeLessThanOrEqual(15);
    expect(new Set(w.catalog.flatMap((c) => c.gateways)).size).toBeLessThanOrEqual(4);
    expect(Math.abs(w.catalog.reduce((n, c) => n + c.share, 0) - 1)).toBeLessThan(0.001);
    for (const c of w.catalog) expect(c.successRate).toBeGreaterThanOrEqual(0.8);
    const world = buildWorld(w);
    expect(world.outageRoutes.every((routes) => routes.length > 0)).toBe(true);
    for (const o of w.outages) {
      if (o.label === 'partial') expect([o.successRate >= 0.3, o.successRate <= 0.7]).toEqual([true, true]);
      else expect(o.successRate).toBeLessThanOrEqual(0.1);
      if (o.label === 'short') expect(o.endSec - o.startSec).toBe(20);
    }
    expect(w.traffic!.swing).toBeLessThanOrEqual(0.6);
    for (const surge of w.traffic!.surges ?? []) expect(surge.endSec).toBeLessThanOrEqual(w.durationSec);
  }
  // Traffic varies: some worlds swing by half or more, and about half have a surge.
  expect(worlds.filter((w) => w.traffic!.swing >= 0.5).length).toBeGreaterThan(40);
  const surged = worlds.filter((w) => (w.traffic!.surges ?? []).length > 0).length;
  expect(surged).toBeGreaterThan(150);
  expect(surged).toBeLessThan(250);
});

const twoGateways = twoGatewayScenario({ seed: 9, durationSec: 120, outages: [{ scope: { gateway: 'razorpay' }, startSec: 30, endSec: 70, successRate: 0 }] });

test('the oracle hides the outage\'s routes from the end of the bucket of its first failing attempt until the outage ends, and nothing else', () => {
  const world = buildWorld(twoGateways);
  const checkouts = checkoutStream(twoGateways, preferences(twoGateways), 0, twoGateways.durationSec, twoGateways.checkoutsPerSec, 'live');
  const run = runOracle(world, checkouts, 2);
  expect(run.downtimes).toHaveLength(1);
  const d = run.downtimes[0]!;
  const firstFailing = checkouts.find((c) => c.t >= 30 && c.preferred === 0)!;
  expect(d.disabledAt).toBe((Math.floor(firstFailing.t / 2) + 1) * 2);
  expect(d.resolvedAt).toBe(70);
  // Nobody is sent through the failing gateway once it is hidden; every failing attempt came before.
  const razorpay = world.routes.find((r) => r.key === 'upi:gpay@razorpay')!.index;
  const failing = checkouts.filter((c) => run.route[c.index] === razorpay && isFailing(world, razorpay, c.t));
  expect(failing.every((c) => c.t < d.disabledAt!)).toBe(true);
  const figures = measurePolicy(world, checkouts, run, { durationSec: twoGateways.durationSec, detectionWindowSec: 20 });
  expect(figures.outages[0]!.detectionDelaySec).toBeLessThanOrEqual(2);
  expect(figures.outages[0]!.reEnableDelaySec).toBe(0);
  expect({ collateral: figures.collateral.count, falseDowntimes: figures.falseDowntimes }).toEqual({ collateral: 0, falseDowntimes: 0 });
  expect(figures.outages[0]!.avoided.pct).toBeGreaterThan(90);
});

test('the distribution report: quantiles, the distances from the oracle, how often the product is worse than the naive policy, the worst worlds by seed', () => {
  expect([0, 0.1, 0.5, 0.9, 1].map((q) => quantile([5, 1, 3, 2, 4], q))).toEqual([1, 1.4, 3, 4.6, 5]);
  expect(quantile([], 0.5)).toBeNull();
  const figures = (avoided: number, detection: number, collateral: number) => ({
    policy: 'oracle' as const, checkouts: 100, attempts: 100, successes: 90, noOption: 0,
    collateral: { count: collateral, healthyCheckouts: 100, pct: collateral, causes: { routeFailing: collateral, afterOutage: 0, untouched: 0 } }, downtimes: [], falseDowntimes: 0,
    outages: [{ outage: 0, label: 'method', startSec: 0, endSec: 10, judged: true, avoided: { noHandling: 10, policy: 10 - avoided / 10, pct: avoided },
      avoidedWithFailover: { noHandling: 0, policy: 0, pct: null }, avoidedWithoutFailover: { noHandling: 0, policy: 0, pct: null },
      detectionDelaySec: detection, reEnableDelaySec: 0, downtimes: ['d'], collateral: 0, healthyCheckouts: 100, probeAttemptsAfterEnd: 0,
      lost: { beforeDetection: (10 - avoided / 10) / 2, probe: (10 - avoided / 10) / 2, other: 0 } }],
  });
  const worlds: WorldResult[] = [
    { seed: 1, name: 'w1', description: 'one', shapes: ['method'], policies: { product: figures(90, 3, 0.1), naive: figures(80, 8, 2), oracle: figures(95, 1, 0) } },
    { seed: 2, name: 'w2', description: 'two', shapes: ['method'], policies: { product: figures(60, 12, 0.4), naive: figures(85, 6, 1), oracle: figures(97, 1, 0) } },
  ];
  const md = distributionMarkdown(worlds);
  expect(md).toContain('| outage shape | product | naive | oracle | product − oracle | naive − oracle |');
  expect(md).toContain('| method | 63.0% / 75.0% / 87.0% (2) | 80.5% / 82.5% / 84.5% (2) | 95.2% / 96.0% / 96.8% (2) | -33.8% / -21.0% / -8.2% (2) | -14.7% / -13.5% / -12.3% (2) |');
  expect(md).toContain('Product worse than the naive policy in 1 of 2 worlds (50%).');
  expect(worstWorlds(worlds).map((w) => [w.seed, w.policy, w.shortOfOracle])).toEqual([[2, 'product', 37], [1, 'product', 5]]);
  // Product: 1 + 4 failed attempts of 20, half before detection and half as probes; 0.5 hidden of 200 healthy.
  expect(lossesMarkdown(worlds)).toContain('| product | 12.50% | 12.50% | 0.00% | 0.25% | 0.00% | 0.00% |');
  expect(lossesMarkdown(worlds).split('\n').map((l) => l.split(' | ')[0])).toEqual(['| policy', '|---|---|---|---|---|---|---|', '| product', '| naive', '| oracle']);
});
