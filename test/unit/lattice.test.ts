/**
 * Scopes at the level the world fails at: issuers, card networks, UPI apps, aggregators. Keys,
 * validation and matching against a catalog's topology, and the roll-up across the lattice: each
 * example of the scopes issue, the three overreaches it found, and the tie-breaks.
 */
import {
  Scope,
  ScopeError,
  Topology,
  candidateScopes,
  evaluateScopes,
  normalizeScope,
  parseScopeKey,
  scopeBreadth,
  scopeCovers,
  scopeKey,
  scopeKind,
  scopeLabel,
  scopeMatchesRoute,
  scopesOverlap,
  topologyOf,
} from '../../domain';
import { TABLE_SETTINGS, Traffic, trafficCounters } from './helpers';

const MINUTE = 60_000;
const NOW = 1_000 * MINUTE;
const settings = TABLE_SETTINGS;

/**
 * Two banks' Visa and Mastercard cards, HDFC netbanking, two UPI apps; payu and cashfree behind
 * the juspay aggregator, razorpay direct.
 */
const catalog: { methods: { method: string; gateways: string[]; attributes: Record<string, string> }[]; gateways: { gateway: string; aggregator?: string }[] } = {
  methods: [
    { method: 'card:hdfc_credit', gateways: ['razorpay', 'payu', 'cashfree'], attributes: { issuer: 'hdfc', network: 'visa', type: 'credit' } },
    { method: 'card:icici_credit', gateways: ['razorpay', 'payu', 'cashfree'], attributes: { issuer: 'icici', network: 'visa', type: 'credit' } },
    { method: 'card:hdfc_debit', gateways: ['razorpay', 'payu', 'cashfree'], attributes: { issuer: 'hdfc', network: 'mastercard', type: 'debit' } },
    { method: 'card:sbi_debit', gateways: ['razorpay', 'payu', 'cashfree'], attributes: { issuer: 'sbi', network: 'mastercard', type: 'debit' } },
    { method: 'netbanking:hdfc', gateways: ['payu', 'razorpay'], attributes: { issuer: 'hdfc' } },
    { method: 'netbanking:sbi', gateways: ['payu', 'razorpay'], attributes: { issuer: 'sbi' } },
    { method: 'upi:phonepe', gateways: ['razorpay', 'payu'], attributes: { psp: 'phonepe' } },
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'], attributes: { psp: 'gpay' } },
  ],
  gateways: [{ gateway: 'payu', aggregator: 'juspay' }, { gateway: 'cashfree', aggregator: 'juspay' }, { gateway: 'razorpay' }],
};
const topo: Topology = topologyOf(catalog);

describe('scope keys and validation over every dimension', () => {
  test.each<[string, Scope, string, string, number]>([
    ['a card network everywhere', { network: 'visa' }, '*:*+network=visa@*', 'instrument', 3],
    ['a bank on one gateway', { issuer: 'hdfc', gateway: 'payu' }, '*:*+issuer=hdfc@payu', 'instrument-gateway', 2],
    ['an aggregator', { aggregator: 'juspay' }, '*:*@aggregator=juspay', 'aggregator', 4],
    ['a UPI app', { psp: 'phonepe' }, '*:*+psp=phonepe@*', 'instrument', 3],
    ['credit Visa cards', { mode: 'card', type: 'credit', network: 'visa' }, 'card:*+network=visa+type=credit@*', 'instrument', 3],
    ['a mode behind an aggregator', { mode: 'card', aggregator: 'juspay' }, 'card:*@aggregator=juspay', 'mode-aggregator', 3],
    ['an old route', { method: 'netbanking:sbi', gateway: 'payu' }, 'netbanking:sbi@payu', 'route', 1],
    ['an old gateway', { gateway: 'payu' }, '*:*@payu', 'gateway', 3],
  ])('%s: key %s, kind and breadth, and the key parses back', (_name, scope, key, kind, breadth) => {
    expect(scopeKey(scope)).toBe(key);
    expect(scopeKind(scope)).toBe(kind);
    expect(scopeBreadth(scope)).toBe(breadth);
    expect(parseScopeKey(key)).toEqual(normalizeScope(scope));
  });

  test.each<[string, Scope, string]>([
    ['two processor-side dimensions', { gateway: 'payu', aggregator: 'juspay' }, 'aggregator'],
    ['a method and an attribute (the catalog gives a method its attributes)', { method: 'card:hdfc_credit', network: 'visa' }, 'network'],
    ['an attribute name that is not one', { 'Network!': 'visa' }, 'Network!'],
    ['an attribute value with a space', { issuer: 'hd fc' }, 'issuer'],
  ])('refuses %s and names the field', (_name, scope, field) => {
    let caught: unknown;
    try {
      normalizeScope(scope);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ScopeError);
    expect((caught as ScopeError).field).toBe(field);
  });

  test.each(['*:*+network=visa@payu@x', '*:*+gateway=payu@*', '*:*@aggregator=', 'card:*+type=credit+network=visa@*'])('refuses the key %j (malformed, or not canonical)', (key) => {
    expect(() => parseScopeKey(key)).toThrow(ScopeError);
  });

  test('labels say what is down in words', () => {
    expect(scopeLabel({ network: 'visa' })).toBe('network visa on all gateways');
    expect(scopeLabel({ issuer: 'hdfc', gateway: 'payu' })).toBe('issuer hdfc via payu');
    expect(scopeLabel({ aggregator: 'juspay' })).toBe('aggregator juspay (every gateway behind it)');
    expect(scopeLabel({ mode: 'card', aggregator: 'juspay' })).toBe('all card via aggregator juspay');
  });
});

describe('matching a route through the catalog', () => {
  test.each<[Scope, string, string, boolean]>([
    [{ network: 'visa' }, 'card:hdfc_credit', 'razorpay', true],
    [{ network: 'visa' }, 'card:hdfc_debit', 'razorpay', false],
    [{ issuer: 'hdfc' }, 'netbanking:hdfc', 'payu', true],
    [{ issuer: 'hdfc' }, 'card:hdfc_debit', 'cashfree', true],
    [{ issuer: 'hdfc' }, 'card:icici_credit', 'payu', false],
    [{ psp: 'phonepe' }, 'upi:phonepe', 'payu', true],
    [{ psp: 'phonepe' }, 'upi:gpay', 'payu', false],
    [{ aggregator: 'juspay' }, 'upi:gpay', 'payu', true],
    [{ aggregator: 'juspay' }, 'card:sbi_debit', 'cashfree', true],
    [{ aggregator: 'juspay' }, 'card:sbi_debit', 'razorpay', false],
    [{ issuer: 'hdfc', gateway: 'payu' }, 'card:hdfc_credit', 'razorpay', false],
  ])('%j against %s via %s: %s', (scope, method, gateway, expected) => {
    expect(scopeMatchesRoute(scope, { method, gateway }, topo)).toBe(expected);
  });

  test('without the catalog a scope over attributes or an aggregator matches nothing, and the old scopes match as before', () => {
    expect(scopeMatchesRoute({ network: 'visa' }, { method: 'card:hdfc_credit', gateway: 'payu' })).toBe(false);
    expect(scopeMatchesRoute({ aggregator: 'juspay' }, { method: 'upi:gpay', gateway: 'payu' })).toBe(false);
    expect(scopeMatchesRoute({ mode: 'card', gateway: 'payu' }, { method: 'card:hdfc_credit', gateway: 'payu' })).toBe(true);
  });

  test.each<[string, Scope, Scope, boolean]>([
    ['a network covers a method of it', { network: 'visa' }, { method: 'card:icici_credit' }, true],
    ['a network does not cover a method of another', { network: 'visa' }, { method: 'card:sbi_debit' }, false],
    ['a network does not cover a bank (the bank has other networks too)', { network: 'visa' }, { issuer: 'hdfc' }, false],
    ['a bank covers its netbanking', { issuer: 'hdfc' }, { method: 'netbanking:hdfc' }, true],
    ['an aggregator covers a gateway behind it', { aggregator: 'juspay' }, { gateway: 'cashfree' }, true],
    ['an aggregator covers a route through a gateway behind it', { aggregator: 'juspay' }, { method: 'upi:gpay', gateway: 'payu' }, true],
    ['an aggregator does not cover a direct gateway', { aggregator: 'juspay' }, { gateway: 'razorpay' }, false],
    ['an aggregator does not cover a method on every gateway', { aggregator: 'juspay' }, { method: 'upi:gpay' }, false],
  ])('%s', (_name, outer, inner, expected) => {
    expect(scopeCovers(outer, inner, topo)).toBe(expected);
  });

  test('overlap: Visa and Mastercard never meet; a bank and a network may', () => {
    expect(scopesOverlap({ network: 'visa' }, { method: 'card:sbi_debit' }, topo)).toBe(false);
    expect(scopesOverlap({ network: 'visa' }, { issuer: 'hdfc' }, topo)).toBe(true);
    expect(scopesOverlap({ aggregator: 'juspay' }, { gateway: 'razorpay' }, topo)).toBe(false);
  });

  test("a route's candidates add its attributes, on its gateway and everywhere, and on its gateway's aggregator as on the gateway; each matches it", () => {
    const route = { method: 'card:hdfc_credit', gateway: 'payu' };
    const keys = candidateScopes(route, topo).map(scopeKey);
    expect(keys).toEqual([
      'card:hdfc_credit@payu',
      'card:hdfc_credit@*',
      'card:*@payu',
      'card:*@*',
      '*:*@payu',
      '*:*+issuer=hdfc@payu',
      '*:*+issuer=hdfc@*',
      '*:*+network=visa@payu',
      '*:*+network=visa@*',
      '*:*+type=credit@payu',
      '*:*+type=credit@*',
      'card:hdfc_credit@aggregator=juspay',
      'card:*@aggregator=juspay',
      '*:*+issuer=hdfc@aggregator=juspay',
      '*:*+network=visa@aggregator=juspay',
      '*:*+type=credit@aggregator=juspay',
      '*:*@aggregator=juspay',
    ]);
    for (const s of candidateScopes(route, topo)) expect(scopeMatchesRoute(s, route, topo)).toBe(true);
  });
});

/** Every route of the catalog at `attempts` each (a few big ones bigger), at the usual 0.95. */
const routes = catalog.methods.flatMap((m) => m.gateways.map((g) => `${m.method}@${g}`));
function world(rates: Record<string, number>, attempts: Record<string, number> = {}): Traffic[] {
  return routes.map((route) => ({ route, attempts: attempts[route] ?? 200, rate: rates[route] ?? 0.95 }));
}
const down = (match: (route: string) => boolean, rate = 0.05) => Object.fromEntries(routes.filter(match).map((r) => [r, rate]));
const failing = (traffic: Traffic[], t: Topology = topo) => evaluateScopes(trafficCounters(traffic, NOW), NOW, settings, t).failing.map((h) => h.key);

const visa = (r: string) => r.startsWith('card:hdfc_credit') || r.startsWith('card:icici_credit');
const viaJuspay = (r: string) => r.endsWith('@payu') || r.endsWith('@cashfree');

describe('roll-up across the lattice', () => {
  test.each<[string, Traffic[], string[]]>([
    ['nothing when everything works', world({}), []],
    ['Visa failing for two banks on every gateway, Mastercard healthy: one {network: visa}', world(down(visa)), ['*:*+network=visa@*']],
    ['HDFC netbanking and cards failing together: {issuer: hdfc}', world(down((r) => r.includes(':hdfc'))), ['*:*+issuer=hdfc@*']],
    ['PhonePe down while Google Pay works: {psp: phonepe}', world(down((r) => r.startsWith('upi:phonepe'))), ['*:*+psp=phonepe@*']],
    ['every gateway behind juspay failing, razorpay healthy: {aggregator: juspay}', world(down(viaJuspay)), ['*:*@aggregator=juspay']],
    ["one bank's card on one gateway is still that route", world(down((r) => r === 'card:sbi_debit@cashfree')), ['card:sbi_debit@cashfree']],
    [
      'two methods failing on one gateway whose other methods work: two downtimes, not the gateway',
      world(down((r) => r === 'card:hdfc_credit@payu' || r === 'upi:phonepe@payu')),
      ['card:hdfc_credit@payu', 'upi:phonepe@payu'],
    ],
    ['a whole gateway still rolls up to the gateway', world(down((r) => r.endsWith('@razorpay'))), ['*:*@razorpay']],
  ])('%s', (_name, traffic, expected) => {
    expect(failing(traffic)).toEqual(expected);
  });

  describe('the three overreaches, each now held back', () => {
    test('two gateways behind one aggregator failing: the aggregator, and never the card mode on the healthy direct gateway', () => {
      // Little card traffic on razorpay: too little to prove it healthy, which must not make the mode fail.
      const thin = Object.fromEntries(routes.filter((r) => r.endsWith('@razorpay')).map((r) => [r, 20]));
      expect(failing(world(down(viaJuspay), thin))).toEqual(['*:*@aggregator=juspay']);
      // Without the aggregator in the catalog: each gateway (cashfree carries cards only, so its
      // cards are all of it, and named so), still never the card mode on every gateway.
      const flat = topologyOf({ methods: catalog.methods, gateways: [] });
      expect(failing(world(down(viaJuspay), thin), flat)).toEqual(['*:*@payu', 'card:*@cashfree']);
    });

    test('two methods failing on one gateway whose many small methods work: not the whole gateway', () => {
      // The other methods on payu carry 25 attempts each: none alone shows health, together they do.
      const small = Object.fromEntries(routes.filter((r) => r.endsWith('@payu')).map((r) => [r, 25]));
      const traffic = world(down((r) => r === 'card:hdfc_credit@payu' || r === 'upi:phonepe@payu'), { ...small, 'card:hdfc_credit@payu': 400, 'upi:phonepe@payu': 400 });
      expect(failing(traffic)).toEqual(['card:hdfc_credit@payu', 'upi:phonepe@payu']);
    });

    test('Visa cards of two banks failing everywhere: one downtime, not one per card method', () => {
      expect(failing(world(down(visa)))).toHaveLength(1);
    });
  });

  describe('tie-breaks', () => {
    test('a network failing on one gateway only is that network on that gateway', () => {
      expect(failing(world(down((r) => visa(r) && r.endsWith('@razorpay'))))).toEqual(['*:*+network=visa@razorpay']);
    });

    test('routes two broad scopes explain: both are kept when each explains failures the other does not', () => {
      // juspay down, and HDFC everywhere too: the bank explains its razorpay routes, which the aggregator does not.
      expect(failing(world({ ...down(viaJuspay), ...down((r) => r.includes(':hdfc')) }))).toEqual(['*:*@aggregator=juspay', '*:*+issuer=hdfc@*']);
      // HDFC down behind juspay only: the aggregator explains all of it, and no bank downtime is raised beside it.
      expect(failing(world({ ...down(viaJuspay), ...down((r) => r.includes(':hdfc') && viaJuspay(r)) }))).toEqual(['*:*@aggregator=juspay']);
    });

    test('routes with too little traffic to show health are not counted as healthy, nor as failing', () => {
      // Visa fails on every gateway; Mastercard has a handful of attempts per route: still the network, not the mode.
      const thinMastercard = Object.fromEntries(routes.filter((r) => !visa(r) && r.startsWith('card:')).map((r) => [r, 5]));
      expect(failing(world(down(visa), thinMastercard))).toEqual(['*:*+network=visa@*']);
    });
  });

  test('an old catalog (no attributes, no aggregators) rolls up as before', () => {
    const none = topologyOf({ methods: catalog.methods.map(({ method, gateways }) => ({ method, gateways })) });
    expect(failing(world(down((r) => r.startsWith('upi:'))), none)).toEqual(['upi:*@*']);
    expect(failing(world(down((r) => r.endsWith('@payu'))), none)).toEqual(['*:*@payu']);
  });
});
