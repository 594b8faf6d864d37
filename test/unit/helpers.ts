/** Deterministic test fixtures for the pure domain modules. */
import { DetectionSettings, RouteCounter, Z_99_ONE_SIDED } from '../../domain';
import type { Scenario } from '../../sim/scenario';

/** A small seeded PRNG (mulberry32, the simulator's) so statistical tests are reproducible. */
export { mulberry32 as seeded } from '../../sim/random';

/** Number of successes in n Bernoulli(p) trials drawn from `rand`. */
export function binomial(n: number, p: number, rand: () => number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (rand() < p) k++;
  return k;
}

/** Splits `total` into `parts` integers that differ by at most one and sum to `total`. */
export function spread(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export function counter(method: string, gateway: string, bucketStart: number, c: Partial<RouteCounter> = {}): RouteCounter {
  return { method, gateway, bucketStart, success: 0, systemFailure: 0, userFailure: 0, probeSuccess: 0, probeFailure: 0, covered: 0, ...c };
}

export interface Traffic {
  /** Route id "mode:name@gateway". */
  route: string;
  /** Success rate now, or an exact count of successes. */
  rate?: number;
  successes?: number;
  attempts: number;
  /** Success rate over the last hour (3000 attempts). */
  baseline?: number;
  userFailures?: number;
}

/** Counters for 60 one-minute baseline buckets and 5 one-minute window buckets. */
export function trafficCounters(traffic: Traffic[], NOW: number): RouteCounter[] {
  const MINUTE = 60_000;
  const out: RouteCounter[] = [];
  for (const t of traffic) {
    const [method = '', gateway = ''] = t.route.split('@');
    const history = 3000;
    const historyOk = Math.round(history * (t.baseline ?? 0.95));
    const hA = spread(history, 60);
    const hS = spread(historyOk, 60);
    for (let i = 0; i < 60; i++) {
      out.push(counter(method, gateway, NOW - (65 - i) * MINUTE, { success: hS[i]!, systemFailure: hA[i]! - hS[i]! }));
    }
    const ok = t.successes ?? Math.round(t.attempts * (t.rate ?? 0.95));
    const wA = spread(t.attempts, 5);
    const wS = spread(ok, 5);
    const wU = spread(t.userFailures ?? 0, 5);
    for (let i = 0; i < 5; i++) {
      out.push(counter(method, gateway, NOW - (5 - i) * MINUTE, { success: wS[i]!, systemFailure: wA[i]! - wS[i]!, userFailure: wU[i]! }));
    }
  }
  return out;
}

/** The detection settings the unit tables judge with: a 5-minute window over 1-minute buckets, an hour of baseline. */
export const TABLE_SETTINGS: DetectionSettings = {
  windowMs: 5 * 60_000,
  baselineWindowMs: 60 * 60_000,
  minAttempts: 30,
  defaultBaseline: 0.95,
  baselinePriorWeight: 50,
  degradation: 0.15,
  z: Z_99_ONE_SIDED,
  coverage: 0.8,
};

/**
 * A small simulated world: UPI on two gateways and SBI netbanking on the second, the first
 * gateway down from 100 s to 200 s of 300; `over` changes any part.
 */
export const twoGatewayScenario = (over: Partial<Scenario> = {}): Scenario => ({
  name: 'two-gateways',
  seed: 5,
  durationSec: 300,
  checkoutsPerSec: 50,
  users: 2000,
  userFailureShare: 0.6,
  catalog: [
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'], share: 0.5, successRate: 0.95 },
    { method: 'netbanking:sbi', gateways: ['payu'], share: 0.5, successRate: 0.95 },
  ],
  outages: [{ scope: { gateway: 'razorpay' }, startSec: 100, endSec: 200, successRate: 0 }],
  ...over,
});
