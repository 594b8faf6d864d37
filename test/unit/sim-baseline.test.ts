/** The baseline policy, simulated offline: fixed threshold over a fixed window, disable for everyone, fixed expiry. */
import { runBaseline } from '../../sim/baseline';
import { BASELINE_POLICY } from '../../sim/profile';
import type { Scenario } from '../../sim/scenario';
import { Checkout, buildWorld, checkoutStream, preferences } from '../../sim/truth';
import { twoGatewayScenario } from './helpers';

const scenario = twoGatewayScenario;

function run(s: Scenario, history = false) {
  const world = buildWorld(s);
  const prefs = preferences(s);
  const checkouts = checkoutStream(s, prefs, 0, s.durationSec, s.checkoutsPerSec, 'live');
  const past: Checkout[] = history ? checkoutStream(s, prefs, -120, 0, s.checkoutsPerSec, 'history') : [];
  return { world, checkouts, result: runBaseline(world, checkouts, s.durationSec, BASELINE_POLICY, past) };
}

test('disables the failing route for everyone within a few seconds, fails over to the next gateway, and re-enables it after the fixed expiry', () => {
  const { world, checkouts, result } = run(scenario(), true);
  const first = result.downtimes[0]!;
  expect(first.scopeKey).toBe('upi:gpay@razorpay');
  expect(first.disabledAt! - 100).toBeGreaterThan(0);
  expect(first.disabledAt! - 100).toBeLessThanOrEqual(12);
  expect(first.resolvedAt).toBe(first.disabledAt! + BASELINE_POLICY.expirySec);
  expect(first.endReason).toBe('expired');
  const payu = world.routes.find((r) => r.key === 'upi:gpay@payu')!.index;
  const during = checkouts.filter((c) => c.preferred === 0 && c.t > first.disabledAt! && c.t < first.resolvedAt!);
  expect(during.length).toBeGreaterThan(100);
  expect(during.every((c) => result.route[c.index] === payu)).toBe(true);
});

test('an outage longer than the expiry re-enables a still-failing route, which then fails again until disabled again', () => {
  const { result } = run(scenario(), true);
  const gpay = result.downtimes.filter((d) => d.scopeKey === 'upi:gpay@razorpay');
  expect(gpay.length).toBeGreaterThanOrEqual(2);
  expect(gpay[1]!.disabledAt!).toBeGreaterThan(gpay[0]!.resolvedAt!);
  expect(gpay[1]!.disabledAt!).toBeLessThan(200);
});

test('hides a method with no enabled gateway and sends its users to the first enabled option', () => {
  const s = scenario({ outages: [{ scope: { method: 'netbanking:sbi' }, startSec: 100, endSec: 200, successRate: 0 }] });
  const { world, checkouts, result } = run(s, true);
  const d = result.downtimes[0]!;
  const sbiUsers = checkouts.filter((c) => c.preferred === 1 && c.t > d.disabledAt! && c.t < d.resolvedAt!);
  expect(sbiUsers.length).toBeGreaterThan(100);
  const gpay = world.routes.find((r) => r.key === 'upi:gpay@razorpay')!.index;
  expect(sbiUsers.every((c) => result.hidden[c.index] === 1 && result.route[c.index] === gpay)).toBe(true);
});

test('counts every failure, so a burst of user errors on a healthy route disables it (the weakness the product avoids)', () => {
  const s = scenario({ outages: [], userErrorBursts: [{ scope: { method: 'netbanking:sbi' }, startSec: 60, endSec: 120, failureShare: 0.4 }] });
  const { result } = run(s, true);
  expect(result.downtimes.map((d) => d.scopeKey)).toContain('netbanking:sbi@payu');
});

test('judges nothing below the minimum number of attempts', () => {
  const s = scenario({ checkoutsPerSec: 0.2, durationSec: 90, outages: [{ scope: { gateway: 'razorpay' }, startSec: 0, endSec: 90, successRate: 0 }] });
  expect(run(s).result.downtimes).toEqual([]);
});

test('a healthy day raises nothing when rates sit well above the threshold', () => {
  const { result } = run(scenario({ outages: [] }), true);
  expect(result.downtimes).toEqual([]);
});
