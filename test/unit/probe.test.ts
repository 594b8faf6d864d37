import { DOUBT_RESTART_RAISE, ProbeDecision, ProbeSettings, decideRecovery, lessCounted, nextLookMs, outageRate, probeFloor, provenOutcomes, restartsOnDoubt, seenAtRestart, strongSuccess, successWeight, WAKING_SUCCESS_FRACTION, STRONG_SUCCESS_FRACTION, wakesOnOutcome, wakesOnSuccess, windowedProbe } from '../../domain';
import { counter, seeded } from './helpers';

const settings: ProbeSettings = { minSamples: 20, alpha: 0.01, beta: 0.05, basePercent: 10, maxPercent: 50 };
const BASELINE = 0.95;
const THRESHOLD = BASELINE * (1 - 0.15); // 0.8075
// Per success the llr grows by ln(0.95/0.8075) = 0.1625; per failure it drops by ln(0.05/0.1925) = -1.348.
// A = ln(0.95/0.01) = 4.554, B = ln(0.05/0.99) = -2.986.

describe('recovery decision (SPRT on probe outcomes)', () => {
  test.each<[string, number, number, Partial<ProbeSettings>, ProbeDecision['verdict']]>([
    ['declares recovery once enough consecutive successes cross the upper boundary', 29, 0, {}, 'recovered'],
    ['waits one success short of the upper boundary', 28, 0, {}, 'insufficient'],
    ['waits for the minimum samples even when the evidence is already strong', 30, 0, { minSamples: 40 }, 'insufficient'],
    ['tolerates an occasional failure and still recovers', 50, 1, {}, 'recovered'],
    ['declares still failing after a few straight failures', 0, 3, {}, 'failing'],
    ['declares still failing without waiting for the minimum samples', 1, 3, { minSamples: 1000 }, 'failing'],
    ['waits when two failures are not yet proof', 0, 2, {}, 'insufficient'],
    ['declares still failing during an outage-like 10% success rate', 5, 45, {}, 'failing'],
    ['waits with no samples at all', 0, 0, {}, 'insufficient'],
  ])('%s (%i ok, %i failed)', (_name, ok, failed, overrides, verdict) => {
    expect(decideRecovery(ok, failed, BASELINE, THRESHOLD, { ...settings, ...overrides }).verdict).toBe(verdict);
  });

  test('reports the Wald boundaries and the evidence it used', () => {
    const d = decideRecovery(12, 1, BASELINE, THRESHOLD, settings);
    expect(d.upperBound).toBeCloseTo(Math.log(0.95 / 0.01), 9);
    expect(d.lowerBound).toBeCloseTo(Math.log(0.05 / 0.99), 9);
    expect(d.llr).toBeCloseTo(12 * Math.log(0.95 / 0.8075) + Math.log(0.05 / 0.1925), 9);
    expect(d).toMatchObject({ samples: 13, successes: 12 });
  });

  const SUCCESS = Math.log(0.95 / 0.8075);
  const UP = Math.log(0.95 / 0.01);
  test.each([
    ['no evidence either way: the base share', 0, 0, 10],
    ['one failure, not yet proof: the base share', 0, 1, 10],
    ['a recovery run that slipped back below zero: the base share', 3, 1, 10],
    ['proof of still failing: a quarter of the base share', 0, 5, 2.5],
    ['two successes: widened steeply, by the square root of the progress', 2, 0, 10 + 40 * Math.sqrt((2 * SUCCESS) / (UP / 2))],
    ['about halfway to proof: (nearly) the maximum', 14, 0, 10 + 40 * Math.sqrt(Math.min(1, (14 * SUCCESS) / (UP / 2)))],
    ['proof of recovery', 29, 0, 50],
    ['long past proof', 200, 0, 50],
  ])('shrinks the probe while failing and widens it as recovery evidence grows: %s (%i ok, %i failed)', (_name, ok, failed, percent) => {
    expect(decideRecovery(ok, failed, BASELINE, THRESHOLD, settings).probePercent).toBeCloseTo(percent, 9);
  });

  test.each<[string, number, number, Partial<ProbeSettings>, { outage?: number }, number]>([
    ['proven short of the sample minimum: every user is a probe', 30, 0, { minSamples: 40, provenPercent: 100 }, {}, 100],
    ['proven short of the minimum, without a proven share: the maximum', 30, 0, { minSamples: 40 }, {}, 50],
    ['a proven share below the maximum: the maximum', 30, 0, { minSamples: 40, provenPercent: 20 }, {}, 50],
    ['nearly proven: the maximum', 28, 0, { minSamples: 40, provenPercent: 100 }, {}, 50],
    // Against a 5% outage three successes and a failure pass A, but 75% is below the threshold.
    ['past A against the outage but not back at the threshold: the maximum', 3, 1, { provenPercent: 100 }, { outage: 0.05 }, 50],
    // Two successes pass A against a 5% outage (2 x 2.94), not twice A (9.1).
    ['past A against the outage and back at the threshold: every user', 2, 0, { provenPercent: 100 }, { outage: 0.05 }, 100],
  ])('widens the probe to the proven share only once recovery is proven: %s', (_name, ok, failed, overrides, known, percent) => {
    const d = decideRecovery(ok, failed, BASELINE, THRESHOLD, { ...settings, ...overrides }, known);
    expect(d.verdict).toBe('insufficient');
    expect(d.probePercent).toBeCloseTo(percent, 9);
  });

  test.each<[string, number, number, Partial<ProbeSettings>, ProbeDecision['verdict']]>([
    // Against a 5% outage a success weighs ln(0.95/0.05) = 2.94: four in a row are twice A (9.1).
    ['decisive evidence short of the sample minimum: recovered', 4, 0, { provenPercent: 100 }, 'recovered'],
    ['past A, short of decisive and of the minimum: not yet', 3, 0, { provenPercent: 100 }, 'insufficient'],
    ['decisive, but the minimum holds where no proven share applies (a freeze, an extension)', 4, 0, {}, 'insufficient'],
    ['decisive, but not back at the threshold', 12, 3, { provenPercent: 100 }, 'insufficient'],
  ])('%s', (_name, ok, failed, overrides, verdict) => {
    const d = decideRecovery(ok, failed, BASELINE, THRESHOLD, { ...settings, ...overrides }, { outage: 0.05 });
    expect(d.verdict).toBe(verdict);
    if (overrides.provenPercent !== undefined) expect(d.decisiveBound).toBeCloseTo(2 * Math.log(0.95 / 0.01), 9);
    else expect(d.decisiveBound).toBeUndefined();
  });

  test('the probe share never leaves [a quarter of the base share, the maximum]', () => {
    for (let ok = 0; ok < 60; ok += 3) {
      for (let failed = 0; failed < 20; failed += 1) {
        const p = decideRecovery(ok, failed, BASELINE, THRESHOLD, settings).probePercent;
        expect(p).toBeGreaterThanOrEqual(2.5);
        expect(p).toBeLessThanOrEqual(50);
      }
    }
  });

  test.each<[string, number, number, number, number]>([
    ['a baseline no better than the threshold', 0.8, 0.8, 30, 0],
    ['a baseline below the threshold', 0.7, 0.8, 30, 1],
    ['a perfect baseline', 1, 0.85, 30, 1],
    ['a zero threshold', 0.95, 0, 30, 0],
    ['non-finite inputs', NaN, Infinity, NaN, -3],
  ])('stays finite with %s', (_name, baseline, threshold, ok, failed) => {
    const d = decideRecovery(ok, failed, baseline, threshold, settings);
    for (const v of [d.llr, d.upperBound, d.lowerBound, d.probePercent, d.samples, d.successes]) expect(Number.isFinite(v)).toBe(true);
  });

  test('cannot tell recovery from failure when the hypotheses coincide', () => {
    expect(decideRecovery(1000, 0, 0.8, 0.8, settings).verdict).toBe('insufficient');
  });

  test('treats one failure against a perfect baseline as proof of still failing', () => {
    expect(decideRecovery(0, 1, 1, 0.85, settings).verdict).toBe('failing');
  });

  /** Runs the test sequentially, one outcome at a time, until it decides. */
  function run(p: number, rand: () => number): ProbeDecision['verdict'] {
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < 5000; i++) {
      if (rand() < p) ok++;
      else failed++;
      const v = decideRecovery(ok, failed, BASELINE, THRESHOLD, settings).verdict;
      if (v !== 'insufficient') return v;
    }
    return 'insufficient';
  }

  test.each([
    ['rarely re-enables a scope still at the failing threshold (false-enable <= alpha)', THRESHOLD, 0.015],
    ['rarely re-enables a scope that is clearly down', 0.3, 0.001],
  ])('%s', (_name, p, maxRate) => {
    const rand = seeded(42);
    const trials = 2000;
    let enabled = 0;
    for (let i = 0; i < trials; i++) if (run(p, rand) === 'recovered') enabled++;
    expect(enabled / trials).toBeLessThanOrEqual(maxRate);
  });

  test('re-enables a scope back at its baseline almost always (false-disable <= beta)', () => {
    const rand = seeded(7);
    const trials = 2000;
    let kept = 0;
    for (let i = 0; i < trials; i++) if (run(BASELINE, rand) !== 'recovered') kept++;
    expect(kept / trials).toBeLessThanOrEqual(0.06);
  });
});

describe('recovery judged against the outage\'s measured rate', () => {
  const OUTAGE = 0.1;
  const UP = Math.log(0.95 / 0.01);

  /** Outcomes one at a time until the test decides; how many it took and what it said. */
  function sequential(p: number, outage: number | undefined, rand: () => number): { verdict: ProbeDecision['verdict']; samples: number } {
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < 5000; i++) {
      if (rand() < p) ok++;
      else failed++;
      const d = decideRecovery(ok, failed, BASELINE, THRESHOLD, settings, { outage });
      if (d.verdict !== 'insufficient') return { verdict: d.verdict, samples: d.samples };
    }
    return { verdict: 'insufficient', samples: ok + failed };
  }

  test('the outage\'s rate is the optimistic Wilson bound of what was measured while failing, never above the threshold', () => {
    expect(outageRate([], THRESHOLD)).toBeUndefined();
    expect(outageRate([{ successes: 0, attempts: 0 }], THRESHOLD)).toBeUndefined();
    const r = outageRate([{ successes: 2, attempts: 40 }], THRESHOLD)!;
    expect(r).toBeGreaterThan(2 / 40);
    expect(r).toBeLessThan(0.15);
    // Three outcomes say little: the bound is wide and the threshold caps it.
    expect(outageRate([{ successes: 2, attempts: 3 }], THRESHOLD)).toBe(THRESHOLD);
    // Junk counts are ignored rather than trusted.
    expect(outageRate([{ successes: 5, attempts: 2 }, { successes: NaN, attempts: -4 }], THRESHOLD)).toBe(THRESHOLD);
  });

  test('measurements that disagree are not pooled: a detection window mostly of healthy traffic does not hide the probe\'s 3%', () => {
    // Detected 3 s into the outage: 20 s of window, 17 s of it healthy (1,150 of 1,440 succeeded).
    const evidence = { successes: 1_150, attempts: 1_440 };
    // The probe's runs that proved "still failing": 13 of 430.
    const proven = { successes: 13, attempts: 430 };
    const r = outageRate([evidence, proven], THRESHOLD)!;
    expect(r).toBeCloseTo(outageRate([proven], THRESHOLD)!, 12);
    expect(r).toBeLessThan(0.05);
    // Pooled they would say 60%.
    expect(outageRate([{ successes: 1_163, attempts: 1_870 }], THRESHOLD)).toBeGreaterThan(0.6);
  });

  test('measurements that agree are pooled, so a probe that came out low by chance does not lower H0', () => {
    // A 70% degradation: the evidence 500 of 720, the probe's proven runs 90 of 144 (62.5%).
    const evidence = { successes: 500, attempts: 720 };
    const proven = { successes: 90, attempts: 144 };
    const pooled = outageRate([{ successes: 590, attempts: 864 }], THRESHOLD)!;
    expect(outageRate([evidence, proven], THRESHOLD)).toBeCloseTo(pooled, 12);
    expect(pooled).toBeGreaterThan(outageRate([proven], THRESHOLD)!);
    // A probe that has proven little yet agrees with anything: pooled.
    expect(outageRate([{ successes: 10, attempts: 200 }, { successes: 0, attempts: 3 }], THRESHOLD)).toBeCloseTo(outageRate([{ successes: 10, attempts: 203 }], THRESHOLD)!, 12);
  });

  test('what the probe proved is what was measured while failing less the evidence, never below zero', () => {
    expect(provenOutcomes({ successes: 1_163, attempts: 1_870 }, { successes: 1_150, attempts: 1_440 })).toEqual({ successes: 13, attempts: 430 });
    expect(provenOutcomes({ successes: 5, attempts: 50 }, undefined)).toEqual({ successes: 5, attempts: 50 });
    expect(provenOutcomes({ successes: 5, attempts: 50 }, { successes: 9, attempts: 90 })).toEqual({ successes: 0, attempts: 0 });
  });

  test('without a measured rate the test is the threshold test', () => {
    for (const [ok, failed] of [[29, 0], [28, 0], [50, 1], [0, 3], [5, 45]]) {
      expect(decideRecovery(ok!, failed!, BASELINE, THRESHOLD, settings, {})).toEqual(decideRecovery(ok!, failed!, BASELINE, THRESHOLD, settings));
    }
  });

  test('twenty straight successes prove the end of a 10% outage, not yet the threshold test', () => {
    expect(decideRecovery(20, 0, BASELINE, THRESHOLD, settings, { outage: OUTAGE }).verdict).toBe('recovered');
    expect(decideRecovery(20, 0, BASELINE, THRESHOLD, settings).verdict).toBe('insufficient');
  });

  test.each([
    ['no outcomes yet', 0, 0, 2.5],
    ['a failure', 0, 1, 2.5],
    ['proof again', 0, 5, 2.5],
    ['a success: widened', 1, 0, 10 + 40 * Math.sqrt(Math.min(1, Math.log(0.95 / 0.1) / (UP / 2)))],
  ])('once "still failing" was proven the quarter share holds until the evidence leans to recovery: %s', (_name, ok, failed, percent) => {
    expect(decideRecovery(ok, failed, BASELINE, THRESHOLD, settings, { outage: OUTAGE, provenFailing: true }).probePercent).toBeCloseTo(percent, 9);
  });

  test.each([
    ['a busy scope (70 attempts/s, a look every 2 s): the quarter', 70, 2, 2.5],
    ['a bank at 14 attempts/s: raised to one outcome per look', 14, 2, 100 / 28],
    ['a quiet method at 2 attempts/s: the base share', 2, 2, 10],
    ['unknown traffic: the quarter', undefined, 2, 2.5],
    ['no traffic measured: the quarter', 0, 2, 2.5],
  ])('the floor share keeps about one probe outcome per look: %s', (_name, rate, lookSec, percent) => {
    expect(probeFloor(10, rate, lookSec)).toBeCloseTo(percent, 9);
  });

  test.each([
    ['young (within the window): one outcome per look', 10_000, 100 / 16],
    ['one window old: still one per look', 20_000, 100 / 16],
    ['two windows old: one per two looks', 40_000, 100 / 32],
    ['five windows old: one per three looks, but never below the quarter', 100_000, 2.5],
  ])('a bank at 8 attempts/s, its floor as the outage ages: %s', (_name, ageMs, percent) => {
    expect(probeFloor(10, 8, 2, { ageMs, youngMs: 20_000 })).toBeCloseTo(percent, 9);
  });

  test('a quiet method keeps one outcome per three looks however old its outage', () => {
    expect(probeFloor(10, 2, 2, { ageMs: 3_600_000, youngMs: 20_000 })).toBeCloseTo(100 / 12, 9);
    expect(probeFloor(10, 1, 2, { ageMs: 3_600_000, youngMs: 20_000 })).toBe(10);
  });

  test('a quiet scope keeps its floor share through a proven failure', () => {
    const floorPercent = probeFloor(10, 2, 2);
    expect(decideRecovery(0, 5, BASELINE, THRESHOLD, settings, { outage: OUTAGE, provenFailing: true, floorPercent }).probePercent).toBe(10);
    expect(decideRecovery(0, 0, BASELINE, THRESHOLD, settings, { outage: OUTAGE, provenFailing: true, floorPercent }).probePercent).toBe(10);
  });

  test('a probe rate below the threshold is not a recovery, however far above the outage it is', () => {
    const d = decideRecovery(15, 5, BASELINE, THRESHOLD, settings, { outage: 0.01 });
    expect(d.llr).toBeGreaterThan(d.upperBound);
    expect(d.verdict).toBe('insufficient');
  });

  test('needs far fewer probe outcomes to re-enable a scope back at its baseline', () => {
    const rand = seeded(11);
    const withOutage: number[] = [];
    const withThreshold: number[] = [];
    let kept = 0;
    for (let i = 0; i < 1000; i++) {
      const a = sequential(BASELINE, OUTAGE, rand);
      if (a.verdict !== 'recovered') kept++;
      else withOutage.push(a.samples);
      const b = sequential(BASELINE, undefined, rand);
      if (b.verdict === 'recovered') withThreshold.push(b.samples);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    expect(kept / 1000).toBeLessThanOrEqual(0.06);
    expect(median(withOutage)).toBeLessThanOrEqual(22);
    expect(median(withThreshold)).toBeGreaterThanOrEqual(30);
  });

  test.each([
    ['a scope still at its outage rate', OUTAGE, 0.01],
    ['a scope that came back only halfway', 0.5, 0.01],
  ])('rarely re-enables %s', (_name, p, maxRate) => {
    const rand = seeded(5);
    let enabled = 0;
    for (let i = 0; i < 2000; i++) if (sequential(p, OUTAGE, rand).verdict === 'recovered') enabled++;
    expect(enabled / 2000).toBeLessThanOrEqual(maxRate);
  });
});

describe('when to look at the probe again', () => {
  const INTERVAL = 2_000;
  // A hard outage (3% success) measured over 400 attempts: H0 well below the threshold.
  const outage = outageRate([{ successes: 12, attempts: 400 }], THRESHOLD);
  const decide = (ok: number, bad: number) => decideRecovery(ok, bad, BASELINE, THRESHOLD, settings, { outage, provenFailing: true, floorPercent: 2.5 });

  test('leaning toward recovery on a busy scope: as soon as the widened share brings the missing samples', () => {
    const d = decide(3, 0);
    expect(d.verdict).toBe('insufficient');
    expect(d.probePercent).toBe(50);
    // 17 samples short of MIN_PROBE_SAMPLES at 50% of 72 attempts/s: 0.47 s, raised to a quarter interval.
    expect(nextLookMs(d, settings.minSamples, 72, INTERVAL)).toBe(INTERVAL / 4);
    // At 20 attempts/s the 17 samples take 1.7 s.
    expect(nextLookMs(d, settings.minSamples, 20, INTERVAL)).toBeCloseTo(1_700, 0);
  });

  test('counts the samples llr still needs to reach the bound, at the rate it gained so far', () => {
    // Against H0 at the threshold, 21 straight successes give llr 3.41 of 4.55: 8 more needed.
    const d = decideRecovery(21, 0, BASELINE, THRESHOLD, settings);
    expect(d.verdict).toBe('insufficient');
    expect(d.probePercent).toBe(50);
    // 8 samples at 50% of 10 attempts/s: 1.6 s.
    expect(nextLookMs(d, settings.minSamples, 10, INTERVAL)).toBeCloseTo(1_600, 0);
  });

  test('keeps the interval when the evidence does not lean toward recovery, is decided, or the traffic is unknown', () => {
    expect(nextLookMs(decide(0, 0), settings.minSamples, 72, INTERVAL)).toBe(INTERVAL);
    expect(nextLookMs(decide(1, 3), settings.minSamples, 72, INTERVAL)).toBe(INTERVAL);
    expect(nextLookMs(decide(30, 0), settings.minSamples, 72, INTERVAL)).toBe(INTERVAL);
    expect(nextLookMs(decide(3, 0), settings.minSamples, undefined, INTERVAL)).toBe(INTERVAL);
    expect(nextLookMs(decide(3, 0), settings.minSamples, 0, INTERVAL)).toBe(INTERVAL);
  });

  test('a quiet scope waits no longer than the interval', () => {
    expect(nextLookMs(decide(1, 0), settings.minSamples, 0.5, INTERVAL)).toBe(INTERVAL);
  });

  test('with the hypotheses given, a lean on one success looks again once the failures that would undo it should be in', () => {
    const hypotheses = { baseline: BASELINE, threshold: THRESHOLD, outage };
    // One success during a hard outage: the share widens to its maximum, and 19 samples short of
    // MIN_PROBE_SAMPLES at 50% of 15 attempts/s would keep it there for the whole interval.
    const d = decide(1, 0);
    expect(d.probePercent).toBe(50);
    expect(nextLookMs(d, settings.minSamples, 15, INTERVAL)).toBe(INTERVAL);
    // Two failures undo it (the success weighs 3.00, a failure 2.95); if still failing they come
    // at 7.5 probe attempts/s, 95% of them failures: 0.28 s, so the look comes at the soonest,
    // a quarter interval.
    const failure = decide(1, 1).llr - d.llr;
    expect(Math.floor(d.llr / -failure) + 1).toBe(2);
    expect(nextLookMs(d, settings.minSamples, 15, INTERVAL, hypotheses)).toBe(INTERVAL / 4);
    // On a quiet scope (1.5 attempts/s) those two failures would take 2.7 s: the interval holds.
    expect(nextLookMs(d, settings.minSamples, 1.5, INTERVAL, hypotheses)).toBe(INTERVAL);
  });

  test('the refutation never delays the look the proof would get, and changes nothing when the test does not lean', () => {
    const hypotheses = { baseline: BASELINE, threshold: THRESHOLD, outage };
    for (const [ok, bad, rate] of [[3, 0, 72], [3, 0, 20], [5, 1, 10], [1, 0, 0.5]] as const) {
      const d = decide(ok, bad);
      expect(nextLookMs(d, settings.minSamples, rate, INTERVAL, hypotheses)).toBeLessThanOrEqual(nextLookMs(d, settings.minSamples, rate, INTERVAL));
    }
    for (const d of [decide(0, 0), decide(1, 3), decide(30, 0)]) expect(nextLookMs(d, settings.minSamples, 72, INTERVAL, hypotheses)).toBe(INTERVAL);
    // Hypotheses that cannot be told apart bring nothing.
    expect(nextLookMs(decide(1, 0), settings.minSamples, 15, INTERVAL, { baseline: 0.5, threshold: 0.6 })).toBe(nextLookMs(decide(1, 0), settings.minSamples, 15, INTERVAL));
  });
});

describe('a probe success that should bring the next look forward', () => {
  const hard = outageRate([{ successes: 12, attempts: 400 }], THRESHOLD);
  const partial = outageRate([{ successes: 280, attempts: 400 }], THRESHOLD);
  const decide = (ok: number, bad: number, outage: number | undefined) => decideRecovery(ok, bad, BASELINE, THRESHOLD, settings, { outage, provenFailing: true, floorPercent: 2.5 });

  test('one success weighs ln(p1/p0): much during a hard outage, little during a partial one or without a measured outage', () => {
    expect(successWeight(BASELINE, THRESHOLD, hard)).toBeCloseTo(Math.log(BASELINE / hard!), 9);
    expect(successWeight(BASELINE, THRESHOLD, hard)).toBeGreaterThan(2.5);
    expect(successWeight(BASELINE, THRESHOLD, partial)).toBeLessThan(0.3);
    expect(successWeight(BASELINE, THRESHOLD)).toBeCloseTo(Math.log(BASELINE / THRESHOLD), 9);
    // No gap between the hypotheses: a success tells nothing.
    expect(successWeight(0.8, THRESHOLD, hard)).toBeGreaterThan(0);
    expect(successWeight(THRESHOLD, THRESHOLD)).toBe(0);
    expect(successWeight(Number.NaN, THRESHOLD, hard)).toBe(0);
  });

  test('a hard outage with no lean toward recovery wakes on a success: no samples yet, or proven still failing', () => {
    const weight = successWeight(BASELINE, THRESHOLD, hard);
    expect(wakesOnSuccess(decide(0, 0, hard), weight)).toBe(true);
    expect(wakesOnSuccess(decide(0, 3, hard), weight)).toBe(true);
    expect(decide(0, 3, hard).verdict).toBe('failing');
  });

  test('a success a quarter of the way to proof wakes: a hard outage measured on few outcomes, never a partial degradation', () => {
    // A quiet bank's outage measured on ten probe outcomes, all failures: its cautious rate (the
    // Wilson bound) keeps a success between a quarter and half of the way to proof.
    const fewFailures = outageRate([{ successes: 0, attempts: 10 }], THRESHOLD);
    const weight = successWeight(BASELINE, THRESHOLD, fewFailures);
    const d = decide(0, 0, fewFailures);
    expect(weight / d.upperBound).toBeGreaterThan(0.25);
    expect(weight / d.upperBound).toBeLessThan(0.5);
    expect(WAKING_SUCCESS_FRACTION).toBe(0.25);
    expect(wakesOnSuccess(d, weight, STRONG_SUCCESS_FRACTION)).toBe(false);
    expect(wakesOnSuccess(d, weight)).toBe(true);
    // A partial degradation's successes are ordinary outage traffic: still no wake.
    expect(wakesOnSuccess(decide(0, 0, partial), successWeight(BASELINE, THRESHOLD, partial), WAKING_SUCCESS_FRACTION)).toBe(false);
    // Nor while leaning.
    expect(wakesOnSuccess(decide(1, 0, fewFailures), weight, WAKING_SUCCESS_FRACTION)).toBe(false);
  });

  test('any outcome wakes the actor exactly while the test leans toward recovery on outcomes it has seen', () => {
    expect(wakesOnOutcome(decide(1, 0, hard))).toBe(true);
    expect(wakesOnOutcome(decide(3, 1, partial))).toBe(decide(3, 1, partial).llr > 0);
    // No samples, leaning toward failing, proven either way: the looks stay on the clock (or the success wake).
    expect(wakesOnOutcome(decide(0, 0, hard))).toBe(false);
    expect(wakesOnOutcome(decide(0, 1, hard))).toBe(false);
    expect(wakesOnOutcome(decide(0, 3, hard))).toBe(false);
    expect(wakesOnOutcome(decide(25, 0, hard))).toBe(false);
  });

  test('no wake while the test leans toward recovery (prompt looks come anyway), once it is proven, or when a success weighs little', () => {
    const weight = successWeight(BASELINE, THRESHOLD, hard);
    expect(wakesOnSuccess(decide(1, 0, hard), weight)).toBe(false);
    expect(decide(25, 0, hard).verdict).toBe('recovered');
    expect(wakesOnSuccess(decide(25, 0, hard), weight)).toBe(false);
    expect(wakesOnSuccess(decide(0, 0, partial), successWeight(BASELINE, THRESHOLD, partial))).toBe(false);
    expect(wakesOnSuccess(decide(0, 0, undefined), successWeight(BASELINE, THRESHOLD))).toBe(false);
  });
});

describe('restarting on doubt once "still failing" is proven', () => {
  const A = Math.log(0.95 / 0.01);
  const doubting = (ok: number, bad: number, provenFailing = true) => decideRecovery(ok, bad, BASELINE, THRESHOLD, settings, { provenFailing, restartsOnDoubt: true });

  test('a run leaning toward failing short of proof restarts, but only after a proof', () => {
    // Two failures: llr -2.70, above B.
    expect(doubting(0, 2).verdict).toBe('insufficient');
    expect(restartsOnDoubt(doubting(0, 2), true)).toBe(true);
    expect(restartsOnDoubt(doubting(5, 1), true)).toBe(true);
    expect(restartsOnDoubt(doubting(0, 2, false), false)).toBe(false);
  });

  test('no restart on no evidence, on a lean toward recovery, or on a verdict (a proof restarts anyway)', () => {
    expect(restartsOnDoubt(doubting(0, 0), true)).toBe(false);
    expect(restartsOnDoubt(doubting(9, 1), true)).toBe(false);
    expect(doubting(0, 3).verdict).toBe('failing');
    expect(restartsOnDoubt(doubting(0, 3), true)).toBe(false);
    expect(restartsOnDoubt(doubting(60, 0), true)).toBe(false);
  });

  test('a test that restarts on doubt proves recovery at a bound raised by ln 4', () => {
    expect(DOUBT_RESTART_RAISE).toBeCloseTo(Math.log(4), 12);
    expect(doubting(0, 0)).toMatchObject({ upperBound: A + Math.log(4), raised: Math.log(4) });
    // 29 successes prove it to the one-shot test (4.71 >= 4.55), not to the restarting one; 37 do (6.01 >= 5.94).
    expect(decideRecovery(29, 0, BASELINE, THRESHOLD, settings, { provenFailing: true }).verdict).toBe('recovered');
    expect(doubting(29, 0).verdict).toBe('insufficient');
    expect(doubting(37, 0).verdict).toBe('recovered');
    // Before a proof the test is one-shot: no raise.
    expect(doubting(29, 0, false)).toMatchObject({ verdict: 'recovered', upperBound: A });
    expect(doubting(29, 0, false).raised).toBeUndefined();
  });

  test('only where one success is weak evidence: a partial degradation, not a hard outage', () => {
    const hard = outageRate([{ successes: 12, attempts: 400 }], THRESHOLD);
    const partial = outageRate([{ successes: 280, attempts: 400 }], THRESHOLD);
    expect(strongSuccess(successWeight(BASELINE, THRESHOLD, hard), settings)).toBe(true);
    expect(strongSuccess(successWeight(BASELINE, THRESHOLD, partial), settings)).toBe(false);
    // The same line as waking on a success: half of the one-shot A (2.28 nats), halved alpha in a freeze raising it.
    expect(strongSuccess(2.28, settings)).toBe(true);
    expect(strongSuccess(2.27, settings)).toBe(false);
    expect(strongSuccess(2.28, { alpha: 0.005, beta: 0.05 })).toBe(false);
  });

  test('whether a success wakes the actor is judged against the one-shot bound', () => {
    // A success worth 1.3 nats: over a quarter of A (1.14), under a quarter of the raised bound (1.49).
    const outage = BASELINE / Math.exp(1.3);
    const weight = successWeight(BASELINE, THRESHOLD, outage);
    expect(weight).toBeCloseTo(1.3, 9);
    const d = decideRecovery(0, 0, BASELINE, THRESHOLD, settings, { outage, provenFailing: true, restartsOnDoubt: true });
    expect(d.upperBound * WAKING_SUCCESS_FRACTION).toBeGreaterThan(weight);
    expect(wakesOnSuccess(d, weight)).toBe(true);
  });
});

test('outcomes less those an ended run counted: the rest of the read, never below zero', () => {
  expect(lessCounted({ successes: 7, failures: 2, inFreeze: false }, { successes: 0, failures: 2 })).toEqual({ successes: 7, failures: 0, inFreeze: false });
  expect(lessCounted({ successes: 1, failures: 0 }, { successes: 3, failures: 1 })).toEqual({ successes: 0, failures: 0 });
  expect(lessCounted({ successes: 4, failures: 1 }, undefined)).toEqual({ successes: 4, failures: 1 });
});

describe('probe outcomes of a downtime', () => {
  const since = 100_000;
  const cs = [
    counter('upi:gpay', 'payu', since - 1, { probeSuccess: 100, probeFailure: 100 }),
    counter('upi:gpay', 'payu', since, { probeSuccess: 3, probeFailure: 1 }),
    counter('upi:gpay', 'payu', since + 60_000, { probeSuccess: 4, probeFailure: 2 }),
    counter('upi:gpay', 'razorpay', since, { probeSuccess: 50, probeFailure: 50 }),
    counter('card:visa', 'payu', since, { probeSuccess: 7, probeFailure: 0 }),
    counter('upi:gpay', 'payu', since + 10 * 60_000, { probeSuccess: 99, probeFailure: 99 }),
  ];

  test.each([
    ['a route', { method: 'upi:gpay', gateway: 'payu' }, { successes: 7, failures: 3 }],
    ['a method', { method: 'upi:gpay' }, { successes: 57, failures: 53 }],
    ['a gateway', { gateway: 'payu' }, { successes: 14, failures: 3 }],
    ['a scope with no traffic', { mode: 'wallet' }, { successes: 0, failures: 0 }],
  ])('sums probe outcomes since the downtime began for %s', (_name, scope, expected) => {
    expect(windowedProbe(cs, scope, since, since + 5 * 60_000)).toEqual(expected);
  });
});

describe('where a test restarted by "still failing" begins in its bucket', () => {
  const none = undefined;
  test.each<[string, { successes: number; failures: number }, { successes: number; failures: number } | undefined, boolean, { successes: number; failures: number } | undefined]>([
    ['as a rule it leaves out all the ended run counted there', { successes: 0, failures: 2 }, none, true, { successes: 0, failures: 2 }],
    ['a hard outage whose last bucket holds successes only: the new test keeps them', { successes: 1, failures: 0 }, none, true, none],
    ['kept less what an earlier run counted in the same bucket', { successes: 2, failures: 3 }, { successes: 0, failures: 3 }, true, { successes: 0, failures: 3 }],
    ['a failure in the bucket: left out', { successes: 2, failures: 1 }, none, true, { successes: 2, failures: 1 }],
    ['nothing in the bucket: left out as before', { successes: 0, failures: 0 }, none, true, { successes: 0, failures: 0 }],
    ['a partial degradation (a success is weak evidence): left out', { successes: 1, failures: 0 }, none, false, { successes: 1, failures: 0 }],
  ])('%s', (_name, inBucket, earlier, strong, seen) => {
    expect(seenAtRestart(inBucket, earlier, strong)).toEqual(seen);
  });
});
