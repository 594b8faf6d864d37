/** Recurring freeze windows: RFC 5545 rules anchored in UTC, each occurrence a fixed duration. */
import { nextOccurrences, occurrenceAt, parseRule, recurrenceEnd } from '../../domain/recurrence';

const at = (s: string) => Date.parse(s);
const DAY = 86_400_000;
/** The last two days of every month, from the end of January 2027. */
const monthEnd = { rule: 'FREQ=MONTHLY;BYMONTHDAY=-2', dtstart: at('2027-01-30T00:00:00Z'), durationMs: 2 * DAY };
const shown = (os: { startsAt: number; endsAt: number }[]) => os.map((o) => `${new Date(o.startsAt).toISOString().slice(0, 10)}..${new Date(o.endsAt).toISOString().slice(0, 10)}`);

test('the month-end rule covers the last two days of each month, a leap February included', () => {
  expect(shown(nextOccurrences(monthEnd, at('2027-01-15T00:00:00Z'), 3))).toEqual(['2027-01-30..2027-02-01', '2027-02-27..2027-03-01', '2027-03-30..2027-04-01']);
  expect(shown(nextOccurrences(monthEnd, at('2028-02-10T00:00:00Z'), 2))).toEqual(['2028-02-28..2028-03-01', '2028-03-30..2028-04-01']);
});

test.each([
  ['2027-02-26T23:59:59Z', undefined],
  ['2027-02-27T00:00:00Z', '2027-02-27..2027-03-01'],
  ['2027-02-28T23:59:59Z', '2027-02-27..2027-03-01'],
  ['2027-03-01T00:00:00Z', undefined],
  ['2028-02-27T23:00:00Z', undefined],
  ['2028-02-29T12:00:00Z', '2028-02-28..2028-03-01'],
])('at %s the window under way is %s', (now, window) => {
  const o = occurrenceAt(monthEnd, at(now));
  expect(o ? shown([o])[0] : undefined).toBe(window);
});

test('the occurrence under way is listed first, then the next ones', () => {
  expect(shown(nextOccurrences(monthEnd, at('2027-02-28T10:00:00Z'), 2))).toEqual(['2027-02-27..2027-03-01', '2027-03-30..2027-04-01']);
});

test('a rule with an end ends with its last occurrence; one without has no end', () => {
  expect(recurrenceEnd({ ...monthEnd, rule: 'FREQ=MONTHLY;BYMONTHDAY=-2;COUNT=3' })).toBe(at('2027-04-01T00:00:00Z'));
  expect(recurrenceEnd(monthEnd)).toBeUndefined();
});

test.each([
  ['FREQ=HOURLY', /FREQ must be/],
  ['FREQ=MINUTELY;INTERVAL=5', /FREQ must be/],
  ['DTSTART:20270101T000000Z\nRRULE:FREQ=DAILY', /without DTSTART/],
  ['FREQ=DAILY;TZID=Asia/Kolkata', /without DTSTART or TZID/],
  ['every month end', /not an RFC 5545/],
  ['FREQ=MONTHLY;UNTIL=20260101T000000Z', /no occurrence/],
])('%s is refused', (rule, message) => {
  expect(parseRule(rule, monthEnd.dtstart)).toMatch(message);
});

test('an RRULE: prefix is accepted', () => {
  expect(typeof parseRule('RRULE:FREQ=WEEKLY;BYDAY=FR', monthEnd.dtstart)).toBe('object');
});
