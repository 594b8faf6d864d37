/**
 * The product's decisions in-process (sim/model.ts): what a user of the simulator would notice —
 * the outage is found on its scope and hidden within seconds, failed over rather than hidden
 * where a healthy gateway exists, re-enabled on the probe's evidence soon after it ends, and a
 * quiet world opens nothing; the same world always gives the same run.
 */
import { runProductModel } from '../../sim/model';
import { measurePolicy } from '../../sim/metrics';
import { historyOf, postedHistory } from '../../sim/run-scenario';
import { buildWorld, checkoutStream, isFailing, preferences } from '../../sim/truth';
import type { Scenario } from '../../sim/scenario';
import { twoGatewayScenario } from './helpers';

function modelRun(scenario: Scenario) {
  const world = buildWorld(scenario);
  const checkouts = checkoutStream(scenario, preferences(scenario), 0, scenario.durationSec, scenario.checkoutsPerSec, 'live');
  const run = runProductModel(world, checkouts, scenario.durationSec, postedHistory(scenario, historyOf(scenario), 20));
  return { world, checkouts, run, figures: measurePolicy(world, checkouts, run, { durationSec: scenario.durationSec, detectionWindowSec: 20 }) };
}

test('a gateway outage: hidden within seconds, UPI fails over to the healthy gateway, and the route is re-enabled on the probe after it ends', () => {
  const scenario = twoGatewayScenario({ seed: 9, durationSec: 240, outages: [{ scope: { gateway: 'razorpay' }, startSec: 40, endSec: 90, successRate: 0 }] });
  const { world, checkouts, run, figures } = modelRun(scenario);
  // Razorpay carries only GPay, which the catalog also offers on payu: its route, so it fails over.
  expect(run.downtimes.map((d) => [d.scopeKey, d.endReason])).toEqual([['upi:gpay@razorpay', 'recovered']]);
  const d = run.downtimes[0]!;
  expect(d.disabledAt! - 40).toBeLessThan(6);
  // The failed-over route is probed by a fifth of the probe share only: its proof takes longer
  // than a hidden method's, but within the expiry's extension.
  expect(d.resolvedAt! - 90).toBeGreaterThan(0);
  expect(d.resolvedAt! - 90).toBeLessThan(120);
  // While hidden, only the probe's share still pays through the failing gateway.
  const razorpay = world.routes.find((r) => r.key === 'upi:gpay@razorpay')!.index;
  const hiddenThere = checkouts.filter((c) => c.t >= d.disabledAt! + 1 && c.t < 90 && run.route[c.index] === razorpay);
  expect(hiddenThere.every((c) => run.probe[c.index] === 1 && isFailing(world, razorpay, c.t))).toBe(true);
  expect(figures.outages[0]!.avoided.pct).toBeGreaterThan(85);
  expect(figures.collateral.count).toBe(0);
  expect(figures.falseDowntimes).toBe(0);
});

test('a quiet world opens no downtime, and the same world gives the same run', () => {
  const quiet = twoGatewayScenario({ seed: 3, durationSec: 120, outages: [] });
  const first = modelRun(quiet);
  expect(first.run.downtimes).toEqual([]);
  expect(first.figures.collateral.count).toBe(0);
  const scenario = twoGatewayScenario({ seed: 4, durationSec: 120, outages: [{ scope: { method: 'netbanking:sbi' }, startSec: 30, endSec: 80, successRate: 0.05 }] });
  const [a, b] = [modelRun(scenario), modelRun(scenario)];
  expect(a.run.downtimes).toEqual(b.run.downtimes);
  expect(Buffer.from(a.run.route.buffer).equals(Buffer.from(b.run.route.buffer))).toBe(true);
  expect(a.run.downtimes.map((d) => d.scopeKey)).toEqual(['netbanking:sbi@*']);
});
