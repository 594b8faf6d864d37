/**
 * The probe's shared reads (activities/probe.ts): looks that ask while a read is in flight share
 * the next one, which begins after each of them asked and covers all their windows; and a shared
 * read gives each scope what the domain's windowedProbe gives over every counter.
 */
import { ProbeReadQueue, SharedProbeRead } from '../../activities/probe';
import { scopeMatchesRoute, topologyOf, windowedProbe } from '../../domain';
import type { RouteCounter, Scope } from '../../domain';
import { mulberry32 } from '../../sim/random';

/** A read the test finishes by hand, recording when it began and what it covered. */
function manualReads() {
  const calls: { from: number; to: number; begunAfter: number; finish(): void; fail(e: Error): void }[] = [];
  let asked = 0;
  const read = (from: number, to: number) =>
    new Promise<SharedProbeRead>((resolve, reject) => {
      const shared = new SharedProbeRead([], topologyOf({ methods: [] }), []);
      calls.push({ from, to, begunAfter: asked, finish: () => resolve(shared), fail: reject });
    });
  const ask = (queue: ProbeReadQueue, from: number, now: number) => {
    asked += 1;
    return queue.get({ from, now });
  };
  return { calls, read, ask };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('the probe read queue', () => {
  test('looks asking while a read runs share the next read, which covers every window and begins after they all asked', async () => {
    const m = manualReads();
    const queue = new ProbeReadQueue(m.read);
    const first = m.ask(queue, 100, 500);
    await settle();
    expect(m.calls).toHaveLength(1);
    // Three looks ask while the first read is in flight: none may be served by it.
    const later = [m.ask(queue, 50, 600), m.ask(queue, 300, 700), m.ask(queue, 200, 650)];
    await settle();
    expect(m.calls).toHaveLength(1);
    m.calls[0]!.finish();
    await first;
    await settle();
    expect(m.calls).toHaveLength(2);
    expect(m.calls[1]).toMatchObject({ from: 50, to: 700, begunAfter: 4 });
    m.calls[1]!.finish();
    const served = await Promise.all(later);
    expect(new Set(served).size).toBe(1);
    expect(served[0]).not.toBe(await first);
    await settle();
    expect(m.calls).toHaveLength(2);
  });

  test('a failed read fails the looks it was for, and the looks after it are read again', async () => {
    const m = manualReads();
    const queue = new ProbeReadQueue(m.read);
    const failing = m.ask(queue, 0, 10);
    await settle();
    const next = m.ask(queue, 0, 20);
    m.calls[0]!.fail(new Error('database unreachable'));
    await expect(failing).rejects.toThrow('database unreachable');
    await settle();
    expect(m.calls).toHaveLength(2);
    m.calls[1]!.finish();
    await expect(next).resolves.toBeInstanceOf(SharedProbeRead);
  });
});

describe('a shared probe read', () => {
  test('gives every scope and window what windowedProbe gives over all the counters', () => {
    const random = mulberry32(77);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const methods = Array.from({ length: 12 }, (_, i) => ({ method: `${pick(['upi', 'card', 'netbanking'])}:m${i}`, attributes: { issuer: pick(['hdfc', 'sbi']), ...(i % 2 ? { network: 'visa' } : {}) } }));
    const gateways = ['razorpay', 'payu', 'cashfree'];
    const topo = topologyOf({ methods, gateways: [{ gateway: 'payu', aggregator: 'agg1' }] });
    const counters: RouteCounter[] = [];
    for (let bucket = 0; bucket < 20; bucket += 1) {
      for (const m of methods) {
        for (const gateway of gateways) {
          if (random() < 0.3) continue;
          counters.push({ method: m.method, gateway, bucketStart: bucket * 10_000, success: 5, systemFailure: 1, userFailure: 0, probeSuccess: Math.floor(random() * 4), probeFailure: Math.floor(random() * 4), covered: 2 });
        }
      }
    }
    const shared = new SharedProbeRead(counters, topo, []);
    const scopes: Scope[] = [
      ...methods.slice(0, 4).map((m) => ({ method: m.method })),
      { method: methods[5]!.method, gateway: 'payu' }, { mode: 'card' }, { gateway: 'cashfree' }, { aggregator: 'agg1' },
      { issuer: 'hdfc' }, { network: 'visa', gateway: 'payu' }, { method: 'upi:elsewhere' },
    ];
    let nonZero = 0;
    for (const scope of scopes) {
      for (let i = 0; i < 10; i += 1) {
        const since = Math.floor(random() * 200_000);
        const now = since + Math.floor(random() * 100_000);
        const expected = windowedProbe(counters, scope, since, now, topo);
        expect(shared.outcomes(scope, since, now)).toEqual(expected);
        if (expected.successes + expected.failures > 0) nonZero += 1;
      }
    }
    expect(nonZero).toBeGreaterThan(50);
    expect(counters.some((c) => scopeMatchesRoute({ aggregator: 'agg1' }, c, topo))).toBe(true);
  });

  test('tells whether a freeze window, one-off or recurring, is on at each look', () => {
    const day = Date.UTC(2026, 11, 1);
    const shared = new SharedProbeRead([], topologyOf({ methods: [] }), [
      { _id: 'fw_sale', name: 'sale', startsAt: new Date(day + 3_600_000), endsAt: new Date(day + 7_200_000), createdAt: new Date(day) },
      { _id: 'fw_month_end', name: 'month end', startsAt: new Date(day), endsAt: new Date(day + 365 * 86_400_000), recurrence: { rule: 'FREQ=DAILY', durationMs: 600_000 }, createdAt: new Date(day) },
    ]);
    expect(shared.inFreeze(day + 5_400_000)).toBe(true);
    expect(shared.inFreeze(day + 2 * 86_400_000 + 60_000)).toBe(true);
    expect(shared.inFreeze(day + 2 * 86_400_000 + 900_000)).toBe(false);
  });
});
