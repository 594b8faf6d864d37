import { FreezeWindow, ProbeSettings, activeFreeze, freezeAdjustedProbe } from '../../domain';

const windows: FreezeWindow[] = [
  { id: 'w-1111', name: '11.11', startsAt: 1000, endsAt: 2000 },
  { id: 'w-month', name: 'month end', startsAt: 1500, endsAt: 3000 },
];

describe('freeze windows', () => {
  test.each<[number, string | undefined]>([
    [999, undefined],
    [1000, 'w-1111'],
    [1499, 'w-1111'],
    [1500, 'w-month'],
    [2000, 'w-month'],
    [2999, 'w-month'],
    [3000, undefined],
  ])('at %i the active freeze is %s (start inclusive, end exclusive, longest wins)', (now, id) => {
    expect(activeFreeze(windows, now)?.id).toBe(id);
  });

  test('finds none when no window is configured', () => {
    expect(activeFreeze([], 1500)).toBeUndefined();
  });

  const probe: ProbeSettings = { minSamples: 30, alpha: 0.01, beta: 0.05, basePercent: 10, maxPercent: 50 };

  test('demands stronger evidence of recovery during a freeze: half the false-enable rate, twice the samples', () => {
    expect(freezeAdjustedProbe(probe, true)).toEqual({ ...probe, alpha: 0.005, minSamples: 60 });
  });

  test('keeps the probe at its maximum during a freeze while a proven recovery waits for its samples', () => {
    expect(freezeAdjustedProbe({ ...probe, provenPercent: 100 }, true)).toEqual({ ...probe, alpha: 0.005, minSamples: 60 });
    expect(freezeAdjustedProbe({ ...probe, provenPercent: 100 }, false)).toEqual({ ...probe, provenPercent: 100 });
  });

  test('leaves the probe settings alone outside a freeze and never mutates them', () => {
    expect(freezeAdjustedProbe(probe, false)).toEqual(probe);
    freezeAdjustedProbe(probe, true);
    expect(probe.alpha).toBe(0.01);
  });
});
