import { Z_95_ONE_SIDED, Z_99_ONE_SIDED, binomialLogLikelihoodRatio, proportion, wilsonLower, wilsonUpper } from '../../domain';

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
