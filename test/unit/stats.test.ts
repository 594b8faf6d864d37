import { Z_95_ONE_SIDED, Z_99_ONE_SIDED, binomialLogLikelihoodRatio, binomialLowerTail, normalUpperTail, proportion, provenBelow, wilsonLower, wilsonUpper } from '../../domain';

describe('Wilson score bounds', () => {
  // Reference values computed independently (Python, closed form).
  test.each([
    [50, 100, 1.96, 0.4038, 0.5962],
    [95, 100, Z_95_ONE_SIDED, 0.9008, 0.9755],
    [0, 10, 1.96, 0, 0.2775],
    [10, 10, 1.96, 0.7225, 1],
  ])('bounds %i successes of %i at z=%f within [%f, %f]', (k, n, z, lo, hi) => {
    expect(wilsonLower(k, n, z)).toBeCloseTo(lo, 3);
    expect(wilsonUpper(k, n, z)).toBeCloseTo(hi, 3);
  });

  test('spans all of [0, 1] when there are no trials', () => {
    expect(wilsonLower(0, 0, Z_99_ONE_SIDED)).toBe(0);
    expect(wilsonUpper(0, 0, Z_99_ONE_SIDED)).toBe(1);
  });

  test.each([10, 100, 1000])('narrows around the rate as attempts grow (n=%i) and brackets it', (n) => {
    const k = Math.round(0.9 * n);
    expect(wilsonLower(k, n, Z_99_ONE_SIDED)).toBeLessThan(0.9);
    expect(wilsonUpper(k, n, Z_99_ONE_SIDED)).toBeGreaterThan(0.9);
    expect(wilsonUpper(k, n, Z_99_ONE_SIDED) - wilsonLower(k, n, Z_99_ONE_SIDED)).toBeLessThan(4 / Math.sqrt(n));
  });

  test('is wider at the stricter significance', () => {
    expect(wilsonUpper(70, 100, Z_99_ONE_SIDED)).toBeGreaterThan(wilsonUpper(70, 100, Z_95_ONE_SIDED));
  });
});

describe('binomial helpers', () => {
  test('falls back when a proportion has no trials', () => {
    expect(proportion(0, 0, 0.95)).toBe(0.95);
    expect(proportion(3, 4, 0.95)).toBe(0.75);
  });

  test.each([
    [10, 0, 0.95, 0.8, 10 * Math.log(0.95 / 0.8)],
    [0, 2, 0.95, 0.8, 2 * Math.log(0.05 / 0.2)],
    [3, 1, 0.9, 0.9, 0],
  ])('log-likelihood ratio of %i successes, %i failures for p1=%f vs p0=%f', (s, f, p1, p0, expected) => {
    expect(binomialLogLikelihoodRatio(s, f, p1, p0)).toBeCloseTo(expected, 9);
  });

  test('stays finite at probabilities of exactly 0 or 1', () => {
    expect(Number.isFinite(binomialLogLikelihoodRatio(5, 5, 1, 0))).toBe(true);
  });
});

describe('the exact binomial test', () => {
  /** P(X <= k) summed term by term from the definition, for comparison. */
  const bruteLowerTail = (k: number, n: number, p: number) => {
    const logFact = (m: number) => Array.from({ length: m }, (_, i) => Math.log(i + 1)).reduce((a, b) => a + b, 0);
    let sum = 0;
    for (let j = 0; j <= k; j++) sum += Math.exp(logFact(n) - logFact(j) - logFact(n - j) + j * Math.log(p) + (n - j) * Math.log(1 - p));
    return sum;
  };

  test('gives the lower tail of the binomial, on both sides of the mean and at large n', () => {
    for (const [k, n, p] of [[7, 9, 0.95], [0, 1, 0.95], [0, 2, 0.95], [4, 5, 0.95], [30, 137, 0.3], [60, 137, 0.3], [1700, 2000, 0.9], [1850, 2000, 0.9], [2, 30, 0.946]] as const) {
      const exact = bruteLowerTail(k, n, p);
      expect(Math.abs(binomialLowerTail(k, n, p) - exact)).toBeLessThanOrEqual(1e-9 * Math.max(exact, 1e-300) + 1e-300);
    }
    expect(binomialLowerTail(7, 9, 0.95)).toBeCloseTo(0.0712, 4);
  });

  test('treats no trials, a certain rate and every trial a success as no evidence, or all of it', () => {
    expect(binomialLowerTail(0, 0, 0.95)).toBe(1);
    expect(binomialLowerTail(9, 9, 0.95)).toBe(1);
    expect(binomialLowerTail(8, 9, 1)).toBe(0);
    expect(binomialLowerTail(3, 9, 0)).toBe(1);
  });

  test('reads the normal tail off the quantiles the detection uses', () => {
    expect(normalUpperTail(Z_99_ONE_SIDED)).toBeCloseTo(0.01, 5);
    expect(normalUpperTail(Z_95_ONE_SIDED)).toBeCloseTo(0.05, 5);
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 6);
    expect(normalUpperTail(-Z_95_ONE_SIDED)).toBeCloseTo(0.95, 5);
  });

  test('proves a rate below the baseline where Wilson would on too few trials, and not before', () => {
    // 7 of 9 against 95%: Wilson's 99% bound already excludes 95%, the exact test does not.
    expect(wilsonUpper(7, 9, Z_99_ONE_SIDED)).toBeLessThan(0.95);
    expect(provenBelow(7, 9, 0.95, Z_99_ONE_SIDED)).toBe(false);
    expect(provenBelow(4, 5, 0.95, Z_99_ONE_SIDED)).toBe(false);
    expect(provenBelow(0, 1, 0.95, Z_99_ONE_SIDED)).toBe(false);
    expect(provenBelow(0, 2, 0.95, Z_99_ONE_SIDED)).toBe(true);
    expect(provenBelow(85, 100, 0.95, Z_99_ONE_SIDED)).toBe(true);
    expect(provenBelow(0, 0, 0.95, Z_99_ONE_SIDED)).toBe(false);
  });
});
