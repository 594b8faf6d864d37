/**
 * Seeded randomness for the simulator: the same scenario seed gives the same users,
 * preferences, arrival times and outcome draws on every run, so the product, the baseline and
 * the "no downtime handling" counterfactual are judged on exactly the same traffic.
 */
import { fmix32, fnv1a32 } from '../domain/bucket';

/** mulberry32: a small, fast 32-bit PRNG with a good enough spread for simulation. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable uniform number in [0, 1) for a label: the same label always gives the same number. */
export function hashUniform(label: string): number {
  return fmix32(fnv1a32(label)) / 4294967296;
}

/** Index picked from `weights` (any non-negative numbers) by a uniform draw `u` in [0, 1). */
export function pickWeighted(weights: readonly number[], u: number): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (let i = 0; i < weights.length; i += 1) {
    acc += weights[i]! / total;
    if (u < acc) return i;
  }
  return weights.length - 1;
}
