/**
 * Scopes: what a downtime covers. A scope is a partial route pattern over
 * {mode, method, gateway}; a route is one (method, gateway) pair. Every scope has one
 * canonical key, "mode:name@gateway" with '*' wildcards, so that workflow ids, database
 * keys and log lines agree on the identity of a downtime.
 */

/** A partial route pattern. Method ids are "mode:name", e.g. "upi:gpay". */
export interface Scope {
  mode?: string;
  method?: string;
  gateway?: string;
}

export type ScopeKind = 'route' | 'method' | 'mode-gateway' | 'mode' | 'gateway';

/** One (method, gateway) pair: every payment attempt goes through exactly one route. */
export interface Route {
  method: string;
  gateway: string;
}

export type ScopeField = 'scope' | 'mode' | 'method' | 'gateway' | 'key';

/** A scope the caller sent is unusable; `field` names the offending part for a 400 answer. */
export class ScopeError extends Error {
  override readonly name = 'ScopeError';
  constructor(
    readonly field: ScopeField,
    message: string,
  ) {
    super(message);
  }
}

const METHOD_RE = /^[a-z0-9_]+:[a-z0-9_]+$/i;
const MODE_RE = /^[a-z0-9_]+$/i;
const GATEWAY_RE = /^[a-z0-9_-]+$/i;
const WILDCARD = '*';

/** The mode of a method id: the part before the colon ("upi:gpay" -> "upi"); '' if it has none. */
export function modeOf(method: string): string {
  const colon = method.indexOf(':');
  return colon < 0 ? '' : method.slice(0, colon);
}

/** Whether a route's ids are well formed; detection skips malformed ones rather than fail. */
export function isValidRoute(r: Route): boolean {
  return METHOD_RE.test(r.method) && GATEWAY_RE.test(r.gateway);
}

function checkField(value: unknown, field: 'mode' | 'method' | 'gateway', re: RegExp, shape: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !re.test(value)) {
    throw new ScopeError(field, `${field} must look like ${shape}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Validates a scope and derives its mode from its method, returning a fresh object with only
 * the fields that are set (so equal scopes are deep-equal and store identically).
 * Throws ScopeError when the scope is empty, malformed, or names a method outside its mode.
 */
export function normalizeScope(s: Scope): Scope {
  if (s === null || typeof s !== 'object') throw new ScopeError('scope', 'scope must be an object');
  const method = checkField(s.method, 'method', METHOD_RE, '"mode:name" (e.g. "upi:gpay")');
  const gateway = checkField(s.gateway, 'gateway', GATEWAY_RE, 'a gateway id (e.g. "payu")');
  let mode = checkField(s.mode, 'mode', MODE_RE, 'a mode id (e.g. "upi")');
  if (method !== undefined) {
    const derived = modeOf(method);
    if (mode !== undefined && mode !== derived) {
      throw new ScopeError('mode', `mode "${mode}" does not match method "${method}"`);
    }
    mode = derived;
  }
  if (mode === undefined && gateway === undefined) {
    throw new ScopeError('scope', 'scope must set at least one of mode, method, gateway');
  }
  const out: Scope = {};
  if (mode !== undefined) out.mode = mode;
  if (method !== undefined) out.method = method;
  if (gateway !== undefined) out.gateway = gateway;
  return out;
}

/** The fields of a scope as a route pattern, without validation (undefined = any). */
function pattern(s: Scope): { mode?: string; method?: string; gateway?: string } {
  return { mode: s.mode ?? (s.method !== undefined ? modeOf(s.method) : undefined), method: s.method, gateway: s.gateway };
}

export function scopeKind(s: Scope): ScopeKind {
  const n = normalizeScope(s);
  if (n.method !== undefined) return n.gateway !== undefined ? 'route' : 'method';
  if (n.mode !== undefined) return n.gateway !== undefined ? 'mode-gateway' : 'mode';
  return 'gateway';
}

/** Canonical key: route "netbanking:sbi@payu", method "netbanking:sbi@*", "card:*@payu", "upi:*@*", "*:*@payu". */
export function scopeKey(s: Scope): string {
  const n = normalizeScope(s);
  const method = n.method ?? `${n.mode ?? WILDCARD}:${WILDCARD}`;
  return `${method}@${n.gateway ?? WILDCARD}`;
}

/** Inverse of scopeKey; throws ScopeError (field "key") on anything scopeKey cannot produce. */
export function parseScopeKey(key: string): Scope {
  const m = /^([^:@]+):([^:@]+)@([^:@]+)$/.exec(typeof key === 'string' ? key : '');
  if (!m) throw new ScopeError('key', `scope key must look like "mode:name@gateway", got ${JSON.stringify(key)}`);
  const [, mode = '', name = '', gateway = ''] = m;
  if (mode === WILDCARD && name !== WILDCARD) {
    throw new ScopeError('key', `a method name needs a mode: ${JSON.stringify(key)}`);
  }
  const s: Scope = {};
  if (mode !== WILDCARD) s.mode = mode;
  if (name !== WILDCARD) s.method = `${mode}:${name}`;
  if (gateway !== WILDCARD) s.gateway = gateway;
  return normalizeScope(s);
}

export function scopeMatchesRoute(s: Scope, r: Route): boolean {
  const p = pattern(s);
  return (
    (p.mode === undefined || p.mode === modeOf(r.method)) &&
    (p.method === undefined || p.method === r.method) &&
    (p.gateway === undefined || p.gateway === r.gateway)
  );
}

/**
 * Whether every route in `inner` is also in `outer` (reflexive). Each field `outer` pins
 * must be pinned to the same value by `inner`; otherwise `inner` reaches routes `outer` does not.
 */
export function scopeCovers(outer: Scope, inner: Scope): boolean {
  const o = pattern(outer);
  const i = pattern(inner);
  return (
    (o.mode === undefined || o.mode === i.mode) &&
    (o.method === undefined || o.method === i.method) &&
    (o.gateway === undefined || o.gateway === i.gateway)
  );
}

/** Whether some route could be in both scopes (no field pinned to different values). */
export function scopesOverlap(a: Scope, b: Scope): boolean {
  const x = pattern(a);
  const y = pattern(b);
  const agree = (u?: string, v?: string) => u === undefined || v === undefined || u === v;
  return agree(x.mode, y.mode) && agree(x.method, y.method) && agree(x.gateway, y.gateway);
}

const BREADTH: Record<ScopeKind, number> = { route: 1, method: 2, 'mode-gateway': 2, mode: 3, gateway: 3 };

/** Rank of how much a scope covers: route 1, method and mode-gateway 2, mode and gateway 3. */
export function scopeBreadth(s: Scope): number {
  return BREADTH[scopeKind(s)];
}

/** A human label for notifications and the status page. */
export function scopeLabel(s: Scope): string {
  const n = normalizeScope(s);
  switch (scopeKind(n)) {
    case 'route':
      return `${n.method} via ${n.gateway}`;
    case 'method':
      return `${n.method} on all gateways`;
    case 'mode-gateway':
      return `all ${n.mode} via ${n.gateway}`;
    case 'mode':
      return `all ${n.mode}`;
    case 'gateway':
      return `gateway ${n.gateway}`;
  }
}

/** The five scopes that contain a route, narrowest first. */
export function candidateScopes(r: Route): Scope[] {
  const mode = modeOf(r.method);
  return [
    normalizeScope({ method: r.method, gateway: r.gateway }),
    normalizeScope({ method: r.method }),
    normalizeScope({ mode, gateway: r.gateway }),
    normalizeScope({ mode }),
    normalizeScope({ gateway: r.gateway }),
  ];
}
