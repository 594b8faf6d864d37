/** Scripted bucket-B outcomes read as the probe reads them, for the reducer's tables and the workflow tests. */
import type { ProbeRead } from '../../domain';

export const PROBE_BUCKET_MS = 20_000;

/**
 * A probe read over scripted bucket-B outcomes ([seconds after the first read's `since`,
 * success]), with counter buckets of 20 s from 5 s after that first `since`: the outcomes from
 * `since` to `now`, the bucket holding `now`, and that bucket's outcomes so far.
 */
export function bucketedRead(events: [number, boolean][]): (p: { since: number; now: number }) => ProbeRead {
  let t0: number | undefined;
  return ({ since, now }) => {
    t0 ??= since;
    const origin = t0 + 5_000;
    const bucketStart = origin + Math.floor((now - origin) / PROBE_BUCKET_MS) * PROBE_BUCKET_MS;
    const count = (from: number) => {
      const seen = events.map(([s, ok]) => [t0! + s * 1000, ok] as const).filter(([at]) => at >= from && at <= now);
      return { successes: seen.filter(([, ok]) => ok).length, failures: seen.filter(([, ok]) => !ok).length };
    };
    return { ...count(since), inFreeze: false, bucketStart, inBucket: count(bucketStart) };
  };
}
