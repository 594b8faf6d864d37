import { bucketOf, bucketSeed, bucketSlot, fmix32, fnv1a32 } from '../../domain';
import { mulberry32 } from '../../sim/random';

describe('FNV-1a hash', () => {
  // Published FNV-1a 32-bit test vectors.
  test.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('hashes %j like the reference implementation', (text, hash) => {
    expect(fnv1a32(text)).toBe(hash);
  });

  test('hashes non-ASCII text as its UTF-8 bytes', () => {
    // "é" is 0xC3 0xA9 in UTF-8.
    const expected = Math.imul(Math.imul(0x811c9dc5 ^ 0xc3, 0x01000193) ^ 0xa9, 0x01000193) >>> 0;
    expect(fnv1a32('é')).toBe(expected);
  });

  /** The byte-by-byte definition: each code point's UTF-8 bytes through FNV-1a. */
  const reference = (text: string) => {
    let hash = 0x811c9dc5;
    for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
    return hash >>> 0;
  };

  test('hashes any text as its UTF-8 bytes: ASCII, accents, CJK, emoji (surrogate pairs)', () => {
    const random = mulberry32(240);
    const alphabet = ['a', 'Z', '0', '_', '|', 'é', 'ß', '€', '日本', '😀', '🇮🇳', ' '];
    for (let n = 0; n < 2_000; n += 1) {
      const text = Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]!).join('');
      expect(fnv1a32(text)).toBe(reference(text));
    }
  });

  test('the slot from a user seed equals hashing user and downtime together', () => {
    const random = mulberry32(241);
    for (let n = 0; n < 2_000; n += 1) {
      const user = `user_${Math.floor(random() * 1e9).toString(36)}${n % 7 === 0 ? 'é😀' : ''}`;
      const downtime = `dt_${Math.floor(random() * 1e12).toString(36)}`;
      expect(bucketSlot(bucketSeed(user), downtime)).toBe(fmix32(reference(`${user}|${downtime}`)) % 10000);
    }
  });
});

describe('probe buckets', () => {
  const users = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
  const shareB = (downtimeId: string, percent: number) => users.filter((u) => bucketOf(u, downtimeId, percent) === 'B').length / users.length;

  test.each([1, 5, 10, 25, 50])('puts about %i%% of 100k users in the probe bucket', (percent) => {
    expect(Math.abs(shareB('dt-1', percent) - percent / 100)).toBeLessThan(0.005);
  });

  test.each([
    [0, 0],
    [100, 1],
  ])('puts %i%% probe share at exactly %i', (percent, share) => {
    expect(shareB('dt-1', percent)).toBe(share);
  });

  test('keeps each user in the same bucket on every call', () => {
    const first = users.slice(0, 1000).map((u) => bucketOf(u, 'dt-1', 10));
    const again = users.slice(0, 1000).map((u) => bucketOf(u, 'dt-1', 10));
    expect(again).toEqual(first);
  });

  test('keeps users in B when the probe widens (B only grows)', () => {
    const lost = users.filter((u) => bucketOf(u, 'dt-1', 10) === 'B' && bucketOf(u, 'dt-1', 30) === 'A');
    expect(lost).toEqual([]);
  });

  test.each([
    ['dt-1', 'dt-2'],
    ['dt_0000000000000000000a', 'dt_0000000000000000000b'],
    ['dt_3f9a1c0b7e2d4a6f8c1b', 'dt_a07c55e19b3d2f40e6a8'],
  ])('draws an independent set of probe users for downtimes %s and %s', (a, b) => {
    // Independent 10% samples overlap on about 10% of 10% of users (sd 0.0003 over 100k).
    const inBoth = users.filter((u) => bucketOf(u, a, 10) === 'B' && bucketOf(u, b, 10) === 'B').length / users.length;
    expect(Math.abs(inBoth - 0.01)).toBeLessThan(0.0015);
  });
});
