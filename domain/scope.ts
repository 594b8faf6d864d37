/**
 * Scopes: what a downtime covers, at the level the world fails at.
 *
 * A route is one (method, gateway) pair: every payment attempt goes through exactly one. A scope
 * is a partial pattern over a route's dimensions:
 * - instrument side: `mode` (from the method id), `method`, and the method's attributes from the
 *   catalog — `issuer` (the bank), `network` (the card network), `type` (credit, debit...), `psp`
 *   (the UPI app), and any configured one;
 * - processor side: `gateway`, or `aggregator` (every gateway behind it). At most one of the two.
 *
 * Which attributes a method has and which aggregator a gateway sits behind is the catalog's
 * knowledge (the `Topology`); without it a scope over attributes or an aggregator matches nothing.
 * Every scope has one canonical key, "<instrument>@<processor>": the instrument part is
 * "mode:name" with '*' wildcards, then "+name=value" per attribute in name order; the processor
 * part is the gateway, "aggregator=<id>" or '*'. Scopes over the three original fields keep their
 * old keys ("netbanking:sbi@payu", "upi:*@*", "*:*@payu"), so workflow ids, database keys and log
 * lines agree on the identity of a downtime.
 */

/** The method attributes the product knows; more may be configured (see common/config.ts). */
export const KNOWN_ATTRIBUTES = ['issuer', 'network', 'type', 'psp'] as const;
/** Names a scope dimension can never be used for as an attribute. */
const RESERVED = new Set(['mode', 'method', 'gateway', 'aggregator', 'scope', 'key']);

/** A partial route pattern. Method ids are "mode:name", e.g. "upi:gpay". */
export interface Scope {
  mode?: string;
  method?: string;
  issuer?: string;
  network?: string;
  type?: string;
  psp?: string;
  gateway?: string;
  aggregator?: string;
  /** A configured method attribute. */
  [attribute: string]: string | undefined;
}

export type ScopeKind =
  | 'route'
  | 'method'
  | 'method-aggregator'
  | 'instrument'
  | 'instrument-gateway'
  | 'instrument-aggregator'
  | 'mode'
  | 'mode-gateway'
  | 'mode-aggregator'
  | 'gateway'
  | 'aggregator';

/** One (method, gateway) pair: every payment attempt goes through exactly one route. */
export interface Route {
  method: string;
  gateway: string;
}

/** What the catalog says about the world: each method's attributes, each gateway's aggregator. */
export interface Topology {
  attributes: Readonly<Record<string, Readonly<Record<string, string>>>>;
  aggregators: Readonly<Record<string, string>>;
  /** The gateways the catalog offers each method on, in its order (unknown for a method not listed). */
  methodGateways?: Readonly<Record<string, readonly string[]>>;
}

/** The world as a catalog without attributes or aggregators describes it. */
export const NO_TOPOLOGY: Topology = Object.freeze({ attributes: Object.freeze({}), aggregators: Object.freeze({}) });

/** The field a refusal names: a dimension, `scope` itself, or `key`. */
export type ScopeField = string;

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
/** An attribute's or an aggregator's value: like a gateway id. */
const VALUE_RE = GATEWAY_RE;
/** An attribute's name. */
export const ATTRIBUTE_NAME_RE = /^[a-z][a-z0-9_]{0,30}$/;
const WILDCARD = '*';
const AGGREGATOR_PREFIX = 'aggregator=';
/** "Known to have none": a gateway outside every aggregator, a method without the attribute. Never a valid value. */
const NONE = '';

/** The mode of a method id: the part before the colon ("upi:gpay" -> "upi"); '' if it has none. */
export function modeOf(method: string): string {
  const colon = method.indexOf(':');
  return colon < 0 ? '' : method.slice(0, colon);
}

/** Whether a route's ids are well formed; detection skips malformed ones rather than fail. */
export function isValidRoute(r: Route): boolean {
  return METHOD_RE.test(r.method) && GATEWAY_RE.test(r.gateway);
}

/** Whether `name` can be a method attribute (well formed, not a dimension of its own). */
export function isAttributeName(name: string): boolean {
  return ATTRIBUTE_NAME_RE.test(name) && !RESERVED.has(name);
}

function checkField(value: unknown, field: string, re: RegExp, shape: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !re.test(value)) {
    throw new ScopeError(field, `${field} must look like ${shape}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A scope's attributes (every dimension that is not mode, method, gateway or aggregator), in name order. */
export function scopeAttributes(s: Scope): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(s)) if (v !== undefined && !RESERVED.has(k)) out.push([k, v]);
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Validates a scope and derives its mode from its method, returning a fresh object with only
 * the fields that are set, in one order (so equal scopes are deep-equal and store identically).
 * Throws ScopeError when the scope is empty or malformed, names a method outside its mode,
 * names both a method and attributes (a method's attributes are the catalog's), or names both
 * a gateway and an aggregator.
 */
export function normalizeScope(s: Scope): Scope {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new ScopeError('scope', 'scope must be an object');
  const method = checkField(s.method, 'method', METHOD_RE, '"mode:name" (e.g. "upi:gpay")');
  const gateway = checkField(s.gateway, 'gateway', GATEWAY_RE, 'a gateway id (e.g. "payu")');
  const aggregator = checkField(s.aggregator, 'aggregator', VALUE_RE, 'an aggregator id (e.g. "juspay")');
  let mode = checkField(s.mode, 'mode', MODE_RE, 'a mode id (e.g. "upi")');
  if (method !== undefined) {
    const derived = modeOf(method);
    if (mode !== undefined && mode !== derived) {
      throw new ScopeError('mode', `mode "${mode}" does not match method "${method}"`);
    }
    mode = derived;
  }
  if (gateway !== undefined && aggregator !== undefined) {
    throw new ScopeError('aggregator', 'a scope names one processor: a gateway or an aggregator, not both');
  }
  const attributes: [string, string][] = [];
  for (const [name, value] of Object.entries(s)) {
    if (value === undefined || RESERVED.has(name)) continue;
    if (!ATTRIBUTE_NAME_RE.test(name)) throw new ScopeError(name, `${name} is not an attribute name (lower-case letters, digits and _)`);
    attributes.push([name, checkField(value, name, VALUE_RE, `an id (e.g. "hdfc")`)!]);
  }
  if (method !== undefined && attributes.length > 0) {
    throw new ScopeError(attributes[0]![0], `a method's ${attributes[0]![0]} comes from the catalog: name the method or its attributes, not both`);
  }
  if (mode === undefined && gateway === undefined && aggregator === undefined && attributes.length === 0) {
    throw new ScopeError('scope', 'scope must set at least one of mode, method, issuer, network, type, psp, gateway, aggregator');
  }
  const out: Scope = {};
  if (mode !== undefined) out.mode = mode;
  if (method !== undefined) out.method = method;
  for (const [name, value] of attributes.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[name] = value;
  if (gateway !== undefined) out.gateway = gateway;
  if (aggregator !== undefined) out.aggregator = aggregator;
  return out;
}

/**
 * The value a scope gives dimension `d`, directly or as the catalog implies it: a method implies
 * its mode and attributes, a gateway its aggregator. Undefined when the scope leaves it free.
 */
function impliedValue(s: Scope, d: string, topo: Topology): string | undefined {
  const own = s[d];
  if (own !== undefined) return own;
  if (d === 'mode') return s.method !== undefined ? modeOf(s.method) : undefined;
  // A pinned gateway or method settles its aggregator or attribute: a value, or NONE (it has none).
  if (d === 'aggregator') return s.gateway !== undefined ? (topo.aggregators[s.gateway] ?? NONE) : undefined;
  if (d === 'method' || d === 'gateway') return undefined;
  return s.method !== undefined ? (topo.attributes[s.method]?.[d] ?? NONE) : undefined;
}

/** The value of dimension `d` for a route. */
function routeValue(r: Route, d: string, topo: Topology): string | undefined {
  switch (d) {
    case 'method':
      return r.method;
    case 'gateway':
      return r.gateway;
    case 'mode':
      return modeOf(r.method);
    case 'aggregator':
      return topo.aggregators[r.gateway];
    default:
      return topo.attributes[r.method]?.[d];
  }
}

/** The processor group of a route: its gateway's aggregator, or the gateway when it has none. */
export function processorOf(r: Route, topo: Topology = NO_TOPOLOGY): string {
  const aggregator = topo.aggregators[r.gateway];
  return aggregator !== undefined ? `${AGGREGATOR_PREFIX}${aggregator}` : r.gateway;
}

export function scopeKind(s: Scope): ScopeKind {
  const n = normalizeScope(s);
  const processor = n.gateway !== undefined ? 'gateway' : n.aggregator !== undefined ? 'aggregator' : undefined;
  if (n.method !== undefined) return processor === 'gateway' ? 'route' : processor === 'aggregator' ? 'method-aggregator' : 'method';
  if (scopeAttributes(n).length > 0) return processor ? `instrument-${processor}` : 'instrument';
  if (n.mode !== undefined) return processor ? `mode-${processor}` : 'mode';
  return processor!;
}

/** Canonical key: "netbanking:sbi@payu", "upi:*@*", "*:*@payu", "card:*+network=visa@*", "*:*@aggregator=juspay". */
export function scopeKey(s: Scope): string {
  const n = normalizeScope(s);
  const base = n.method ?? `${n.mode ?? WILDCARD}:${WILDCARD}`;
  const attributes = scopeAttributes(n)
    .map(([k, v]) => `+${k}=${v}`)
    .join('');
  const processor = n.gateway ?? (n.aggregator !== undefined ? `${AGGREGATOR_PREFIX}${n.aggregator}` : WILDCARD);
  return `${base}${attributes}@${processor}`;
}

/** Inverse of scopeKey; throws ScopeError (field "key") on anything scopeKey cannot produce. */
export function parseScopeKey(key: string): Scope {
  const m = /^([^:@+=]+):([^:@+=]+)((?:\+[^:@+=]+=[^:@+=]+)*)@([^:@+]+|aggregator=[^:@+=]+)$/.exec(typeof key === 'string' ? key : '');
  const bad = () => new ScopeError('key', `scope key must look like "mode:name@gateway", got ${JSON.stringify(key)}`);
  if (!m) throw bad();
  const [, mode = '', name = '', attributes = '', processor = ''] = m;
  if (mode === WILDCARD && name !== WILDCARD) {
    throw new ScopeError('key', `a method name needs a mode: ${JSON.stringify(key)}`);
  }
  const s: Scope = {};
  if (mode !== WILDCARD) s.mode = mode;
  if (name !== WILDCARD) s.method = `${mode}:${name}`;
  for (const pair of attributes.split('+').slice(1)) {
    const [k = '', v = ''] = pair.split('=');
    if (RESERVED.has(k)) throw bad();
    s[k] = v;
  }
  if (processor.startsWith(AGGREGATOR_PREFIX)) s.aggregator = processor.slice(AGGREGATOR_PREFIX.length);
  else if (processor !== WILDCARD) {
    if (processor.includes('=')) throw bad();
    s.gateway = processor;
  }
  const n = normalizeScope(s);
  if (scopeKey(n) !== key) throw bad();
  return n;
}

/** Whether the route is in the scope: every dimension the scope pins has that value for the route. */
export function scopeMatchesRoute(s: Scope, r: Route, topo: Topology = NO_TOPOLOGY): boolean {
  for (const d in s) {
    const v = s[d];
    if (v !== undefined && routeValue(r, d, topo) !== v) return false;
  }
  return true;
}

/**
 * Whether every route in `inner` is also in `outer` (reflexive): each dimension `outer` pins,
 * `inner` gives the same value, itself or as the catalog implies it (a method its network, a
 * gateway its aggregator); otherwise `inner` reaches routes `outer` does not.
 */
export function scopeCovers(outer: Scope, inner: Scope, topo: Topology = NO_TOPOLOGY): boolean {
  for (const d in outer) {
    const v = outer[d];
    if (v !== undefined && impliedValue(inner, d, topo) !== v) return false;
  }
  return true;
}

/** Whether some route could be in both scopes (no dimension given different values). */
export function scopesOverlap(a: Scope, b: Scope, topo: Topology = NO_TOPOLOGY): boolean {
  for (const d of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = impliedValue(a, d, topo);
    const y = impliedValue(b, d, topo);
    if (x !== undefined && y !== undefined && x !== y) return false;
  }
  return true;
}

/**
 * Rank of how much a scope covers: 1 + instrument breadth (a method 0; attributes or a mode 1;
 * none 2) + processor breadth (a gateway 0; an aggregator or none 1). A route is 1, a method or a
 * mode on a gateway 2, a mode, a network, an issuer or a gateway 3, an aggregator 4.
 */
export function scopeBreadth(s: Scope): number {
  const n = normalizeScope(s);
  const instrument = n.method !== undefined ? 0 : n.mode !== undefined || scopeAttributes(n).length > 0 ? 1 : 2;
  const processor = n.gateway !== undefined ? 0 : 1;
  return 1 + instrument + processor;
}

/** The instrument side in words: "netbanking:sbi", "card network visa", "issuer hdfc". */
function instrumentLabel(n: Scope): string | undefined {
  if (n.method !== undefined) return n.method;
  const attributes = scopeAttributes(n).map(([k, v]) => `${k} ${v}`);
  if (attributes.length === 0) return n.mode !== undefined ? `all ${n.mode}` : undefined;
  return [n.mode, ...attributes].filter((x) => x !== undefined).join(' ');
}

/** A human label for notifications and the status page. */
export function scopeLabel(s: Scope): string {
  const n = normalizeScope(s);
  const instrument = instrumentLabel(n);
  const processor = n.gateway !== undefined ? `via ${n.gateway}` : n.aggregator !== undefined ? `via aggregator ${n.aggregator}` : undefined;
  if (instrument === undefined) return n.gateway !== undefined ? `gateway ${n.gateway}` : `aggregator ${n.aggregator} (every gateway behind it)`;
  if (processor !== undefined) return `${instrument} ${processor}`;
  return n.method !== undefined || scopeAttributes(n).length > 0 ? `${instrument} on all gateways` : instrument;
}

/**
 * The scopes that contain a route, narrowest first: the route, its method, its mode on its
 * gateway, its mode, its gateway; then, from the catalog, each of its method's attributes on
 * its gateway and everywhere, and its gateway's aggregator. Detection judges exactly these.
 */
export function candidateScopes(r: Route, topo: Topology = NO_TOPOLOGY): Scope[] {
  const mode = modeOf(r.method);
  const out = [
    normalizeScope({ method: r.method, gateway: r.gateway }),
    normalizeScope({ method: r.method }),
    normalizeScope({ mode, gateway: r.gateway }),
    normalizeScope({ mode }),
    normalizeScope({ gateway: r.gateway }),
  ];
  const attributes = topo.attributes[r.method];
  if (attributes) {
    for (const name of Object.keys(attributes).sort()) {
      const value = attributes[name]!;
      out.push(normalizeScope({ [name]: value, gateway: r.gateway }), normalizeScope({ [name]: value }));
    }
  }
  const aggregator = topo.aggregators[r.gateway];
  if (aggregator !== undefined) {
    out.push(normalizeScope({ method: r.method, aggregator }), normalizeScope({ mode, aggregator }));
    if (attributes) for (const name of Object.keys(attributes).sort()) out.push(normalizeScope({ [name]: attributes[name]!, aggregator }));
    out.push(normalizeScope({ aggregator }));
  }
  return out;
}

/** The topology a catalog describes (methods with attributes, gateways with an aggregator). */
export function topologyOf(catalog: {
  methods: readonly { method: string; gateways?: readonly string[]; attributes?: Readonly<Record<string, string>> }[];
  gateways?: readonly { gateway: string; aggregator?: string }[];
}): Topology {
  const attributes: Record<string, Record<string, string>> = {};
  const methodGateways: Record<string, readonly string[]> = {};
  for (const m of catalog.methods) {
    if (m.attributes && Object.keys(m.attributes).length > 0) attributes[m.method] = { ...m.attributes };
    if (m.gateways) methodGateways[m.method] = [...m.gateways];
  }
  const aggregators: Record<string, string> = {};
  for (const g of catalog.gateways ?? []) if (g.aggregator !== undefined) aggregators[g.gateway] = g.aggregator;
  return { attributes, aggregators, methodGateways };
}
