/** The simulator's ground truth and checkout stream: what a route does at time t, and the same luck for every policy. */
import { DEFAULT_SYSTEM_ERROR_CODES, DEFAULT_USER_ERROR_CODES } from '../../domain';
import type { Scenario } from '../../sim/scenario';
import { Checkout, buildWorld, checkoutStream, isFailing, methodHealthy, outcomeOf, preferences, successRate, systemSuccessRate } from '../../sim/truth';

const scenario = (over: Partial<Scenario> = {}): Scenario => ({
  name: 'truth',
  seed: 3,
  durationSec: 300,
  checkoutsPerSec: 200,
  users: 1000,
  userFailureShare: 0.6,
  catalog: [
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'], share: 0.5, successRate: 0.9, gatewaySuccess: { payu: 0.8 } },
    { method: 'upi:phonepe', gateways: ['payu'], share: 0.3, successRate: 0.92 },
    { method: 'card:hdfc', gateways: ['payu', 'razorpay'], share: 0.2, successRate: 0.85 },
  ],
  outages: [{ scope: { gateway: 'payu' }, startSec: 100, endSec: 200, successRate: 0.05 }],
  ...over,
});

const route = (w: ReturnType<typeof buildWorld>, key: string) => w.routes.find((r) => r.key === key)!.index;
const checkout = (t: number, draws: Partial<Checkout> = {}): Checkout => ({ index: 0, t, user: 0, preferred: 0, dBurst: 0.99, dSuccess: 0.5, dKind: 0.5, dCode: 0, ...draws });

test('a route succeeds at its catalog rate (or its per-gateway rate) outside outages and at the outage rate inside', () => {
  const w = buildWorld(scenario());
  expect(successRate(w, route(w, 'upi:gpay@razorpay'), 150)).toBe(0.9);
  expect(successRate(w, route(w, 'upi:gpay@payu'), 50)).toBe(0.8);
  expect(successRate(w, route(w, 'upi:gpay@payu'), 150)).toBe(0.05);
  expect(successRate(w, route(w, 'upi:gpay@payu'), 200)).toBe(0.8);
});

test('an outage covers the routes its scope matches: a gateway, a mode, a method', () => {
  const gw = buildWorld(scenario());
  expect(gw.outageRoutes[0]!.map((i) => gw.routes[i]!.key).sort()).toEqual(['card:hdfc@payu', 'upi:gpay@payu', 'upi:phonepe@payu']);
  const mode = buildWorld(scenario({ outages: [{ scope: { mode: 'upi' }, startSec: 0, endSec: 10, successRate: 0 }] }));
  expect(mode.outageRoutes[0]!.map((i) => mode.routes[i]!.key).sort()).toEqual(['upi:gpay@payu', 'upi:gpay@razorpay', 'upi:phonepe@payu']);
  expect(isFailing(mode, route(mode, 'card:hdfc@payu'), 5)).toBe(false);
});

test('a method is healthy while one of its gateways is: failover keeps gpay and hdfc healthy, phonepe is down', () => {
  const w = buildWorld(scenario());
  expect(methodHealthy(w, 0, 150)).toBe(true);
  expect(methodHealthy(w, 1, 150)).toBe(false);
  expect(methodHealthy(w, 2, 150)).toBe(true);
  expect(methodHealthy(w, 1, 250)).toBe(true);
});

test('the same draws give the same outcome on the same route, and a failing route fails the lucky draw a healthy one passes', () => {
  const w = buildWorld(scenario());
  const c = checkout(150, { dSuccess: 0.5 });
  expect(outcomeOf(w, route(w, 'upi:gpay@razorpay'), c)).toEqual({ status: 'success' });
  const failed = outcomeOf(w, route(w, 'upi:gpay@payu'), c);
  expect(failed.status).toBe('failure');
  expect(DEFAULT_SYSTEM_ERROR_CODES).toContain(failed.errorCode);
});

test('ordinary failures carry a user code at userFailureShare; outage failures are always the system\'s', () => {
  const w = buildWorld(scenario());
  const stream = checkoutStream(w.scenario, preferences(w.scenario), 0, 300, 200, 'codes');
  let ordinary = 0;
  let user = 0;
  let outageUser = 0;
  for (const c of stream) {
    const r = route(w, 'upi:gpay@razorpay');
    const o = outcomeOf(w, r, c);
    if (o.status === 'failure') {
      ordinary += 1;
      if (DEFAULT_USER_ERROR_CODES.includes(o.errorCode!)) user += 1;
    }
    const down = outcomeOf(w, route(w, 'upi:phonepe@payu'), c);
    if (c.t >= 100 && c.t < 200 && down.errorCode && DEFAULT_USER_ERROR_CODES.includes(down.errorCode)) outageUser += 1;
  }
  expect(ordinary).toBeGreaterThan(4000);
  expect(user / ordinary).toBeGreaterThan(0.56);
  expect(user / ordinary).toBeLessThan(0.64);
  expect(outageUser).toBe(0);
});

test('a user-error burst fails its share of attempts with user codes only', () => {
  const w = buildWorld(scenario({ outages: [], userErrorBursts: [{ scope: { method: 'upi:phonepe' }, startSec: 0, endSec: 100, failureShare: 0.4 }] }));
  const r = route(w, 'upi:phonepe@payu');
  expect(outcomeOf(w, r, checkout(50, { dBurst: 0.1, dSuccess: 0 }))).toMatchObject({ status: 'failure', errorCode: DEFAULT_USER_ERROR_CODES[0] });
  expect(outcomeOf(w, r, checkout(150, { dBurst: 0.1, dSuccess: 0 }))).toEqual({ status: 'success' });
});

test('ordinary variance moves a route around its rate and never outside [0, 1]', () => {
  const w = buildWorld(scenario({ outages: [], variance: { amplitude: 0.05, periodSec: 60 } }));
  const rates = Array.from({ length: 120 }, (_, t) => successRate(w, route(w, 'upi:gpay@razorpay'), t));
  expect(Math.max(...rates)).toBeGreaterThan(0.94);
  expect(Math.min(...rates)).toBeLessThan(0.86);
  expect(rates.every((r) => r >= 0 && r <= 1)).toBe(true);
});

test('the checkout stream is the same for the same seed, sorted, at the asked rate, with preferences by share', () => {
  const s = scenario();
  const prefs = preferences(s);
  const a = checkoutStream(s, prefs, 0, 100, 200, 'live');
  const b = checkoutStream(s, prefs, 0, 100, 200, 'live');
  expect(a).toEqual(b);
  expect(a.length).toBeGreaterThan(19_000);
  expect(a.length).toBeLessThan(21_000);
  expect(a.every((c, i) => i === 0 || c.t >= a[i - 1]!.t)).toBe(true);
  expect(a.every((c) => c.preferred === prefs[c.user])).toBe(true);
  const gpay = a.filter((c) => c.preferred === 0).length / a.length;
  expect(gpay).toBeGreaterThan(0.45);
  expect(gpay).toBeLessThan(0.55);
  expect(checkoutStream(s, prefs, 0, 100, 200, 'other')[0]).not.toEqual(a[0]);
});

test('traffic follows its curve and its surges, and a scenario without one keeps the stream it had', () => {
  const s = scenario({ traffic: { swing: 0.5, periodSec: 200, surges: [{ startSec: 120, endSec: 140, multiplier: 3 }] } });
  const a = checkoutStream(s, preferences(s), 0, 200, 200, 'live');
  const perSec = (from: number, to: number) => a.filter((c) => c.t >= from && c.t < to).length / (to - from);
  // The curve's top (t = 50 s: 1.5x, 300/s) and bottom (t = 150 s: 0.5x, 100/s), 20 s around each.
  expect(perSec(40, 60)).toBeGreaterThan(270);
  expect(perSec(40, 60)).toBeLessThan(330);
  expect(perSec(140, 160)).toBeGreaterThan(80);
  expect(perSec(140, 160)).toBeLessThan(125);
  // The surge triples what the curve brings (about 0.6x there): about 360/s.
  expect(perSec(120, 140)).toBeGreaterThan(300);
  expect(perSec(120, 140)).toBeLessThan(420);
  expect(a.every((c, i) => i === 0 || c.t >= a[i - 1]!.t)).toBe(true);
  expect(checkoutStream(s, preferences(s), 0, 200, 200, 'live')).toEqual(a);
  // No traffic: the same draws as a scenario that never had the field.
  const plain = scenario();
  expect(checkoutStream(plain, preferences(plain), 0, 50, 200, 'live')).toEqual(checkoutStream({ ...plain, traffic: undefined }, preferences(plain), 0, 50, 200, 'live'));
});

test('the success rate detection sees leaves user failures out', () => {
  expect(systemSuccessRate(0.9, 0.6)).toBeCloseTo(0.9 / 0.94, 10);
  expect(systemSuccessRate(0.9, 0)).toBeCloseTo(0.9, 10);
});
