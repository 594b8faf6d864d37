/**
 * Small, dependency-free statistics for success rates, which are binomial proportions.
 *
 * The Wilson score interval is used instead of the textbook normal ("Wald") interval because
 * it stays inside [0, 1] and keeps its coverage at small n and at rates near 0 or 1, which is
 * exactly where payment routes live (a 95% baseline, a few dozen attempts per window).
 */

/** One-sided 95% standard normal quantile: P(Z > 1.6449) = 0.05. */
export const Z_95_ONE_SIDED = 1.6449;
/** One-sided 99% standard normal quantile: P(Z > 2.3263) = 0.01. */
export const Z_99_ONE_SIDED = 2.3263;

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** Observed proportion, or `fallback` when there are no trials (0/0 carries no evidence). */
export function proportion(successes: number, n: number, fallback: number): number {
  return n > 0 ? successes / n : fallback;
}

function wilson(successes: number, n: number, z: number, sign: 1 | -1): number {
  if (!(n > 0)) return sign > 0 ? 1 : 0; // no data: the interval is all of [0, 1]
  const p = clamp01(successes / n);
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return clamp01(centre + sign * half);
}

/** Lower Wilson score bound of a binomial success rate at normal quantile z. */
export function wilsonLower(successes: number, n: number, z: number): number {
  return wilson(successes, n, z, -1);
}

/** Upper Wilson score bound of a binomial success rate at normal quantile z. */
export function wilsonUpper(successes: number, n: number, z: number): number {
  return wilson(successes, n, z, 1);
}

/**
 * Log-likelihood ratio of H1 (p = p1) against H0 (p = p0) after `successes` and `failures`
 * Bernoulli trials. Probabilities are kept strictly inside (0, 1) so the ratio stays finite.
 */
export function binomialLogLikelihoodRatio(successes: number, failures: number, p1: number, p0: number): number {
  const eps = 1e-6;
  const q1 = Math.min(1 - eps, Math.max(eps, p1));
  const q0 = Math.min(1 - eps, Math.max(eps, p0));
  return successes * Math.log(q1 / q0) + failures * Math.log((1 - q1) / (1 - q0));
}
