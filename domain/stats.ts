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

/** ln(n!) : exact sums for small n, Stirling's series (error under 1e-10 from 20 on) beyond. */
function logFactorial(n: number): number {
  if (n < 20) {
    let s = 0;
    for (let i = 2; i <= n; i++) s += Math.log(i);
    return s;
  }
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + 1 / (12 * n) - 1 / (360 * n * n * n);
}

/**
 * P(X <= successes) for X ~ Binomial(n, p): how likely so few successes are if the rate really is
 * p. Exact where Wilson's bound is not: at a handful of trials and p near 1 (7 of 9 against 95%
 * happens 7% of the time, while the 99% Wilson bound already excludes 95%). Summed from the
 * observed count down, in ratios of successive terms, until they no longer matter: below the mean
 * they shrink geometrically (above it, one minus the upper tail, summed the same way).
 */
export function binomialLowerTail(successes: number, n: number, p: number): number {
  if (!(n > 0) || !(p > 0)) return 1;
  const k = Math.min(n, Math.max(0, Math.floor(successes)));
  if (p >= 1) return k < n ? 0 : 1;
  if (k >= n) return 1;
  // Above the mean the terms grow downward from k: take the complement, the other side's tail.
  if (k >= n * p) return Math.max(0, 1 - binomialLowerTail(n - k - 1, n, 1 - p));
  let term = Math.exp(logFactorial(n) - logFactorial(k) - logFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
  let sum = term;
  for (let j = k; j > 0 && term > sum * 1e-12; j--) {
    term *= (j * (1 - p)) / ((n - j + 1) * p);
    sum += term;
  }
  return Math.min(1, sum);
}

/** P(Z > z) for a standard normal Z (Abramowitz and Stegun 7.1.26, error under 1.5e-7). */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * Are `successes` of `n` evidence that the rate is below `p`, at the one-sided level of normal
 * quantile z: an exact binomial test (see `binomialLowerTail`).
 */
export function provenBelow(successes: number, n: number, p: number, z: number): boolean {
  return n > 0 && binomialLowerTail(successes, n, p) < normalUpperTail(z);
}
