/**
 * Recurring freeze windows: an iCalendar recurrence rule (RFC 5545 RRULE, through the rrule
 * library) anchored at a first start, each occurrence lasting a fixed duration, in UTC. "The last
 * two days of every month" is `FREQ=MONTHLY;BYMONTHDAY=-2` from a midnight, lasting 2 days.
 *
 * Not exported from domain/index.ts: workflows never expand recurrences (activities and the API
 * do), so the rule library stays out of the workflow bundle.
 */
import { RRule, rrulestr } from 'rrule';

export interface Recurrence {
  /** The RRULE, e.g. `FREQ=MONTHLY;BYMONTHDAY=-2` (an `RRULE:` prefix is allowed). */
  rule: string;
  /** The first occurrence's start: the anchor and the time of day of every occurrence. */
  dtstart: number;
  durationMs: number;
}

export interface Occurrence {
  startsAt: number;
  endsAt: number;
}

/** Frequencies a freeze window may recur at: a window recurring every hour or faster is no window. */
const FREQUENCIES = new Set([RRule.DAILY, RRule.WEEKLY, RRule.MONTHLY, RRule.YEARLY]);

/** The rule, or why it is refused (a message for the API's 400). */
export function parseRule(rule: string, dtstart: number): RRule | string {
  const text = rule.trim().replace(/^RRULE:/i, '');
  if (/[\r\n]|DTSTART|TZID/i.test(text)) return 'give one RRULE line without DTSTART or TZID (startsAt anchors it, in UTC)';
  let parsed: RRule;
  try {
    parsed = rrulestr(`RRULE:${text}`, { dtstart: new Date(dtstart) }) as RRule;
  } catch (err) {
    return `not an RFC 5545 recurrence rule (${err instanceof Error ? err.message : String(err)})`;
  }
  if (!(parsed instanceof RRule) || !FREQUENCIES.has(parsed.options.freq)) return 'FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY';
  if (parsed.after(new Date(dtstart), true) === null) return 'the rule has no occurrence at or after startsAt';
  return parsed;
}

function ruleOf(r: Recurrence): RRule {
  const parsed = parseRule(r.rule, r.dtstart);
  if (typeof parsed === 'string') throw new Error(`stored recurrence refused: ${parsed}`);
  return parsed;
}

/** The occurrence under way at `now` ([startsAt, endsAt)), if any. */
export function occurrenceAt(r: Recurrence, now: number): Occurrence | undefined {
  const rule = ruleOf(r);
  // Occurrences may overlap when the duration exceeds the gap: the latest start wins.
  const start = rule.before(new Date(now), true);
  if (!start) return undefined;
  const startsAt = start.getTime();
  return now < startsAt + r.durationMs ? { startsAt, endsAt: startsAt + r.durationMs } : undefined;
}

/** The next `count` occurrences that have not ended by `now`, the one under way first. */
export function nextOccurrences(r: Recurrence, now: number, count: number): Occurrence[] {
  const rule = ruleOf(r);
  const out: Occurrence[] = [];
  const current = occurrenceAt(r, now);
  if (current) out.push(current);
  let cursor = new Date(now);
  while (out.length < count) {
    const next = rule.after(cursor, false);
    if (!next) break;
    out.push({ startsAt: next.getTime(), endsAt: next.getTime() + r.durationMs });
    cursor = next;
  }
  return out;
}

/** When the last occurrence ends, or undefined when the rule never ends. */
export function recurrenceEnd(r: Recurrence): number | undefined {
  const rule = ruleOf(r);
  if (rule.options.until === null && rule.options.count === null) return undefined;
  const all = rule.all((_d, i) => i < 10_000);
  const last = all.at(-1);
  return last ? last.getTime() + r.durationMs : r.dtstart;
}
