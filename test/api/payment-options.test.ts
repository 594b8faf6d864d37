/** GET /v1/payment-options: gateway failover, bucket A hidden / bucket B probe, dynamic order, all from the snapshot. */
import { FAILOVER_PROBE_FRACTION } from '../../api/snapshot';
import { counterDoc } from '../support/counters';
import { bucketOf } from '../../domain';
import type { Scope } from '../../domain';
import { mulberry32 } from '../../sim/random';
import { Harness, KEYS, bearer, insertDowntime, putCatalog, reset, startApi, usersByBucket } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => h?.close());
beforeEach(async () => reset(h));

const options = (userId: string, key = KEYS.checkout) =>
  h.app.inject({ method: 'GET', url: `/v1/payment-options?userId=${encodeURIComponent(userId)}`, headers: bearer(key) });

/** Writes per-route counters for the last detection window: `successes` out of `attempts`. */
async function recentRate(method: string, gateway: string, successes: number, attempts: number) {
  const bucketMs = h.config.detection.counterBucketMs;
  const bucketStart = Math.floor((Date.now() - 5_000) / bucketMs) * bucketMs;
  await h.db.c.counters.insertOne(counterDoc(bucketStart, [{ method, gateway, success: successes, systemFailure: attempts - successes }], 'fixture', `${method}@${gateway}@${bucketStart}`));
}

test('refuses without a key (401), with an ingest key (403), and without a valid userId (400 naming userId)', async () => {
  expect((await h.app.inject({ method: 'GET', url: '/v1/payment-options?userId=u1' })).statusCode).toBe(401);
  expect((await options('u1', KEYS.ingest)).statusCode).toBe(403);
  const missing = await h.app.inject({ method: 'GET', url: '/v1/payment-options', headers: bearer(KEYS.checkout) });
  expect(missing.statusCode).toBe(400);
  expect(missing.json()).toMatchObject({ field: 'userId' });
  const tooLong = await options('u'.repeat(129));
  expect(tooLong.statusCode).toBe(400);
  expect(tooLong.json()).toMatchObject({ field: 'userId' });
  const empty = await h.app.inject({ method: 'GET', url: '/v1/payment-options?userId=', headers: bearer(KEYS.checkout) });
  expect(empty.statusCode).toBe(400);
});

test('offers nothing before a catalog is configured', async () => {
  const res = await options('u1');
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual({ options: [], unavailable: [] });
});

test('offers every catalog method through its first gateway when nothing is down', async () => {
  await putCatalog(h, [
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'] },
    { method: 'card:hdfc_debit', gateways: ['payu'] },
  ]);
  expect((await options('u1')).json()).toEqual({
    options: [
      { method: 'upi:gpay', mode: 'upi', gateway: 'razorpay', state: 'available' },
      { method: 'card:hdfc_debit', mode: 'card', gateway: 'payu', state: 'available' },
    ],
    unavailable: [],
  });
});

test('fails over to the second gateway when the first route is under a disabled downtime', async () => {
  await putCatalog(h, [{ method: 'upi:gpay', gateways: ['razorpay', 'payu'] }]);
  const downtime = await insertDowntime(h, { method: 'upi:gpay', gateway: 'razorpay' });
  // Bucket A of the downtime (bucket B's failover probers are the next test's).
  const users = Array.from({ length: 200 }, (_, i) => `u${i}`).filter((u) => bucketOf(u, downtime._id, downtime.probePercent) === 'A').slice(0, 3);
  for (const user of users) {
    expect((await options(user)).json()).toEqual({
      options: [{ method: 'upi:gpay', mode: 'upi', gateway: 'payu', state: 'available' }],
      unavailable: [],
    });
  }
});

test('keeps a fifth of bucket B paying through a failed-over gateway, as a probe with a warning, so it can prove recovery', async () => {
  await putCatalog(h, [{ method: 'upi:gpay', gateways: ['razorpay', 'payu'] }]);
  const downtime = await insertDowntime(h, { method: 'upi:gpay', gateway: 'razorpay' }, { probePercent: 50 });
  const share = 50 * FAILOVER_PROBE_FRACTION;
  const users = Array.from({ length: 2000 }, (_, i) => `user_${i}`);
  const prober = users.find((u) => bucketOf(u, downtime._id, share) === 'B')!;
  const bucketBOnly = users.find((u) => bucketOf(u, downtime._id, 50) === 'B' && bucketOf(u, downtime._id, share) === 'A')!;
  expect((await options(prober)).json()).toEqual({
    options: [{ method: 'upi:gpay', mode: 'upi', gateway: 'razorpay', state: 'probe', warning: expect.stringMatching(/upi:gpay.*trouble/) }],
    unavailable: [],
  });
  expect((await options(bucketBOnly)).json().options).toEqual([{ method: 'upi:gpay', mode: 'upi', gateway: 'payu', state: 'available' }]);
  // About a fifth of the probe share pays through the covered gateway; ingest counts them in bucket B.
  const probing = users.filter((u) => h.app.deps.snapshot.optionsFor(u).options[0]!.state === 'probe');
  expect(probing.length / users.length).toBeGreaterThan(0.07);
  expect(probing.length / users.length).toBeLessThan(0.13);
  expect(probing.every((u) => bucketOf(u, downtime._id, 50) === 'B')).toBe(true);
});

test('a whole-gateway downtime moves every method it carries to the next gateway', async () => {
  await putCatalog(h, [
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'] },
    { method: 'card:visa', gateways: ['razorpay', 'cashfree'] },
  ]);
  const downtime = await insertDowntime(h, { gateway: 'razorpay' });
  const { a } = usersByBucket(downtime._id, downtime.probePercent);
  const body = (await options(a)).json() as { options: { method: string; gateway: string; state: string }[] };
  expect(body.options.map((o) => `${o.method}@${o.gateway}:${o.state}`).sort()).toEqual(['card:visa@cashfree:available', 'upi:gpay@payu:available']);
});

test('hides a method with no healthy gateway from bucket A and shows it to bucket B as a probe with a warning, last', async () => {
  await putCatalog(h, [
    { method: 'netbanking:sbi', gateways: ['payu', 'razorpay'], priority: 50 },
    { method: 'upi:gpay', gateways: ['razorpay'] },
  ]);
  const downtime = await insertDowntime(h, { method: 'netbanking:sbi' }, { probePercent: 30 });
  const { a, b } = usersByBucket(downtime._id, 30);

  expect((await options(a)).json()).toEqual({
    options: [{ method: 'upi:gpay', mode: 'upi', gateway: 'razorpay', state: 'available' }],
    unavailable: [{ method: 'netbanking:sbi', downtimeId: downtime._id }],
  });

  const probe = (await options(b)).json() as { options: Record<string, string>[]; unavailable: unknown[] };
  expect(probe.unavailable).toEqual([]);
  expect(probe.options).toEqual([
    { method: 'upi:gpay', mode: 'upi', gateway: 'razorpay', state: 'available' },
    { method: 'netbanking:sbi', mode: 'netbanking', gateway: 'payu', state: 'probe', warning: expect.stringMatching(/netbanking:sbi.*trouble/) },
  ]);
});

test('a user keeps the same bucket for a downtime across requests', async () => {
  await putCatalog(h, [{ method: 'wallet:paytm', gateways: ['paytm'] }]);
  const downtime = await insertDowntime(h, { mode: 'wallet' }, { probePercent: 50 });
  const { a, b } = usersByBucket(downtime._id, 50);
  for (let i = 0; i < 3; i += 1) {
    expect((await options(a)).json().unavailable).toHaveLength(1);
    expect((await options(b)).json().options[0].state).toBe('probe');
  }
});

test('orders methods by what currently succeeds, within their catalog priority', async () => {
  await putCatalog(h, [
    { method: 'upi:gpay', gateways: ['razorpay'] },
    { method: 'upi:phonepe', gateways: ['razorpay'] },
    { method: 'card:visa', gateways: ['payu'] },
    { method: 'wallet:paytm', gateways: ['paytm'], priority: 5 },
  ]);
  await recentRate('upi:gpay', 'razorpay', 40, 100);
  await recentRate('upi:phonepe', 'razorpay', 99, 100);
  await h.app.deps.snapshot.refreshNow();
  const order = ((await options('u1')).json() as { options: { method: string }[] }).options.map((o) => o.method);
  // paytm: 5 + 10 × 0.9 (no recent attempts: baseline); phonepe ≈ 9.9; visa: 9 (baseline); gpay ≈ 4.2.
  expect(order).toEqual(['wallet:paytm', 'upi:phonepe', 'card:visa', 'upi:gpay']);
});

test('keeps catalog order between methods that score the same', async () => {
  await putCatalog(h, [
    { method: 'card:b', gateways: ['payu'] },
    { method: 'card:a', gateways: ['payu'] },
    { method: 'card:c', gateways: ['payu'] },
  ]);
  const order = ((await options('u1')).json() as { options: { method: string }[] }).options.map((o) => o.method);
  expect(order).toEqual(['card:b', 'card:a', 'card:c']);
});

test('records the latency of every answer in the histogram', async () => {
  await options('u1');
  await options('u2');
  const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
  const count = Number(/payment_options_seconds_count (\d+)/.exec(metrics.body)?.[1]);
  expect(count).toBeGreaterThanOrEqual(2);
});

describe("the checkout plan's answers", () => {
  const snapshot = () => h.app.deps.snapshot;

  test('answers the planned JSON as application/json, equal to the direct computation', async () => {
    await putCatalog(h, [
      { method: 'upi:gpay', gateways: ['razorpay', 'payu'] },
      { method: 'card:visa', gateways: ['payu'] },
    ]);
    await insertDowntime(h, { method: 'upi:gpay', gateway: 'razorpay' });
    for (const user of ['u1', 'u2', 'u3']) {
      const res = await options(user);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toBe(JSON.stringify(snapshot().optionsFor(user)));
    }
  });

  test('a downtime opening hides the method from a bucket-A user at the next refresh', async () => {
    await putCatalog(h, [
      { method: 'netbanking:sbi', gateways: ['payu'] },
      { method: 'upi:gpay', gateways: ['razorpay'] },
    ]);
    const id = 'dt_cache_hides';
    const { a } = usersByBucket(id, 50);
    const before = (await options(a)).json() as { options: { method: string }[] };
    expect(before.options.map((o) => o.method)).toEqual(['netbanking:sbi', 'upi:gpay']);

    await insertDowntime(h, { method: 'netbanking:sbi' }, { id, probePercent: 50 });
    expect((await options(a)).json()).toEqual({
      options: [{ method: 'upi:gpay', mode: 'upi', gateway: 'razorpay', state: 'available' }],
      unavailable: [{ method: 'netbanking:sbi', downtimeId: id }],
    });

    // And it comes back when the downtime closes.
    await h.db.c.downtimes.deleteMany({ _id: id });
    await snapshot().refreshNow();
    expect(((await options(a)).json() as { options: { method: string }[] }).options.map((o) => o.method)).toEqual(['netbanking:sbi', 'upi:gpay']);
  });

  test('users with different bucket signatures get different answers; users with the same one share an answer', async () => {
    await putCatalog(h, [
      { method: 'netbanking:sbi', gateways: ['payu'] },
      { method: 'wallet:paytm', gateways: ['paytm'] },
    ]);
    const sbi = await insertDowntime(h, { method: 'netbanking:sbi' }, { probePercent: 50 });
    const paytm = await insertDowntime(h, { method: 'wallet:paytm' }, { probePercent: 50 });
    const users = Array.from({ length: 400 }, (_, i) => `user_${i}`);
    const signature = (u: string) => `${bucketOf(u, sbi._id, 50)}${bucketOf(u, paytm._id, 50)}`;
    const bySignature = new Map<string, string[]>();
    for (const u of users) bySignature.set(signature(u), [...(bySignature.get(signature(u)) ?? []), u]);
    expect([...bySignature.keys()].sort()).toEqual(['AA', 'AB', 'BA', 'BB']);

    const answers = new Map<string, string>();
    for (const [sig, [first, second]] of bySignature) {
      const one = (await options(first!)).body;
      expect((await options(second!)).body).toBe(one);
      answers.set(sig, one);
    }
    expect(new Set(answers.values()).size).toBe(4);
    const shown = (sig: string) => (JSON.parse(answers.get(sig)!) as { options: { method: string }[] }).options.map((o) => o.method).sort();
    expect(shown('AA')).toEqual([]);
    expect(shown('BA')).toEqual(['netbanking:sbi']);
    expect(shown('AB')).toEqual(['wallet:paytm']);
    expect(shown('BB')).toEqual(['netbanking:sbi', 'wallet:paytm']);
  });

  test('with 40 methods each under a downtime of its own (40 bucket tests), answers still equal the direct computation', async () => {
    const methods = Array.from({ length: 40 }, (_, i) => ({ method: `card:m${i}`, gateways: ['payu'] }));
    await putCatalog(h, methods);
    for (const [i, m] of methods.entries()) await insertDowntime(h, { method: m.method }, { id: `dt_many_${i}`, probePercent: 50 });
    const answers = new Set<string>();
    for (let u = 0; u < 300; u += 1) {
      const user = `many_${u}`;
      const json = snapshot().optionsJson(user);
      expect(json).toBe(JSON.stringify(snapshot().optionsFor(user)));
      answers.add(json);
    }
    expect(answers.size).toBeGreaterThan(100);
  });

  test('the planned answer equals the direct computation for many random users, catalogs, downtimes and success rates', async () => {
    const random = mulberry32(20261121);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const modes = ['upi', 'card', 'netbanking', 'wallet'];
    const gateways = ['razorpay', 'payu', 'cashfree', 'paytm', 'ccavenue'];
    const seen = { probe: 0, unavailable: 0, failover: 0, answers: 0 };
    for (let round = 0; round < 8; round += 1) {
      await reset(h);
      const methods = Array.from({ length: 6 + Math.floor(random() * 10) }, (_, i) => `${pick(modes)}:m${i}`);
      const catalog = methods.map((method) => {
        const gs = [...gateways].sort(() => random() - 0.5).slice(0, 1 + Math.floor(random() * 3));
        return {
          method,
          gateways: gs,
          ...(random() < 0.3 ? { priority: Math.round(random() * 20 - 10) } : {}),
          ...(random() < 0.6 ? { attributes: { issuer: pick(['hdfc', 'sbi', 'axis']) } } : {}),
        };
      });
      // Two of the gateways sit behind one aggregator, so aggregator scopes match routes.
      const carried = [...new Set(catalog.flatMap((m) => m.gateways))];
      await putCatalog(h, catalog, carried.filter((g) => g === 'payu' || g === 'cashfree').map((gateway) => ({ gateway, aggregator: 'agg1' })));
      for (const m of catalog) {
        for (const g of m.gateways) {
          if (random() < 0.5) {
            const attempts = 1 + Math.floor(random() * 200);
            await recentRate(m.method, g, Math.floor(random() * (attempts + 1)), attempts);
          }
        }
      }
      const scopes: Scope[] = [];
      for (let d = 0; d < 2 + Math.floor(random() * 8); d += 1) {
        const m = pick(catalog);
        const kind = pick(['method', 'route', 'gateway', 'mode', 'mode-gateway', 'issuer', 'issuer-gateway', 'aggregator', 'method-aggregator'] as const);
        const issuer = m.attributes?.issuer ?? 'hdfc';
        const scope: Scope =
          kind === 'issuer' ? { issuer }
          : kind === 'issuer-gateway' ? { issuer, gateway: pick(m.gateways) }
          : kind === 'aggregator' ? { aggregator: 'agg1' }
          : kind === 'method-aggregator' ? { method: m.method, aggregator: 'agg1' }
          : kind === 'method' ? { method: m.method }
          : kind === 'route' ? { method: m.method, gateway: pick(m.gateways) }
          : kind === 'gateway' ? { gateway: pick(m.gateways) }
          : kind === 'mode' ? { mode: m.method.split(':')[0] }
          : { mode: m.method.split(':')[0], gateway: pick(m.gateways) };
        if (scopes.some((s) => JSON.stringify(s) === JSON.stringify(scope))) continue;
        scopes.push(scope);
        await insertDowntime(h, scope, { probePercent: pick([5, 10, 30, 50, 90]), disabled: random() < 0.85, openedAt: Date.now() - 60_000 - d * 1000 });
      }
      await snapshot().refreshNow();
      const distinct = new Set<string>();
      for (let u = 0; u < 600; u += 1) {
        const user = `shopper_${round}_${Math.floor(random() * 1e9).toString(36)}`;
        const direct = snapshot().optionsFor(user);
        const json = snapshot().optionsJson(user);
        expect(json).toBe(JSON.stringify(direct));
        distinct.add(json);
        if (direct.options.some((o) => o.state === 'probe')) seen.probe += 1;
        if (direct.unavailable.length > 0) seen.unavailable += 1;
        if (direct.options.some((o) => o.state === 'available' && o.gateway !== catalog.find((m) => m.method === o.method)!.gateways[0])) seen.failover += 1;
      }
      seen.answers += distinct.size;
      // Over HTTP too, for a few of them.
      for (let u = 0; u < 20; u += 1) {
        const user = `http_${round}_${u}`;
        expect((await options(user)).body).toBe(JSON.stringify(snapshot().optionsFor(user)));
      }
    }
    // The random cases reached every branch: probes, hidden methods, failover, several answers per snapshot.
    expect(seen.probe).toBeGreaterThan(0);
    expect(seen.unavailable).toBeGreaterThan(0);
    expect(seen.failover).toBeGreaterThan(0);
    expect(seen.answers).toBeGreaterThan(8);
  });
});

