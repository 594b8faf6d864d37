/**
 * The checkout's hot path, worked out once per snapshot so a request's cost does not grow with
 * the number of open downtimes.
 *
 * - `CoverIndex`: which open, disabled downtimes cover a route, oldest first. Downtimes are
 *   filed under the most selective dimension their scope pins (method, gateway, aggregator, mode,
 *   else attributes only), so a route is matched against the downtimes that could cover it rather
 *   than all of them, and each route's answer is kept until the open downtimes change.
 * - `CheckoutPlan`: every catalog method as every user sees it, in display order, as JSON pieces:
 *   text every user gets, and pieces that depend on one bucket test (is the user in bucket B of
 *   this downtime at this share?). Runs of fixed pieces are joined at plan time, so a request
 *   does one bucket hash per distinct test (at most one per catalog method, however many
 *   downtimes are open) and joins a few strings.
 */
import { bucketSeed, bucketSlot, modeOf, scopeMatchesRoute } from '../domain';
import type { Route, Scope, Topology } from '../domain';

/** What the index and the plan need of an open downtime. */
export interface CoverableDowntime {
  id: string;
  scope: Scope;
  probePercent: number;
  /** Only disabled downtimes hide anything. */
  disabledAt?: number;
}

/** Routes whose covering downtimes are kept per index; beyond it they are worked out per call. */
const MAX_MEMO_ROUTES = 50_000;
const NONE: readonly never[] = Object.freeze([]);

export class CoverIndex<D extends CoverableDowntime> {
  private readonly byMethod = new Map<string, number[]>();
  private readonly byGateway = new Map<string, number[]>();
  private readonly byAggregator = new Map<string, number[]>();
  private readonly byMode = new Map<string, number[]>();
  private readonly rest: number[] = [];
  private readonly memo = new Map<string, readonly D[]>();

  /** `downtimes` oldest first: the first covering one decides a user's bucket. */
  constructor(
    private readonly downtimes: readonly D[],
    private readonly topology: Topology,
  ) {
    const file = (map: Map<string, number[]>, key: string, i: number) => {
      const list = map.get(key);
      if (list) list.push(i);
      else map.set(key, [i]);
    };
    downtimes.forEach((d, i) => {
      if (d.disabledAt === undefined) return;
      const s = d.scope;
      if (s.method !== undefined) file(this.byMethod, s.method, i);
      else if (s.gateway !== undefined) file(this.byGateway, s.gateway, i);
      else if (s.aggregator !== undefined) file(this.byAggregator, s.aggregator, i);
      else if (s.mode !== undefined) file(this.byMode, s.mode, i);
      else this.rest.push(i);
    });
  }

  /** The disabled downtimes covering the route (disabled by `at`, when given), oldest first. */
  covering(route: Route, at?: number): readonly D[] {
    const key = `${route.method}@${route.gateway}`;
    let all = this.memo.get(key);
    if (all === undefined) {
      all = this.match(route);
      if (this.memo.size < MAX_MEMO_ROUTES) this.memo.set(key, all);
    }
    return at === undefined || all.every((d) => d.disabledAt! <= at) ? all : all.filter((d) => d.disabledAt! <= at);
  }

  private match(route: Route): readonly D[] {
    const aggregator = this.topology.aggregators[route.gateway];
    const candidates = [
      ...(this.byMethod.get(route.method) ?? NONE),
      ...(this.byGateway.get(route.gateway) ?? NONE),
      ...(aggregator !== undefined ? this.byAggregator.get(aggregator) ?? NONE : NONE),
      ...(this.byMode.get(modeOf(route.method)) ?? NONE),
      ...this.rest,
    ];
    if (candidates.length === 0) return NONE;
    return candidates
      .filter((i) => scopeMatchesRoute(this.downtimes[i]!.scope, route, this.topology))
      .sort((a, b) => a - b)
      .map((i) => this.downtimes[i]!);
  }
}

export interface PaymentOption {
  method: string;
  mode: string;
  gateway: string;
  state: 'available' | 'probe';
  warning?: string;
}

export interface PaymentOptions {
  options: PaymentOption[];
  unavailable: { method: string; downtimeId: string }[];
}

/** A catalog method as the plan needs it. */
export interface PlanMethod {
  method: string;
  gateways: readonly string[];
  priority?: number;
}

/** Is the user in bucket B of this downtime at this share? (`slot < threshold`, see domain/bucket.ts) */
interface BucketTest {
  downtimeId: string;
  threshold: number;
}

/** JSON text for a user in bucket A of `test` and for one in bucket B; '' is nothing. */
interface Choice {
  test: number;
  a: string;
  b: string;
}

type Piece = string | Choice;

export interface CheckoutPlan {
  tests: BucketTest[];
  /** The options array's elements in display order. */
  options: Piece[];
  /** The unavailable array's elements in catalog order. */
  unavailable: Piece[];
}

export interface PlanPolicy {
  /** The share of a downtime's probe share that still pays through a covered first gateway when the method fails over. */
  failoverProbeFraction: number;
  /** The warning a probed method carries. */
  warning(method: string): string;
  /** A route's display score contribution (its recent success rate). */
  rate(route: Route): number;
}

/**
 * The plan of one snapshot: failover to the first healthy gateway (a share of bucket B still
 * probes the covered first gateway), hidden from bucket A when no gateway is healthy and shown
 * to bucket B as a probe; shown methods by score (priority + 10 × success rate) then catalog
 * order, probes of hidden methods last in catalog order.
 */
export function buildCheckoutPlan(catalog: readonly PlanMethod[], cover: CoverIndex<CoverableDowntime>, policy: PlanPolicy): CheckoutPlan {
  const tests: BucketTest[] = [];
  const testIndex = new Map<string, number>();
  const testOf = (downtimeId: string, percent: number): number => {
    const threshold = percent * 100;
    const key = `${threshold}|${downtimeId}`;
    let i = testIndex.get(key);
    if (i === undefined) {
      i = tests.push({ downtimeId, threshold }) - 1;
      testIndex.set(key, i);
    }
    return i;
  };
  const shown: { piece: Piece; score: number; order: number }[] = [];
  const hidden: Piece[] = [];
  const unavailable: Piece[] = [];
  catalog.forEach((entry, order) => {
    const mode = modeOf(entry.method);
    const first = entry.gateways[0]!;
    const option = (gateway: string, state: PaymentOption['state']): string =>
      JSON.stringify(state === 'probe' ? { method: entry.method, mode, gateway, state, warning: policy.warning(entry.method) } : { method: entry.method, mode, gateway, state });
    const healthy = entry.gateways.find((gateway) => cover.covering({ method: entry.method, gateway }).length === 0);
    if (healthy !== undefined) {
      const score = (entry.priority ?? 0) + 10 * policy.rate({ method: entry.method, gateway: healthy });
      const covering = first === healthy ? undefined : cover.covering({ method: entry.method, gateway: first })[0];
      const available = option(healthy, 'available');
      const piece: Piece = covering ? { test: testOf(covering.id, covering.probePercent * policy.failoverProbeFraction), a: available, b: option(first, 'probe') } : available;
      shown.push({ piece, score, order });
      return;
    }
    const covering = cover.covering({ method: entry.method, gateway: first })[0]!;
    const test = testOf(covering.id, covering.probePercent);
    hidden.push({ test, a: '', b: option(first, 'probe') });
    unavailable.push({ test, a: JSON.stringify({ method: entry.method, downtimeId: covering.id }), b: '' });
  });
  shown.sort((x, y) => (x.score === y.score ? x.order - y.order : y.score - x.score));
  return { tests, options: joinFixed([...shown.map((s) => s.piece), ...hidden]), unavailable: joinFixed(unavailable) };
}

/** Adjacent fixed pieces as one comma-joined string. */
function joinFixed(pieces: readonly Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = `${last},${p}`;
    else out.push(p);
  }
  return out;
}

/** Scratch for one request's bucket tests (requests run one at a time on the event loop). */
let inB = new Uint8Array(64);

/**
 * Which of the plan's bucket tests the user is in (1: bucket B), one per test; the answer depends
 * on the user through these alone. A view of scratch space, valid until the next call.
 */
export function bucketTests(plan: CheckoutPlan, userId: string): Uint8Array {
  const { tests } = plan;
  if (tests.length > 0) {
    if (inB.length < tests.length) inB = new Uint8Array(tests.length * 2);
    const seed = bucketSeed(userId);
    for (let i = 0; i < tests.length; i += 1) inB[i] = bucketSlot(seed, tests[i]!.downtimeId) < tests[i]!.threshold ? 1 : 0;
  }
  return inB.subarray(0, tests.length);
}

/** One user's answer under the plan, as the JSON text the API sends. */
export function answerJson(plan: CheckoutPlan, userId: string): string {
  bucketTests(plan, userId);
  return `{"options":[${pick(plan.options)}],"unavailable":[${pick(plan.unavailable)}]}`;
}

function pick(pieces: readonly Piece[]): string {
  let out = '';
  for (const p of pieces) {
    const text = typeof p === 'string' ? p : inB[p.test] === 1 ? p.b : p.a;
    if (text !== '') out = out === '' ? text : `${out},${text}`;
  }
  return out;
}
