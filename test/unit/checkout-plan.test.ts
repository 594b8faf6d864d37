import { CoverIndex } from '../../api/checkout-plan';
import type { CoverableDowntime } from '../../api/checkout-plan';
import { scopeMatchesRoute, topologyOf } from '../../domain';
import type { Route, Scope } from '../../domain';
import { mulberry32 } from '../../sim/random';

describe('the cover index', () => {
  const random = mulberry32(2401);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const modes = ['upi', 'card', 'netbanking'];
  const gateways = ['razorpay', 'payu', 'cashfree', 'paytm'];
  const issuers = ['hdfc', 'sbi', 'axis'];

  test('gives the downtimes covering a route, disabled by a time, oldest first, as checking every downtime does', () => {
    for (let world = 0; world < 30; world += 1) {
      const methods = Array.from({ length: 4 + Math.floor(random() * 10) }, (_, i) => ({
        method: `${pick(modes)}:m${i}`,
        ...(random() < 0.7 ? { attributes: { issuer: pick(issuers), ...(random() < 0.5 ? { network: pick(['visa', 'rupay']) } : {}) } } : {}),
      }));
      const topology = topologyOf({ methods, gateways: [{ gateway: 'payu', aggregator: 'agg1' }, { gateway: 'cashfree', aggregator: 'agg1' }] });
      const scopeOf = (): Scope => {
        const m = pick(methods);
        const g = pick(gateways);
        return pick<Scope>([
          { method: m.method }, { method: m.method, gateway: g }, { method: m.method, aggregator: 'agg1' }, { gateway: g }, { aggregator: 'agg1' },
          { mode: pick(modes) }, { mode: pick(modes), gateway: g }, { issuer: pick(issuers) }, { issuer: pick(issuers), gateway: g },
          { network: 'visa' }, { issuer: pick(issuers), network: 'rupay', aggregator: 'agg1' }, { method: 'card:elsewhere' },
        ]);
      };
      // Oldest first, as the snapshot keeps them; some open but not yet disabled.
      const downtimes: CoverableDowntime[] = Array.from({ length: Math.floor(random() * 60) }, (_, i) => ({
        id: `dt_${world}_${i}`,
        scope: scopeOf(),
        probePercent: pick([5, 10, 50]),
        ...(random() < 0.9 ? { disabledAt: 1_000 + Math.floor(random() * 1_000) } : {}),
      }));
      const index = new CoverIndex(downtimes, topology);
      for (let q = 0; q < 60; q += 1) {
        const route: Route = { method: random() < 0.9 ? pick(methods).method : 'card:unknown', gateway: pick(gateways) };
        const at = random() < 0.5 ? undefined : 1_000 + Math.floor(random() * 1_200);
        const expected = downtimes.filter((d) => d.disabledAt !== undefined && (at === undefined || d.disabledAt <= at) && scopeMatchesRoute(d.scope, route, topology));
        // Asked twice: the second answer comes from the index's memory of the route.
        expect(index.covering(route, at).map((d) => d.id)).toEqual(expected.map((d) => d.id));
        expect(index.covering(route, at).map((d) => d.id)).toEqual(expected.map((d) => d.id));
      }
    }
  });
});
