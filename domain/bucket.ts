/**
 * A/B bucketing per downtime. A user's bucket must be the same on every request (so the
 * checkout does not flicker) and on every replica, yet independent across downtimes (so the
 * same users are not always the guinea pigs). Hashing `${userId}|${downtimeId}` gives both
 * with no state to share: FNV-1a 32-bit, then a finalizer (see fmix32), mod 10000.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a 32-bit over the UTF-8 bytes of `text`: fast, well spread for short ids, and easy to
 * reproduce in any language (the simulator and other services can compute the same buckets).
 */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  const byte = (b: number) => {
    hash = Math.imul(hash ^ b, FNV_PRIME);
  };
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) byte(cp);
    else if (cp < 0x800) {
      byte(0xc0 | (cp >> 6));
      byte(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      byte(0xe0 | (cp >> 12));
      byte(0x80 | ((cp >> 6) & 0x3f));
      byte(0x80 | (cp & 0x3f));
    } else {
      byte(0xf0 | (cp >> 18));
      byte(0x80 | ((cp >> 12) & 0x3f));
      byte(0x80 | ((cp >> 6) & 0x3f));
      byte(0x80 | (cp & 0x3f));
    }
  }
  return hash >>> 0;
}

/**
 * MurmurHash3's 32-bit finalizer. FNV-1a alone mixes its last bytes poorly: downtime ids that
 * differ only in their final character gave nearly disjoint probe sets, and random ids gave
 * overlaps 50% above the independent rate. The finalizer spreads every input bit over the
 * whole hash, so each downtime draws a fresh, independent sample of users.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * 'B' (probe: scope stays visible with a warning) for about `probePercent`% of users,
 * 'A' (scope hidden) for the rest. Resolution is 0.01%.
 */
export function bucketOf(userId: string, downtimeId: string, probePercent: number): 'A' | 'B' {
  return fmix32(fnv1a32(`${userId}|${downtimeId}`)) % 10000 < probePercent * 100 ? 'B' : 'A';
}
