import { FlapSettings, PreviousDowntime, reopenPlan } from '../../domain';

const MINUTE = 60_000;
const settings: FlapSettings = { windowMs: 30 * MINUTE, multiplier: 2, maxExpiryMs: 120 * MINUTE };
const BASE = 15 * MINUTE;
const prev = (expiryMin: number): PreviousDowntime => ({ id: 'dt_prev', resolvedAt: 0, expiryMs: expiryMin * MINUTE });

describe('flap guard', () => {
  test.each<[string, PreviousDowntime | undefined, number, { expiryMs: number; reopensId?: string }]>([
    ['opens a fresh downtime when the scope has no history', undefined, 0, { expiryMs: BASE }],
    ['reopens a scope failing again soon after re-enable with twice the expiry', prev(15), 5 * MINUTE, { expiryMs: 30 * MINUTE, reopensId: 'dt_prev' }],
    ['reopens right at the edge of the flap window', prev(15), 30 * MINUTE, { expiryMs: 30 * MINUTE, reopensId: 'dt_prev' }],
    ['keeps growing the expiry on repeated flaps', prev(30), MINUTE, { expiryMs: 60 * MINUTE, reopensId: 'dt_prev' }],
    ['caps the grown expiry', prev(90), MINUTE, { expiryMs: 120 * MINUTE, reopensId: 'dt_prev' }],
    ['never gives a reopen less than a fresh downtime would get', prev(5), MINUTE, { expiryMs: BASE, reopensId: 'dt_prev' }],
    ['treats a failure long after re-enable as a new downtime', prev(60), 31 * MINUTE, { expiryMs: BASE }],
  ])('%s', (_name, previous, now, expected) => {
    expect(reopenPlan(previous, now, BASE, settings)).toEqual(expected);
  });
});
