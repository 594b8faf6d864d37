/** Deterministic test fixtures for the pure domain modules. */
import type { RouteCounter } from '../../domain';

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
