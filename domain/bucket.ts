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
  return fnvContinue(FNV_OFFSET, text) >>> 0;
}

/** FNV-1a's state after feeding `text`'s UTF-8 bytes to state `hash`. */
function fnvContinue(hash: number, text: string): number {
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) {
      hash = Math.imul(hash ^ unit, FNV_PRIME);
      continue;
    }
    let cp = unit;
    // A surrogate pair is one code point; a lone surrogate is encoded as itself (as for...of did).
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
        i += 1;
      }
    }
    if (cp < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (cp >> 6)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
    } else if (cp < 0x10000) {
      hash = Math.imul(hash ^ (0xe0 | (cp >> 12)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
    } else {
      hash = Math.imul(hash ^ (0xf0 | (cp >> 18)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
    }
  }
  return hash;
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

/** The hash state of `${userId}|`: a user's slots for many downtimes hash the user id once. */
export function bucketSeed(userId: string): number {
  return fnvContinue(FNV_OFFSET, `${userId}|`);
}

/** The user's slot in [0, 10000) for the downtime: bucket B at share p% is the slots below p × 100. */
export function bucketSlot(seed: number, downtimeId: string): number {
  return fmix32(fnvContinue(seed, downtimeId) >>> 0) % 10000;
}

/**
 * 'B' (probe: scope stays visible with a warning) for about `probePercent`% of users,
 * 'A' (scope hidden) for the rest. Resolution is 0.01%.
 */
export function bucketOf(userId: string, downtimeId: string, probePercent: number): 'A' | 'B' {
  return bucketSlot(bucketSeed(userId), downtimeId) < probePercent * 100 ? 'B' : 'A';
}
