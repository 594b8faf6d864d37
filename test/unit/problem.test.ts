import { ProblemSettings, isRecurring } from '../../domain';

const DAY = 86_400_000;
const NOW = 100 * DAY;
const settings: ProblemSettings = { threshold: 3, windowMs: 7 * DAY };

describe('recurring problems', () => {
  test.each<[string, number[], boolean]>([
    ['no downtimes are not a problem', [], false],
    ['two downtimes this week are not yet a problem', [NOW - DAY, NOW - 2 * DAY], false],
    ['three downtimes this week are a problem', [NOW - DAY, NOW - 2 * DAY, NOW], true],
    ['downtimes older than the window do not count', [NOW - 8 * DAY, NOW - 7 * DAY, NOW - DAY, NOW], false],
    ['a downtime just inside the window counts', [NOW - 7 * DAY + 1, NOW - DAY, NOW], true],
    ['future timestamps do not count', [NOW + DAY, NOW - DAY, NOW], false],
  ])('%s', (_name, starts, expected) => {
    expect(isRecurring(starts, NOW, settings)).toBe(expected);
  });
});
