/** Generated, realistic-looking traffic: routes, catalogs and payment attempts. */
import type { TransactionRecord } from '../common/transaction';
import type { TransactionDoc } from '../db/mongo';
import { classifyOutcome, modeOf } from '../domain';
import type { Scope } from '../domain';
import { mulberry32 } from '../sim/random';

export const GATEWAYS = ['razorpay', 'payu', 'cashfree', 'ccavenue', 'billdesk', 'paytm_pg', 'juspay', 'stripe', 'easebuzz', 'phonepe_pg'];
/** The gateway the benchmark catalogs put behind an aggregator, and that aggregator. */
export const AGGREGATED_GATEWAY = GATEWAYS[1]!;
export const AGGREGATOR = 'bench_aggregator';
const ERROR_CODES = ['GATEWAY_TIMEOUT', 'BANK_DECLINED', 'INSUFFICIENT_FUNDS', 'USER_CANCELLED', 'ISSUER_UNAVAILABLE'];

export interface Route {
  method: string;
  gateway: string;
}

/** 100 banks × (netbanking, card) × 5 gateways = 1,000 routes (of 10 gateways). */
export function thousandRoutes(): Route[] {
  const routes: Route[] = [];
  for (let bank = 0; bank < 100; bank += 1) {
    const name = `bank_${String(bank).padStart(3, '0')}`;
    for (const mode of ['netbanking', 'card']) {
      for (let g = 0; g < 5; g += 1) routes.push({ method: `${mode}:${name}`, gateway: GATEWAYS[(bank + g * 2 + (mode === 'card' ? 1 : 0)) % GATEWAYS.length]! });
    }
  }
  return routes;
}

export interface CatalogMethod {
  method: string;
  gateways: string[];
  priority?: number;
  attributes?: Record<string, string>;
}

const NAMED_METHODS = [
  'upi:gpay', 'upi:phonepe', 'upi:paytm', 'upi:bhim', 'upi:amazonpay', 'upi:cred',
  'card:visa', 'card:mastercard', 'card:rupay', 'card:amex', 'card:diners',
  'netbanking:hdfc', 'netbanking:icici', 'netbanking:sbi', 'netbanking:axis', 'netbanking:kotak',
  'netbanking:yes', 'netbanking:pnb', 'netbanking:bob', 'netbanking:idfc', 'netbanking:indusind',
  'wallet:paytm', 'wallet:amazonpay', 'wallet:mobikwik', 'wallet:freecharge', 'wallet:airtel',
  'emi:hdfc', 'emi:icici', 'paylater:simpl', 'paylater:lazypay',
];
const NETWORKS = ['visa', 'mastercard', 'rupay'];

/**
 * A checkout catalog of `size` methods on 1 or 2 of four gateways: the 30 named ones, then
 * generated bank methods (netbanking, EMI and issuer cards) carrying issuer and network attributes,
 * so scopes over an issuer or a network match them.
 */
export function checkoutCatalog(size = 30): CatalogMethod[] {
  const methods: { method: string; attributes?: Record<string, string> }[] = NAMED_METHODS.slice(0, size).map((method) => ({ method }));
  for (let i = 0; methods.length < size; i += 1) {
    const bank = `bank_${String(Math.floor(i / 3)).padStart(3, '0')}`;
    const kind = i % 3;
    if (kind === 0) methods.push({ method: `netbanking:${bank}`, attributes: { issuer: bank } });
    else if (kind === 1) methods.push({ method: `card:${bank}_${NETWORKS[i % NETWORKS.length]}`, attributes: { issuer: bank, network: NETWORKS[i % NETWORKS.length]! } });
    else methods.push({ method: `emi:${bank}`, attributes: { issuer: bank } });
  }
  return methods.map((m, i) => ({
    ...m,
    gateways: i % 3 === 0 ? [GATEWAYS[i % 4]!] : [GATEWAYS[i % 4]!, GATEWAYS[(i + 1) % 4]!],
    ...(i < 6 ? { priority: 2 } : {}),
  }));
}

/** A deterministic pseudo-random stream (mulberry32, the simulator's), so runs generate the same traffic. */
export { mulberry32 as rng } from '../sim/random';

/** A generated attempt: the wire record, always with its time. */
export type Attempt = TransactionRecord & { at: string };

/**
 * `count` attempts spread round-robin over `routes`, about 93% successes; ids are
 * `${prefix}-${n}` so they are unique per prefix. `at` is uniform over [from, to], or, with
 * `ordered` of total T, the n-th of T attempts falls at from + n/T of the span (arrival order,
 * as a checkout posts them).
 */
export function attempts(routes: readonly Route[], count: number, prefix: string, from: number, to: number, random: () => number, offset = 0, ordered?: number): Attempt[] {
  const out: Attempt[] = new Array<Attempt>(count);
  for (let i = 0; i < count; i += 1) {
    const n = offset + i;
    const route = routes[n % routes.length]!;
    const ok = random() < 0.93;
    const a: Attempt = {
      id: `${prefix}-${n}`,
      userId: `user_${Math.floor(random() * 200_000)}`,
      method: route.method,
      gateway: route.gateway,
      status: ok ? 'success' : 'failure',
      at: new Date(from + Math.floor(ordered ? (n / ordered) * (to - from) : random() * (to - from))).toISOString(),
    };
    if (!ok) a.errorCode = ERROR_CODES[Math.floor(random() * ERROR_CODES.length)]!;
    out[i] = a;
  }
  return out;
}

/** The document the Ingestor stores for an attempt on a route no downtime covers. */
export function storedDoc(a: Attempt, receivedAt: Date, userCodes: ReadonlySet<string>, countToken?: string): TransactionDoc {
  const doc: TransactionDoc = {
    _id: a.id,
    userId: a.userId,
    method: a.method,
    mode: modeOf(a.method),
    gateway: a.gateway,
    status: a.status,
    outcome: classifyOutcome(a.status, a.errorCode, userCodes),
    at: new Date(a.at),
    receivedAt,
  };
  if (countToken !== undefined) doc.countToken = countToken;
  if (a.errorCode !== undefined) doc.errorCode = a.errorCode;
  return doc;
}

/**
 * `count` distinct scopes in a shuffled order of every shape an incident takes: the catalog's
 * routes and methods, modes, gateways, the aggregator, issuers, networks, issuer-gateway pairs,
 * then methods no shop offers (downtimes detected on other merchants' traffic), so a state of
 * N open downtimes mixes wide and narrow scopes as a bad day does.
 */
export function incidentScopes(catalog: CatalogMethod[], count: number): Scope[] {
  const scopes: Scope[] = [];
  const gateways = [...new Set(catalog.flatMap((m) => m.gateways))];
  const issuers = [...new Set(catalog.map((m) => m.attributes?.issuer).filter((x): x is string => x !== undefined))];
  for (const m of catalog) for (const gateway of m.gateways) scopes.push({ method: m.method, gateway });
  for (const m of catalog) scopes.push({ method: m.method });
  for (const mode of new Set(catalog.map((m) => m.method.split(':')[0]!))) scopes.push({ mode });
  for (const gateway of gateways) scopes.push({ gateway });
  scopes.push({ aggregator: AGGREGATOR });
  for (const issuer of issuers) scopes.push({ issuer });
  for (const network of ['visa', 'mastercard', 'rupay']) scopes.push({ network });
  for (const issuer of issuers) for (const gateway of gateways) scopes.push({ issuer, gateway });
  for (let i = 0; scopes.length < count; i += 1) scopes.push({ method: `netbanking:elsewhere_${i}`, gateway: GATEWAYS[i % GATEWAYS.length]! });
  const random = mulberry32(11);
  for (let i = scopes.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [scopes[i], scopes[j]] = [scopes[j]!, scopes[i]!];
  }
  return scopes.slice(0, count);
}
