import {
  Scope,
  ScopeError,
  candidateScopes,
  modeOf,
  normalizeScope,
  parseScopeKey,
  scopeBreadth,
  scopeCovers,
  scopeKey,
  scopeKind,
  scopeLabel,
  scopeMatchesRoute,
  scopesOverlap,
} from '../../domain';

describe('scope identity', () => {
  test.each([
    ['upi:gpay', 'upi'],
    ['netbanking:sbi', 'netbanking'],
    ['card:hdfc_debit', 'card'],
    ['nocolon', ''],
  ])('takes the mode of %s as "%s"', (method, mode) => {
    expect(modeOf(method)).toBe(mode);
  });

  test.each<[string, Scope, string, string]>([
    ['a route', { method: 'netbanking:sbi', gateway: 'payu' }, 'route', 'netbanking:sbi@payu'],
    ['a method on every gateway', { method: 'netbanking:sbi' }, 'method', 'netbanking:sbi@*'],
    ['a mode on one gateway', { mode: 'card', gateway: 'payu' }, 'mode-gateway', 'card:*@payu'],
    ['a mode everywhere', { mode: 'upi' }, 'mode', 'upi:*@*'],
    ['a whole gateway', { gateway: 'payu' }, 'gateway', '*:*@payu'],
    ['a method whose redundant mode agrees', { mode: 'upi', method: 'upi:gpay' }, 'method', 'upi:gpay@*'],
  ])('gives %s its kind and canonical key', (_name, scope, kind, key) => {
    expect(scopeKind(scope)).toBe(kind);
    expect(scopeKey(scope)).toBe(key);
  });

  test.each(['netbanking:sbi@payu', 'netbanking:sbi@*', 'card:*@payu', 'upi:*@*', '*:*@payu', 'wallet:paytm@cash-free'])(
    'parses key %s back to the scope that produces it',
    (key) => {
      expect(scopeKey(parseScopeKey(key))).toBe(key);
    },
  );

  test('parses a method key into a normalized scope with its mode', () => {
    expect(parseScopeKey('upi:gpay@*')).toEqual({ mode: 'upi', method: 'upi:gpay' });
  });

  test.each(['*:*@*', '*:gpay@payu', 'upi:gpay', 'upi@payu', 'upi:gpay@payu@x', '', 'upi:gp ay@payu'])(
    'refuses the malformed key %j',
    (key) => {
      expect(() => parseScopeKey(key)).toThrow(ScopeError);
    },
  );
});

describe('scope validation', () => {
  test('derives the mode from the method and keeps only the fields that are set', () => {
    expect(normalizeScope({ method: 'upi:gpay', gateway: 'payu' })).toEqual({ mode: 'upi', method: 'upi:gpay', gateway: 'payu' });
    expect(Object.keys(normalizeScope({ gateway: 'payu', mode: undefined }))).toEqual(['gateway']);
  });

  test.each<[string, Scope, string]>([
    ['an empty scope', {}, 'scope'],
    ['a method outside the stated mode', { mode: 'card', method: 'upi:gpay' }, 'mode'],
    ['a method id without a mode', { method: 'gpay' }, 'method'],
    ['a method id with two colons', { method: 'upi:gpay:x' }, 'method'],
    ['a gateway with a space', { gateway: 'pay u' }, 'gateway'],
    ['a gateway with an @', { gateway: 'payu@x' }, 'gateway'],
    ['an empty mode', { mode: '' }, 'mode'],
    ['a mode that is not a string', { mode: 42 as unknown as string }, 'mode'],
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
});

describe('scope geometry', () => {
  const route = { method: 'upi:gpay', gateway: 'payu' };

  test.each<[Scope, boolean]>([
    [{ method: 'upi:gpay', gateway: 'payu' }, true],
    [{ method: 'upi:gpay', gateway: 'razorpay' }, false],
    [{ method: 'upi:gpay' }, true],
    [{ method: 'upi:phonepe' }, false],
    [{ mode: 'upi', gateway: 'payu' }, true],
    [{ mode: 'card', gateway: 'payu' }, false],
    [{ mode: 'upi' }, true],
    [{ gateway: 'payu' }, true],
    [{ gateway: 'razorpay' }, false],
  ])('matches upi:gpay via payu against %j: %s', (scope, expected) => {
    expect(scopeMatchesRoute(scope, route)).toBe(expected);
  });

  test.each<[string, Scope, Scope, boolean]>([
    ['a gateway covers its routes', { gateway: 'payu' }, { method: 'upi:gpay', gateway: 'payu' }, true],
    ['a gateway covers one mode on it', { gateway: 'payu' }, { mode: 'card', gateway: 'payu' }, true],
    ['a gateway does not cover a method on every gateway', { gateway: 'payu' }, { method: 'upi:gpay' }, false],
    ['a mode covers its methods', { mode: 'upi' }, { method: 'upi:gpay' }, true],
    ['a mode covers itself on one gateway', { mode: 'upi' }, { mode: 'upi', gateway: 'payu' }, true],
    ['a mode does not cover another mode', { mode: 'upi' }, { method: 'card:visa' }, false],
    ['a mode does not cover a gateway', { mode: 'upi' }, { gateway: 'payu' }, false],
    ['a method covers its routes', { method: 'upi:gpay' }, { method: 'upi:gpay', gateway: 'payu' }, true],
    ['a route does not cover its method', { method: 'upi:gpay', gateway: 'payu' }, { method: 'upi:gpay' }, false],
    ['every scope covers itself', { mode: 'card', gateway: 'payu' }, { mode: 'card', gateway: 'payu' }, true],
  ])('%s', (_name, outer, inner, expected) => {
    expect(scopeCovers(outer, inner)).toBe(expected);
  });

  test.each<[Scope, Scope, boolean]>([
    [{ gateway: 'payu' }, { method: 'upi:gpay' }, true],
    [{ gateway: 'payu' }, { gateway: 'razorpay' }, false],
    [{ mode: 'upi' }, { method: 'card:visa' }, false],
    [{ mode: 'upi', gateway: 'payu' }, { method: 'upi:gpay', gateway: 'payu' }, true],
  ])('overlap of %j and %j is %s', (a, b, expected) => {
    expect(scopesOverlap(a, b)).toBe(expected);
    expect(scopesOverlap(b, a)).toBe(expected);
  });

  test.each<[Scope, number, string]>([
    [{ method: 'netbanking:sbi', gateway: 'payu' }, 1, 'netbanking:sbi via payu'],
    [{ method: 'netbanking:sbi' }, 2, 'netbanking:sbi on all gateways'],
    [{ mode: 'card', gateway: 'payu' }, 2, 'all card via payu'],
    [{ mode: 'upi' }, 3, 'all upi'],
    [{ gateway: 'payu' }, 3, 'gateway payu'],
  ])('ranks %j at breadth %i and labels it "%s"', (scope, breadth, label) => {
    expect(scopeBreadth(scope)).toBe(breadth);
    expect(scopeLabel(scope)).toBe(label);
  });

  test('lists the five scopes that contain a route, each of which matches it', () => {
    const scopes = candidateScopes(route);
    expect(scopes.map(scopeKey)).toEqual(['upi:gpay@payu', 'upi:gpay@*', 'upi:*@payu', 'upi:*@*', '*:*@payu']);
    for (const s of scopes) expect(scopeMatchesRoute(s, route)).toBe(true);
  });
});
