import { ProbeDecision, ProbeTick, decideTick } from '../../domain';

const decision = (verdict: ProbeDecision['verdict']): ProbeDecision => ({
  verdict,
  samples: 40,
  successes: 38,
  llr: 0,
  upperBound: 4.55,
  lowerBound: -2.99,
  probePercent: 10,
});

const EXPIRES = 10_000;

describe('probe tick', () => {
  test.each<[string, ProbeDecision['verdict'], number, number | undefined, ProbeTick['kind'], string | undefined]>([
    ['re-enables as soon as recovery is proven', 'recovered', 5_000, undefined, 'close', 'recovered'],
    ['re-enables on proven recovery after expiry too', 'recovered', 20_000, undefined, 'close', 'recovered'],
    ['holds a proven recovery until an operator extension ends', 'recovered', 5_000, 15_000, 'continue', undefined],
    ['re-enables a proven recovery once the extension ends', 'recovered', 15_000, 15_000, 'close', 'recovered'],
    ['keeps waiting for probe samples before expiry', 'insufficient', 9_999, undefined, 'continue', undefined],
    ['re-enables on expiry when the probe gets too few attempts', 'insufficient', 10_000, undefined, 'close', 'expired'],
    ['does not expire during an operator extension', 'insufficient', 12_000, 15_000, 'continue', undefined],
    ['expires once the extension ends', 'insufficient', 15_000, 15_000, 'close', 'expired'],
    ['ignores an extension that ends before expiry', 'insufficient', 10_000, 8_000, 'close', 'expired'],
    ['stays disabled while the probe shows it is still failing', 'failing', 5_000, undefined, 'continue', undefined],
    ['extends at expiry when the evidence says it is still down', 'failing', 20_000, undefined, 'extend', 'still failing at expiry'],
  ])('%s', (_name, verdict, now, extendedUntil, kind, reason) => {
    const tick = decideTick({ decision: decision(verdict), now, expiresAt: EXPIRES, extendedUntil, expiryMs: EXPIRES });
    expect(tick.kind).toBe(kind);
    if (reason !== undefined) expect(tick.reason).toBe(reason);
    else expect(tick.reason.length).toBeGreaterThan(0);
  });
});

describe('expiry after a "still failing" conclusion', () => {
  test.each<[string, number | undefined, ProbeTick['kind']]>([
    ['extends when the probe concluded failing within the last expiry period', 15_000, 'extend'],
    ['expires when the last failing conclusion is older than an expiry period', 5_000, 'close'],
    ['expires when the probe never concluded failing', undefined, 'close'],
  ])('%s', (_name, lastFailingAt, kind) => {
    const tick = decideTick({ decision: decision('insufficient'), now: 20_000, expiresAt: EXPIRES, expiryMs: EXPIRES, lastFailingAt });
    expect(tick.kind).toBe(kind);
    if (tick.kind === 'extend') expect(tick.expiresAt).toBe(30_000);
  });
});

describe('flap guard: a reopened downtime holds a recovery', () => {
  const HOLD = 4_000;
  test.each<[string, ProbeDecision['verdict'], number, number | undefined, number | undefined, ProbeTick['kind'], string | undefined]>([
    ['holds the first proof of recovery', 'recovered', 5_000, 5_000, undefined, 'continue', 'recovered, held by the flap guard'],
    ['keeps holding while the fresh looks prove nothing either way', 'insufficient', 8_999, 5_000, undefined, 'continue', 'recovered, held by the flap guard'],
    ['re-enables once the recovery held that long', 'insufficient', 9_000, 5_000, undefined, 'close', 'recovered'],
    ['holds through the expiry: the latest evidence is that it is healthy', 'insufficient', 12_000, 11_000, undefined, 'continue', 'recovered, held by the flap guard'],
    ['still waits for an operator extension after the hold', 'recovered', 12_000, 5_000, 15_000, 'continue', 'recovered, held until the extension ends'],
    ['a failing look ends the hold (the caller clears recoveredSince)', 'failing', 8_000, 5_000, undefined, 'continue', 'still failing'],
  ])('%s', (_name, verdict, now, recoveredSince, extendedUntil, kind, reason) => {
    const tick = decideTick({ decision: decision(verdict), now, expiresAt: EXPIRES, extendedUntil, expiryMs: EXPIRES, holdMs: HOLD, recoveredSince });
    expect(tick).toMatchObject({ kind, reason });
  });

  test('without a hold a proof of recovery closes at once, as before', () => {
    expect(decideTick({ decision: decision('recovered'), now: 5_000, expiresAt: EXPIRES, expiryMs: EXPIRES, holdMs: 0, recoveredSince: 5_000 })).toMatchObject({ kind: 'close', reason: 'recovered' });
  });
});
