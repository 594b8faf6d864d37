/**
 * Generated worlds (`npm run simulate -- --generate N --seed S`): scenarios drawn at random, so
 * that the decision rules are judged on outages nobody tuned them on. World i of a run has the
 * seed S + i and is the same world whenever that seed is drawn (`--generate 1 --seed S+i`
 * replays it; its scenario file is written beside its report, to keep as a named scenario).
 *
 * A world: 3–15 methods over 1–4 gateways (some behind an aggregator), skewed shares (a few big
 * methods, a long tail), base success rates 0.80–0.98 with user-caused failures, the ordinary
 * wander of the rates, arrivals that follow part of a day's curve with surges in half the worlds
 * (`drawTraffic`), and 0–3 outages of one shape each (its `label`): a route, a method, a
 * mode, a gateway, an aggregator, an issuer or a card network, a UPI app; partial (success
 * 0.3–0.7) or hard (0–0.1); short (20 s) or long; overlapping another; flapping; during a freeze;
 * on a low-traffic method. About one world in ten is quiet (no outage).
 *
 * Worlds are short already (at most a few minutes): the default run does not compress them.
 */
import type { Scope } from '../domain/scope';
import { mulberry32 } from './random';
import { Scenario, parseScenario } from './scenario';
import { buildWorld } from './truth';

export const OUTAGE_SHAPES = ['route', 'method', 'mode', 'gateway', 'aggregator', 'issuer', 'network', 'upi-app', 'partial', 'short', 'overlapping', 'flapping', 'freeze', 'low-traffic'] as const;
export type OutageShape = (typeof OUTAGE_SHAPES)[number];

const GATEWAYS = ['razorpay', 'payu', 'cashfree', 'paytm'];
const BANKS = ['hdfc', 'icici', 'sbi', 'axis', 'kotak', 'yes', 'pnb', 'bob'];
const NETWORKS = ['visa', 'mastercard', 'rupay'];
const UPI_APPS = ['gpay', 'phonepe', 'paytm', 'bhim', 'cred'];

type Rand = () => number;
const between = (r: Rand, lo: number, hi: number) => lo + (hi - lo) * r();
const int = (r: Rand, lo: number, hi: number) => Math.floor(between(r, lo, hi + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const round = (x: number, step = 1) => Number((Math.round(x / step) * step).toFixed(6));

/** Every method the generator may offer, with the attributes a scope can name. */
function methodPool(): { method: string; attributes?: Scenario['catalog'][number]['attributes'] }[] {
  const cards = BANKS.flatMap((bank) => (['credit', 'debit'] as const).map((type, k) => ({ method: `card:${bank}_${type}`, attributes: { issuer: bank, network: NETWORKS[(bank.length + k) % NETWORKS.length]!, type } })));
  const netbanking = BANKS.map((bank) => ({ method: `netbanking:${bank}`, attributes: { issuer: bank } }));
  const upi = UPI_APPS.map((app) => ({ method: `upi:${app}`, attributes: { psp: app } }));
  const wallets = ['wallet:paytm', 'wallet:amazonpay', 'wallet:mobikwik'].map((method) => ({ method }));
  return [...cards, ...netbanking, ...upi, ...wallets];
}

/** One generated world for `seed`: a valid scenario (checked by the scenario schema). */
export function generateScenario(seed: number): Scenario {
  const r = mulberry32(seed ^ 0x5eed);
  const gateways = GATEWAYS.slice(0, int(r, 1, 4));
  const aggregated = gateways.length >= 3 && r() < 0.4 ? gateways.slice(0, 2) : [];
  const pool = methodPool();
  const nMethods = int(r, 3, 15);
  const chosen: typeof pool = [];
  while (chosen.length < nMethods) {
    const m = pick(r, pool);
    if (!chosen.includes(m)) chosen.push(m);
  }
  // Skewed shares: Zipf-like weights over a random order, a few big methods and a long tail.
  const exponent = between(r, 0.8, 1.6);
  const weights = chosen.map((_, i) => 1 / (i + 1) ** exponent);
  const total = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => round(w / total, 0.0001));
  shares[0] = round(1 - shares.slice(1).reduce((a, b) => a + b, 0), 0.0001);
  const catalog: Scenario['catalog'] = chosen.map((m, i) => {
    const own = gateways.filter(() => r() < 0.7);
    const routes = own.length > 0 ? own : [pick(r, gateways)];
    return { method: m.method, gateways: r() < 0.5 ? routes : [...routes].reverse(), share: shares[i]!, successRate: round(between(r, 0.8, 0.98), 0.01), ...(m.attributes ? { attributes: m.attributes } : {}) };
  });

  const lead = int(r, 30, 60);
  const quiet = r() < 0.1;
  const nOutages = quiet ? 0 : int(r, 1, 3);
  const outages: Scenario['outages'] = [];
  const freezeWindows: NonNullable<Scenario['freezeWindows']> = [];
  let at = lead;
  for (let k = 0; k < nOutages; k += 1) {
    const shape = pick(r, OUTAGE_SHAPES);
    const drawn = drawOutage(r, shape, catalog, aggregated, at);
    if (!drawn) continue;
    outages.push(...drawn.outages);
    if (drawn.freeze) freezeWindows.push(drawn.freeze);
    at = Math.max(...drawn.outages.map((o) => o.endSec)) + int(r, 20, 60);
  }
  const durationSec = at + int(r, 40, 60);
  const checkoutsPerSec = int(r, 40, 150);
  const userFailureShare = round(between(r, 0.4, 0.8), 0.05);
  const variance = { amplitude: round(between(r, 0, 0.03), 0.005), periodSec: int(r, 120, 600) };
  const traffic = drawTraffic(r, durationSec);
  const scenario = parseScenario(
    {
      name: `generated-${seed}`,
      description: describe(catalog, gateways, outages, seed, traffic),
      seed,
      durationSec,
      checkoutsPerSec,
      users: 20_000,
      userFailureShare,
      catalog,
      ...(aggregated.length ? { gateways: gateways.map((g) => (aggregated.includes(g) ? { gateway: g, aggregator: 'juspay' } : { gateway: g })) } : {}),
      outages,
      ...(freezeWindows.length ? { freezeWindows } : {}),
      variance,
      traffic,
    },
    `generated world ${seed}`,
  );
  // An outage whose scope names nothing the catalog routes through (a mode on a gateway none of
  // its methods uses) is no outage: left out, with its freeze window.
  const world = buildWorld(scenario);
  const kept = scenario.outages.filter((_, k) => world.outageRoutes[k]!.length > 0);
  if (kept.length === scenario.outages.length) return scenario;
  const freezes = (scenario.freezeWindows ?? []).filter((f) => kept.some((o) => o.startSec >= f.startSec && o.endSec <= f.endSec));
  return parseScenario({ ...scenario, description: describe(scenario.catalog, gateways, kept, seed, traffic), outages: kept, freezeWindows: freezes.length ? freezes : undefined }, `generated world ${seed}`);
}

/**
 * Arrivals over the world: part of a day's curve (a swing of up to ±60% over a period of one to
 * three world lengths, at any phase) and, in half the worlds, one or two surges of 2–4 times the
 * traffic for 10–40 s, which may land on an outage.
 */
function drawTraffic(r: Rand, durationSec: number): NonNullable<Scenario['traffic']> {
  const swing = round(between(r, 0, 0.6), 0.05);
  const periodSec = int(r, durationSec, 3 * durationSec);
  const phase = round(r(), 0.01);
  const n = pick(r, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]);
  const surges = Array.from({ length: n }, () => {
    const startSec = int(r, 10, Math.max(10, durationSec - 20));
    return { startSec, endSec: Math.min(durationSec, startSec + int(r, 10, 40)), multiplier: round(between(r, 2, 4), 0.1) };
  }).sort((a, b) => a.startSec - b.startSec);
  return { swing, periodSec, phase, ...(surges.length ? { surges } : {}) };
}

function describe(catalog: Scenario['catalog'], gateways: string[], outages: Scenario['outages'], seed: number, traffic: NonNullable<Scenario['traffic']>): string {
  const surges = (traffic.surges ?? []).map((s) => `; surge x${s.multiplier} at ${s.startSec}-${s.endSec} s`).join('');
  return `generated world ${seed}: ${catalog.length} methods over ${gateways.length} gateway(s); ${outages.map((o) => o.label).join(', ') || 'quiet'}${surges}`;
}

interface Drawn {
  outages: Scenario['outages'];
  freeze?: { startSec: number; endSec: number; name: string };
}

/** One outage of `shape` from `at` (or several: flapping, overlapping); undefined when the catalog has nothing of that shape. */
function drawOutage(r: Rand, shape: OutageShape, catalog: Scenario['catalog'], aggregated: string[], at: number): Drawn | undefined {
  const hard = () => round(between(r, 0, 0.1), 0.01);
  const length = () => int(r, 60, 180);
  const one = (scope: Scope, successRate = hard(), startSec = at, endSec = at + length(), label: string = shape) => ({ scope, startSec, endSec, successRate, label });
  const byShare = [...catalog].sort((a, b) => b.share - a.share);
  const anyMethod = () => pick(r, byShare.slice(0, Math.max(1, Math.ceil(byShare.length / 2)))).method;
  const attr = (k: 'issuer' | 'network' | 'psp') => [...new Set(catalog.map((c) => c.attributes?.[k]).filter((v): v is string => v !== undefined))];
  switch (shape) {
    case 'route': {
      const m = pick(r, byShare.slice(0, 3));
      return { outages: [one({ method: m.method, gateway: pick(r, m.gateways) })] };
    }
    case 'method':
      return { outages: [one({ method: anyMethod() })] };
    case 'mode': {
      const m = pick(r, byShare);
      return { outages: [one({ mode: m.method.split(':')[0]!, gateway: pick(r, m.gateways) })] };
    }
    case 'gateway':
      return { outages: [one({ gateway: pick(r, pick(r, byShare).gateways) })] };
    case 'aggregator':
      return aggregated.length ? { outages: [one({ aggregator: 'juspay' })] } : undefined;
    case 'issuer':
    case 'network':
    case 'upi-app': {
      const values = attr(shape === 'upi-app' ? 'psp' : shape);
      if (values.length === 0) return undefined;
      return { outages: [one({ [shape === 'upi-app' ? 'psp' : shape]: pick(r, values) })] };
    }
    case 'partial':
      return { outages: [one({ method: anyMethod() }, round(between(r, 0.3, 0.7), 0.01))] };
    case 'short':
      return { outages: [one({ method: anyMethod() }, hard(), at, at + 20)] };
    case 'overlapping': {
      const first = one({ method: anyMethod() });
      const other = anyMethod();
      const second = one({ method: other }, hard(), first.startSec + int(r, 10, 40), first.endSec + int(r, 10, 60));
      return first.scope.method === other ? { outages: [first] } : { outages: [first, second] };
    }
    case 'flapping': {
      const scope = { method: anyMethod() };
      const down = int(r, 15, 40);
      const up = int(r, 10, 30);
      return { outages: [0, 1, 2].map((i) => one(scope, hard(), at + i * (down + up), at + i * (down + up) + down)) };
    }
    case 'freeze': {
      const o = one({ method: anyMethod() });
      return { outages: [o], freeze: { startSec: o.startSec - 10, endSec: o.endSec + 60, name: 'generated peak' } };
    }
    case 'low-traffic': {
      const m = byShare[byShare.length - 1]!;
      return { outages: [one({ method: m.method }, hard(), at, at + int(r, 90, 240))] };
    }
  }
}

/** N worlds: seeds `seed` to `seed + count - 1`. */
export function generateScenarios(count: number, seed: number): Scenario[] {
  return Array.from({ length: count }, (_, i) => generateScenario(seed + i));
}
