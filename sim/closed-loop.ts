/**
 * The closed loop against the running system: each simulated checkout asks the real API for the
 * user's payment options, takes the preferred method if offered (otherwise the first option),
 * pays against the ground truth, and posts the outcome through POST /v1/transactions as a
 * checkout would. Meanwhile an operator polls GET /v1/downtimes every second.
 */
import { loadavg } from 'node:os';
import type { PolicyDowntime, PolicyRun } from './baseline';
import { emptyRun } from './baseline';
import type { ApiClient } from './http';
import type { StackKeys } from './stack';
import { Checkout, Outcome, World, outcomeOf, userId } from './truth';
import type { TransactionRecord } from '../common/transaction';

export interface OptionsBody {
  options: { method: string; mode: string; gateway: string; state: 'available' | 'probe' }[];
  unavailable: { method: string; downtimeId: string }[];
}

interface DowntimeBody {
  id: string;
  scopeKey: string;
  scope: PolicyDowntime['scope'];
  origin: string;
  openedAt: string;
  disabledAt?: string;
  resolvedAt?: string;
  endReason?: string;
  reopensId?: string;
  supersededBy?: string;
  probePercent?: number;
  lastProbe?: { verdict: string; samples: number; successes: number; llr: number };
}

/** What the operator saw of a downtime's probe at one poll. */
export interface ProbeTrace {
  t: number;
  downtimeId: string;
  probePercent: number;
  verdict?: string;
  samples?: number;
  successes?: number;
  llr?: number;
}

type Transaction = TransactionRecord & { at: string };

export interface LoopHealth {
  /** How late checkouts were handled relative to their scheduled time. */
  lagMs: { mean: number; p99: number; max: number };
  optionsLatencyMs: { p50: number; p99: number };
  httpErrors: number;
  firstError?: string;
  transactionsPosted: number;
  transactionsRejected: number;
  /** POST /v1/transactions: how long a batch took, and the most outcomes waiting to be posted. */
  ingestLatencyMs: { p50: number; p99: number; max: number };
  maxQueued: number;
  /** The machine's 1-minute load average during the run (2 cores), sampled every 10 s. */
  loadAverage: { mean: number; max: number };
  downtimePolls: number;
}

export interface LoopResult {
  /** Wall-clock ms of simulated time 0. */
  t0: number;
  run: PolicyRun;
  /** The probe of every open downtime, each time it changed. */
  probes: ProbeTrace[];
  health: LoopHealth;
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0);

export function toPolicyDowntime(d: DowntimeBody, t0: number): PolicyDowntime {
  const sec = (iso: string | undefined) => (iso === undefined ? undefined : (Date.parse(iso) - t0) / 1000);
  return {
    id: d.id,
    scopeKey: d.scopeKey,
    scope: d.scope,
    origin: d.origin,
    openedAt: sec(d.openedAt)!,
    disabledAt: sec(d.disabledAt),
    resolvedAt: sec(d.resolvedAt),
    endReason: d.endReason,
    reopensId: d.reopensId,
    supersededBy: d.supersededBy,
  };
}

/**
 * A checkout shown `options`: it takes its preferred method if offered, otherwise the first
 * option, and pays against the ground truth; the choice and outcome are recorded in `run`.
 * Undefined when nothing was offered; a message when an option is not in the world's catalog.
 */
export function payWith(world: World, routeIndex: ReadonlyMap<string, number>, run: PolicyRun, c: Checkout, options: OptionsBody['options']): { choice: OptionsBody['options'][number]; outcome: Outcome } | string | undefined {
  const preferred = world.scenario.catalog[c.preferred]!.method;
  const offered = options.find((x) => x.method === preferred);
  if (!offered) run.hidden[c.index] = 1;
  const choice = offered ?? options[0];
  if (!choice) return undefined;
  const route = routeIndex.get(`${choice.method}@${choice.gateway}`);
  if (route === undefined) return `payment options offered ${choice.method}@${choice.gateway}, not in the scenario's catalog`;
  const outcome = outcomeOf(world, route, c);
  run.route[c.index] = route;
  run.probe[c.index] = choice.state === 'probe' ? 1 : 0;
  run.success[c.index] = outcome.status === 'success' ? 1 : 0;
  return { choice, outcome };
}

export interface LoopOptions {
  world: World;
  api: ApiClient;
  keys: StackKeys;
  checkouts: readonly Checkout[];
  durationSec: number;
  t0: number;
  /** Checkouts handled at once at most. */
  concurrency?: number;
  log: (line: string) => void;
}

export async function runClosedLoop(o: LoopOptions): Promise<LoopResult> {
  const { world, api, keys, checkouts, t0 } = o;
  const concurrency = o.concurrency ?? 24;
  const run = emptyRun('product', checkouts.length);
  const routeIndex = new Map(world.routes.map((r) => [r.key, r.index]));
  const lags: number[] = [];
  const latencies: number[] = [];
  const ingestLatencies: number[] = [];
  const health: LoopHealth = {
    lagMs: { mean: 0, p99: 0, max: 0 },
    optionsLatencyMs: { p50: 0, p99: 0 },
    httpErrors: 0,
    transactionsPosted: 0,
    transactionsRejected: 0,
    ingestLatencyMs: { p50: 0, p99: 0, max: 0 },
    maxQueued: 0,
    loadAverage: { mean: 0, max: 0 },
    downtimePolls: 0,
  };
  const error = (what: string) => {
    health.httpErrors += 1;
    health.firstError ??= what;
  };
  const downtimes = new Map<string, PolicyDowntime>();
  const probes: ProbeTrace[] = [];
  const lastTrace = new Map<string, string>();
  let pending: Transaction[] = [];

  /** One POST in flight at a time: outcomes queued meanwhile go in the next batch (group commit). */
  let posting: Promise<void> | undefined;
  let retryAt = 0;
  const flush = (): Promise<void> => {
    if (posting || pending.length === 0 || Date.now() < retryAt) return posting ?? Promise.resolve();
    health.maxQueued = Math.max(health.maxQueued, pending.length);
    const batch = pending.slice(0, 1000);
    pending = pending.slice(batch.length);
    const sent = Date.now();
    posting = api
      .call<{ accepted: number; duplicates: number; rejected: unknown[] }>('POST', '/v1/transactions', keys.ingest, { transactions: batch }, 60_000)
      .then((res) => {
        if (res.status !== 202) {
          // The checkout retries a batch the API could not take (503: database unavailable).
          if (res.status === 503) {
            pending = [...batch, ...pending];
            retryAt = Date.now() + 1000;
          }
          return error(`POST /v1/transactions → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        }
        ingestLatencies.push(Date.now() - sent);
        health.transactionsPosted += res.body.accepted + res.body.duplicates;
        health.transactionsRejected += res.body.rejected.length;
      })
      .catch((err: Error) => {
        // Idempotent by id: resend what may not have arrived; what did comes back as duplicates.
        pending = [...batch, ...pending];
        retryAt = Date.now() + 1000;
        error(`POST /v1/transactions: ${err.message}`);
      })
      .finally(() => {
        posting = undefined;
      });
    return posting;
  };

  const poll = async () => {
    try {
      const res = await api.get<{ downtimes: DowntimeBody[] }>('/v1/downtimes?limit=500', keys.operator);
      if (res.status !== 200) return error(`GET /v1/downtimes → ${res.status}`);
      health.downtimePolls += 1;
      const t = (Date.now() - t0) / 1000;
      for (const d of res.body.downtimes) {
        downtimes.set(d.id, toPolicyDowntime(d, t0));
        if (d.resolvedAt !== undefined) continue;
        const p = d.lastProbe;
        const trace: ProbeTrace = {
          t,
          downtimeId: d.id,
          probePercent: d.probePercent ?? 0,
          ...(p ? { verdict: p.verdict, samples: p.samples, successes: p.successes, llr: Math.round(p.llr * 1000) / 1000 } : {}),
        };
        const key = JSON.stringify({ ...trace, t: 0 });
        if (lastTrace.get(d.id) !== key) probes.push(trace);
        lastTrace.set(d.id, key);
      }
    } catch (err) {
      error(`GET /v1/downtimes: ${(err as Error).message}`);
    }
  };

  const handle = async (c: Checkout) => {
    const started = Date.now();
    lags.push(started - (t0 + c.t * 1000));
    let body: OptionsBody;
    try {
      const res = await api.get<OptionsBody>(`/v1/payment-options?userId=${userId(c.user)}`, keys.checkout);
      latencies.push(Date.now() - started);
      if (res.status !== 200) return error(`GET /v1/payment-options → ${res.status}`);
      body = res.body;
    } catch (err) {
      return error(`GET /v1/payment-options: ${(err as Error).message}`);
    }
    const paid = payWith(world, routeIndex, run, c, body.options);
    if (paid === undefined) return;
    if (typeof paid === 'string') return error(paid);
    const { choice, outcome } = paid;
    pending.push({
      id: `sim-${c.index}`,
      userId: userId(c.user),
      method: choice.method,
      gateway: choice.gateway,
      status: outcome.status,
      ...(outcome.errorCode ? { errorCode: outcome.errorCode } : {}),
      at: new Date(started).toISOString(),
    });
  };

  const flushTimer = setInterval(() => void flush(), 200);
  const pollTimer = setInterval(() => void poll(), 1000);
  const loads: number[] = [];
  const loadTimer = setInterval(() => loads.push(loadavg()[0]!), 10_000);
  const progressTimer = setInterval(() => {
    const elapsed = (Date.now() - t0) / 1000;
    const open = [...downtimes.values()].filter((d) => d.resolvedAt === undefined).map((d) => d.scopeKey);
    o.log(`t=${elapsed.toFixed(0)}s/${o.durationSec.toFixed(0)}s open downtimes: ${open.join(' ') || 'none'}`);
  }, 30_000);
  try {
    const inFlight = new Set<Promise<void>>();
    let next = 0;
    while (next < checkouts.length && checkouts[next]!.t < o.durationSec) {
      const elapsed = (Date.now() - t0) / 1000;
      while (next < checkouts.length && checkouts[next]!.t <= elapsed && checkouts[next]!.t < o.durationSec && inFlight.size < concurrency) {
        const p = handle(checkouts[next]!).finally(() => inFlight.delete(p));
        inFlight.add(p);
        next += 1;
      }
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
      else {
        const due = next < checkouts.length ? t0 + checkouts[next]!.t * 1000 - Date.now() : 0;
        await new Promise((r) => setTimeout(r, Math.max(0, Math.min(20, due))));
      }
    }
    await Promise.all(inFlight);
    const endAt = t0 + o.durationSec * 1000;
    if (Date.now() < endAt) await new Promise((r) => setTimeout(r, endAt - Date.now()));
    const drainBy = Date.now() + 30_000;
    while ((pending.length || posting) && Date.now() < drainBy) {
      await flush();
      if (pending.length && !posting) await new Promise((r) => setTimeout(r, 200));
    }
    if (pending.length) error(`${pending.length} outcomes could not be posted by the end of the run`);
    await new Promise((r) => setTimeout(r, 1500));
    await poll();
  } finally {
    clearInterval(flushTimer);
    clearInterval(pollTimer);
    clearInterval(progressTimer);
    clearInterval(loadTimer);
  }
  run.downtimes = [...downtimes.values()].sort((a, b) => a.openedAt - b.openedAt);
  health.loadAverage = { mean: loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length), max: Math.max(0, ...loads) };
  lags.sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  health.lagMs = { mean: lags.reduce((a, b) => a + b, 0) / Math.max(1, lags.length), p99: quantile(lags, 0.99), max: lags[lags.length - 1] ?? 0 };
  health.optionsLatencyMs = { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
  ingestLatencies.sort((a, b) => a - b);
  health.ingestLatencyMs = { p50: quantile(ingestLatencies, 0.5), p99: quantile(ingestLatencies, 0.99), max: ingestLatencies[ingestLatencies.length - 1] ?? 0 };
  return { t0, run, probes, health };
}
