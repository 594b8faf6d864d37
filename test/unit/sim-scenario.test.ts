/** The simulator's scenario files: validation that names the field, and the compressed default run. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Scenario, ScenarioError, compressScenario, loadScenario, parseScenario } from '../../sim/scenario';

const base = (): Scenario => ({
  name: 'x',
  seed: 1,
  durationSec: 600,
  checkoutsPerSec: 50,
  users: 100,
  userFailureShare: 0.5,
  catalog: [
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'], share: 0.6, successRate: 0.9 },
    { method: 'netbanking:sbi', gateways: ['payu'], share: 0.4, successRate: 0.85 },
  ],
  outages: [{ scope: { method: 'netbanking:sbi' }, startSec: 120, endSec: 420, successRate: 0.05 }],
});

const errorOf = (raw: unknown) => {
  try {
    parseScenario(raw, 'x.json');
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as Error).message;
  }
  throw new Error('expected a ScenarioError');
};

test('accepts the format of design.md', () => {
  expect(parseScenario(base()).name).toBe('x');
});

test.each([
  ['shares that do not sum to 1', (s: Scenario) => void (s.catalog[0]!.share = 0.5), /^x\.json: catalog: shares must sum to 1, got 0\.900/],
  ['a malformed method', (s: Scenario) => void (s.catalog[1]!.method = 'sbi'), /^x\.json: catalog\.1\.method: expected mode:name/],
  ['a success rate above 1', (s: Scenario) => void (s.catalog[0]!.successRate = 1.2), /^x\.json: catalog\.0\.successRate: expected a number from 0 to 1/],
  ['an outage ending before it starts', (s: Scenario) => void (s.outages[0]!.endSec = 100), /^x\.json: outages\.0\.endSec: must be after startSec/],
  ['an outage past the end', (s: Scenario) => void (s.outages[0]!.endSec = 700), /^x\.json: outages\.0\.endSec: must be at most durationSec/],
  ['an empty outage scope', (s: Scenario) => void (s.outages[0]!.scope = {}), /^x\.json: outages\.0\.scope: scope must set at least one of/],
  ['a method outside its mode', (s: Scenario) => void (s.outages[0]!.scope = { mode: 'upi', method: 'netbanking:sbi' }), /^x\.json: outages\.0\.scope\.mode: mode "upi" does not match/],
  ['an unknown field', (s: Scenario) => void ((s as unknown as Record<string, unknown>).colour = 'red'), /^x\.json: \(root\)|colour/],
  ['a per-gateway rate for a gateway the method lacks', (s: Scenario) => void (s.catalog[1]!.gatewaySuccess = { razorpay: 0.9 }), /^x\.json: catalog\.1\.gatewaySuccess\.razorpay: razorpay is not one of/],
  ['a repeated method', (s: Scenario) => void (s.catalog[1]!.method = 'upi:gpay'), /^x\.json: catalog\.1\.method: upi:gpay is already listed at catalog\.0/],
  ['a traffic swing that would stop arrivals', (s: Scenario) => void (s.traffic = { swing: 1.5, periodSec: 100 }), /^x\.json: traffic\.swing: expected 0 to 0\.95/],
  ['a surge past the end', (s: Scenario) => void (s.traffic = { swing: 0, periodSec: 100, surges: [{ startSec: 10, endSec: 900, multiplier: 2 }] }), /^x\.json: traffic\.surges\.0\.endSec: must be at most durationSec/],
])('refuses %s, naming the field', (_what, mutate, message) => {
  const s = base();
  mutate(s);
  expect(errorOf(s)).toMatch(message);
});

test('every committed scenario is valid, and the set covers the eight required situations', () => {
  const dir = join(__dirname, '../../scenarios');
  const all = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => loadScenario(join(dir, f)));
  expect(all.length).toBeGreaterThanOrEqual(8);
  const scopes = all.flatMap((s) => s.outages.map((o) => o.scope));
  expect(scopes).toContainEqual({ mode: 'upi' });
  expect(scopes.some((sc) => sc.gateway !== undefined && sc.method === undefined && sc.mode === undefined)).toBe(true);
  expect(all.some((s) => s.outages.length === 0)).toBe(true);
  expect(all.some((s) => (s.freezeWindows ?? []).length > 0 && s.outages.length > 0)).toBe(true);
  expect(all.some((s) => s.outages.length >= 3)).toBe(true);
  expect(all.some((s) => s.outages.some((o) => o.successRate >= 0.5))).toBe(true);
});

describe('the compressed default run', () => {
  test('cuts long stretches to their caps and keeps the order of events', () => {
    const c = compressScenario(base());
    // lead 120 → 15, outage 300 → 90, tail 180 → 40
    expect(c.outages[0]).toMatchObject({ startSec: 15, endSec: 105 });
    expect(c.durationSec).toBe(145);
  });

  test('keeps short stretches exactly (a flapping route still flaps)', () => {
    const s = base();
    s.outages = [
      { scope: { method: 'netbanking:sbi' }, startSec: 120, endSec: 140, successRate: 0 },
      { scope: { method: 'netbanking:sbi' }, startSec: 160, endSec: 180, successRate: 0 },
    ];
    const c = compressScenario(s);
    expect(c.outages.map((o) => [o.startSec, o.endSec])).toEqual([
      [15, 35],
      [55, 75],
    ]);
  });

  test('maps freeze windows and bursts with the same timeline, and honours per-scenario caps', () => {
    const s = base();
    s.freezeWindows = [{ startSec: 60, endSec: 540 }];
    s.short = { tailSec: 70 };
    const c = compressScenario(s);
    expect(c.freezeWindows![0]).toEqual({ startSec: 15, endSec: 165 });
    expect(c.outages[0]).toMatchObject({ startSec: 45, endSec: 135 });
    expect(c.durationSec).toBe(225);
  });
});
