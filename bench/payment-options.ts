/**
 * Payment options under incident load: GET /v1/payment-options on the real API (api/main.ts as a
 * child process, a 120-method catalog on 1-2 gateways with issuer and network attributes and one
 * gateway behind an aggregator, recent traffic) with 0, 10, 100 and 1,000 open downtimes of every
 * shape (routes, methods, modes, gateways, the aggregator, issuers, networks, issuer-gateway pairs
 * and methods outside the catalog), against a bare Fastify route that returns the same bytes: in
 * each state a real answer of the median size. A load generator in a process of its own
 * (bench/children/load.ts) loads each in alternating rounds: max throughput on fixed connections
 * (autocannon), then latency at a steady 2,000 req/s (an open-loop paced sender, latency from each
 * request's scheduled time).
 * Targets in every state: API ≥ 0.85 of the bare route's throughput; p99 ≤ 5 ms at 2,000 req/s.
 * Beside the throughput, each server's CPU time per answer over the throughput rounds (from
 * /proc): the load generator shares the cores, so throughput also says who got them; CPU per
 * answer says what an answer costs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, stopProcess, waitForPort } from '../scripts/local-servers';
import { connectDatabase } from '../db/mongo';
import { markDowntimeChanged } from '../db/downtime-changes';
import type { DowntimeDoc } from '../db/mongo';
import { normalizeScope, scopeKey } from '../domain';
import type { Scope } from '../domain';
import { BenchContext, BenchOutcome, KEYS, RunningChild, freePort, http, median, processUsage, round, runJsonChild, sleep, spawnTs, startApiProcess, thousands } from './support';
import type { LoadInput, LoadResult } from './children/load';
import { AGGREGATED_GATEWAY, AGGREGATOR, attempts, checkoutCatalog, incidentScopes, rng } from './workload';

const PATH = '/v1/payment-options';
const CONNECTIONS = 32;
const RATE = 2_000;
const USERS = 10_000;
const METHODS = 120;
export const OPEN_DOWNTIME_STATES = [0, 10, 100, 1_000];
/** BENCH_PO_STATES=1000 measures only the states listed (e.g. to profile one with BENCH_API_NODE_ARGS=--cpu-prof). */
const states = (process.env.BENCH_PO_STATES?.split(',').map(Number) ?? OPEN_DOWNTIME_STATES).filter((n) => Number.isInteger(n) && n >= 0);
const MIN_RATIO = 0.85;
const MAX_P99_MS = 5;

interface StateResult {
  open: number;
  answerBytes: number;
  apiPerSecond: number;
  barePerSecond: number;
  ratio: number;
  p50Ms: number;
  p99Ms: number;
  bareP99Ms: number;
  /** Server CPU per answer during the throughput rounds (µs): the cost, apart from who got the cores. */
  apiCpuUs: number | undefined;
  bareCpuUs: number | undefined;
  achievedPerSecond: number;
  failures: number;
  met: { throughput: boolean; latency: boolean };
  throughputRuns: ReturnType<typeof compact>[];
  rateRuns: ReturnType<typeof compact>[];
}

export async function paymentOptionsBench(ctx: BenchContext): Promise<BenchOutcome> {
  const logLevel = process.env.BENCH_API_LOG_LEVEL ?? 'info';
  const dbName = `bench_po_${Date.now().toString(36)}`;
  const nodeOptions = process.env.BENCH_API_NODE_OPTIONS;
  const api = await startApiProcess(ctx, dbName, join(ctx.workDir, 'logs/po-api.log'), { LOG_LEVEL: logLevel, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) });
  const db = await connectDatabase(ctx.mongoUri, dbName);
  try {
    const catalog = checkoutCatalog(METHODS);
    const put = await http(api.url, 'PUT', '/v1/catalog', KEYS.admin, { methods: catalog, gateways: [{ gateway: AGGREGATED_GATEWAY, aggregator: AGGREGATOR }] });
    if (put.status !== 200) throw new Error(`PUT /v1/catalog: ${put.status} ${put.text}`);
    const routes = catalog.flatMap((m) => m.gateways.map((gateway) => ({ method: m.method, gateway })));
    // Recent traffic for the success-rate ordering: 6 batches of 100, each within one 10 s counter
    // bucket (fewer than 100 counters per batch: FerretDB 1.24 hangs on an update of 100 or more statements).
    const now = Date.now();
    const random = rng(7);
    for (let b = 0; b < 6; b += 1) {
      const bucket = Math.floor((now - (b + 1) * 10_000) / 10_000) * 10_000;
      const res = await http<{ accepted: number }>(api.url, 'POST', '/v1/transactions', KEYS.ingest, {
        transactions: attempts(routes, 100, 'po', bucket, bucket + 9_000, random, b * 100),
      });
      if (res.status !== 202) throw new Error(`POST /v1/transactions: ${res.status} ${res.text}`);
    }
    const scopes = incidentScopes(catalog, Math.max(...states));
    ctx.log(`catalog ${catalog.length} methods / ${routes.length} routes; open downtimes drawn from ${scopes.length} scopes of every shape; API LOG_LEVEL=${logLevel}`);
    const results: StateResult[] = [];
    for (const open of states) {
      const gone = (await db.c.downtimes.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
      await db.c.downtimes.deleteMany({});
      await Promise.all(gone.map((id) => markDowntimeChanged(db, id, { closed: true })));
      const docs = scopes.slice(0, open).map((s, i) => downtimeDoc(s, i));
      for (let i = 0; i < docs.length; i += 50) await db.c.downtimes.insertMany(docs.slice(i, i + 50));
      await Promise.all(docs.map((d) => markDowntimeChanged(db, d._id)));
      await waitForOpenDowntimes(api.url, open);
      const state = await measureState(ctx, api, open);
      results.push(state);
      ctx.log(
        `${String(open).padStart(4)} open: api ${thousands(state.apiPerSecond)} req/s vs bare ${thousands(state.barePerSecond)} (${state.ratio.toFixed(2)}); ` +
          `at ${RATE} req/s p50 ${state.p50Ms.toFixed(2)} ms p99 ${state.p99Ms.toFixed(2)} ms (bare p99 ${state.bareP99Ms.toFixed(2)}); ` +
          `server CPU per answer ${state.apiCpuUs ?? '?'} µs vs bare ${state.bareCpuUs ?? '?'} µs; ${state.answerBytes}-byte answer${state.failures ? `; ${state.failures} non-2xx/errors!` : ''}`,
      );
    }
    const worstRatio = Math.min(...results.map((s) => s.ratio));
    const worstP99 = Math.max(...results.map((s) => s.p99Ms));
    const throughputMet = results.every((s) => s.met.throughput);
    const latencyMet = results.every((s) => s.met.latency);
    const failures = results.reduce((n, s) => n + s.failures, 0);
    const met = throughputMet && latencyMet && failures === 0;
    const perState = results.map((s) => `${s.open}: ${s.ratio.toFixed(2)}/${s.p99Ms.toFixed(1)}ms`).join(', ');
    const line =
      `payment-options  open downtimes → ratio to bare / p99@${RATE}rps: ${perState}` +
      `  worst ratio ${worstRatio.toFixed(2)} (target ≥ ${MIN_RATIO}), worst p99 ${worstP99.toFixed(1)} ms (target ≤ ${MAX_P99_MS})${failures ? `  ${failures} non-2xx/errors!` : ''}`;
    return {
      name: 'payment-options',
      line,
      summary: {
        figure: results.map((s) => `${s.open} open: ${thousands(s.apiPerSecond)} req/s, p99 ${s.p99Ms.toFixed(1)} ms, ${s.apiCpuUs ?? '?'} µs CPU/answer`).join('; '),
        baseline: `bare Fastify route, same bytes: ${results.map((s) => thousands(s.barePerSecond)).join(' / ')} req/s, ${results.map((s) => s.bareCpuUs ?? '?').join(' / ')} µs CPU/answer`,
        ratio: results.map((s) => s.ratio.toFixed(2)).join(' / '),
        target: `≥ ${MIN_RATIO} each; p99 ≤ ${MAX_P99_MS} ms at ${RATE} req/s`,
        met: met ? true : throughputMet || latencyMet ? 'partly' : false,
      },
      details: {
        what: 'GET /v1/payment-options?userId=<varies per request> on api/main.ts (child process, real FerretDB and Temporal, bearer auth, query validation, in-memory snapshot with a checkout plan rebuilt per refresh) with 0, 10, 100 and 1,000 open downtimes',
        baselineWhat: `bench/children/bare-server.ts: Fastify ${fastifyVersion()} with logger off, one GET route returning a constant JSON string: a real API answer of the median size in each state; no auth, no validation, no metrics`,
        loadGenerator: `a separate process (bench/children/load.ts), ${CONNECTIONS} connections, userId drawn from ${USERS} users: throughput by autocannon; the fixed rate by an open-loop paced sender (node:http keep-alive), latency from each request's scheduled send time (autocannon's rate limit bursts each second's quota)`,
        apiLogLevel: logLevel,
        catalog: { methods: catalog.length, routes: routes.length, aggregatedGateway: AGGREGATED_GATEWAY },
        scopesOfTheFirstTen: scopes.slice(0, 10).map((s) => scopeKey(normalizeScope(s))),
        states: results,
        targets: { minRatio: MIN_RATIO, maxP99Ms: MAX_P99_MS },
        met: { throughput: throughputMet, latency: latencyMet },
      },
    };
  } finally {
    await db.db.dropDatabase().catch(() => undefined);
    await db.close();
    await api.stop();
  }
}

/** One state: the bare route serves this state's median answer; rounds alternate which side goes first. */
async function measureState(ctx: BenchContext, api: RunningChild, open: number): Promise<StateResult> {
  const throughputRounds = ctx.full ? 3 : 2;
  const throughputSeconds = ctx.full ? 15 : 6;
  const rateRounds = ctx.full ? 2 : 1;
  const rateSeconds = ctx.full ? 20 : 10;
  // Answers vary with the user's buckets: the bare route answers one of the median size.
  const answers: string[] = [];
  for (let u = 0; u < 51; u += 1) answers.push((await http(api.url, 'GET', `${PATH}?userId=user_${u}`, KEYS.checkout)).text);
  answers.sort((a, b) => Buffer.byteLength(a) - Buffer.byteLength(b));
  const constant = answers[Math.floor(answers.length / 2)]!;
  const bodyFile = join(ctx.workDir, `payment-options-body-${open}.json`);
  writeFileSync(bodyFile, constant);
  const barePort = await freePort();
  const bare = spawnTs('bench/children/bare-server.ts', [JSON.stringify({ port: barePort, bodyFile })], {}, { logFile: join(ctx.workDir, 'logs/po-bare.log') });
  try {
    await waitForPort('127.0.0.1', barePort, 30_000, bare);
    const targets = {
      api: { url: `${api.url}${PATH}`, headers: { authorization: `Bearer ${KEYS.checkout}` } },
      bare: { url: `http://127.0.0.1:${barePort}${PATH}`, headers: {} },
    };
    const pids = { api: api.process.pid, bare: bare.pid };
    const load = async (which: 'api' | 'bare', durationS: number, overallRate?: number) => {
      const input: LoadInput = { url: targets[which].url, path: PATH, headers: targets[which].headers, connections: CONNECTIONS, durationS, overallRate, users: USERS };
      const before = processUsage(pids[which]);
      const result = await runJsonChild<LoadResult>('bench/children/load.ts', input, join(ctx.workDir, 'logs/po-load.log'));
      const after = processUsage(pids[which]);
      const cpuUs = before && after && result.requests > 0 ? ((after.cpuSeconds - before.cpuSeconds) * 1e6) / result.requests : undefined;
      return { ...result, cpuUs };
    };
    await load('api', 3);
    await load('bare', 3);
    // A/B then B/A: each side goes first as often as the other.
    const pairs = async (rounds: number, seconds: number, rate?: number) => {
      const out: { round: number; api: Measured; bare: Measured }[] = [];
      for (let r = 0; r < rounds; r += 1) {
        const first = r % 2 === 0 ? 'api' : 'bare';
        const a = await load(first, seconds, rate);
        const b = await load(first === 'api' ? 'bare' : 'api', seconds, rate);
        out.push({ round: r + 1, api: first === 'api' ? a : b, bare: first === 'api' ? b : a });
      }
      return out;
    };
    const rounds = await pairs(throughputRounds, throughputSeconds);
    const cpuUs = (which: 'api' | 'bare') => {
      const each = rounds.map((r) => r[which].cpuUs).filter((us): us is number => us !== undefined);
      return each.length === rounds.length ? round(median(each), 1) : undefined;
    };
    const rateRuns = await pairs(rateRounds, rateSeconds, RATE);
    const apiPerSecond = median(rounds.map((r) => r.api.perSecond));
    const barePerSecond = median(rounds.map((r) => r.bare.perSecond));
    const ratio = apiPerSecond / barePerSecond;
    const p99Ms = median(rateRuns.map((r) => r.api.latencyMs.p99));
    const achievedPerSecond = median(rateRuns.map((r) => r.api.perSecond));
    return {
      open,
      answerBytes: Buffer.byteLength(constant),
      apiPerSecond,
      barePerSecond,
      ratio,
      p50Ms: median(rateRuns.map((r) => r.api.latencyMs.p50)),
      p99Ms,
      bareP99Ms: median(rateRuns.map((r) => r.bare.latencyMs.p99)),
      apiCpuUs: cpuUs('api'),
      bareCpuUs: cpuUs('bare'),
      achievedPerSecond,
      failures: [...rounds, ...rateRuns].reduce((n, r) => n + r.api.non2xx + r.api.errors + r.bare.non2xx + r.bare.errors, 0),
      met: { throughput: ratio >= MIN_RATIO, latency: p99Ms <= MAX_P99_MS && achievedPerSecond >= RATE * 0.95 },
      throughputRuns: rounds.map(compact),
      rateRuns: rateRuns.map(compact),
    };
  } finally {
    await stopProcess(bare, 5_000);
  }
}

/** Waits until the API's snapshot holds `open` open downtimes (its open_downtimes gauge). */
async function waitForOpenDowntimes(url: string, open: number): Promise<void> {
  let seen = NaN;
  for (let i = 0; i < 150; i += 1) {
    const res = await http(url, 'GET', '/metrics', KEYS.admin);
    seen = res.text
      .split('\n')
      .filter((l) => l.startsWith('open_downtimes{'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    if (seen === open) return;
    await sleep(200);
  }
  throw new Error(`the API's snapshot shows ${seen} open downtimes, expected ${open}`);
}

type Measured = LoadResult & { cpuUs: number | undefined };

function compact(r: { round: number; api: Measured; bare: Measured }) {
  const one = (x: Measured) => ({
    perSecond: Math.round(x.perSecond),
    requests: x.requests,
    non2xx: x.non2xx,
    errors: x.errors,
    latencyMs: Object.fromEntries(Object.entries(x.latencyMs).map(([k, v]) => [k, round(v, 3)])),
    bytesPerResponse: Math.round(x.bytesPerResponse),
    cpuUsPerAnswer: x.cpuUs === undefined ? undefined : round(x.cpuUs, 1),
  });
  return { round: r.round, api: one(r.api), bare: one(r.bare) };
}

function fastifyVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules/fastify/package.json'), 'utf8')) as { version: string }).version;
}

/** An open, disabled downtime record as the workflow's activities write it (as test/api/harness.ts does). */
function downtimeDoc(raw: Scope, i: number): DowntimeDoc {
  const scope = normalizeScope(raw);
  const key = scopeKey(scope);
  const openedAt = new Date(Date.now() - 3_600_000 + i * 1_000);
  return {
    _id: `dt_bench${i}`,
    scope,
    scopeKey: key,
    origin: 'manual',
    reason: 'benchmark',
    openedBy: 'bench',
    status: 'open',
    phase: 'probing',
    openedAt,
    disabledAt: openedAt,
    expiresAt: new Date(Date.now() + 30 * 60_000),
    probePercent: 10,
    severity: 'SEV3',
    baseline: 0.95,
    threshold: 0.8,
    workflowId: `downtime:${key}`,
    updatedAt: openedAt,
  };
}
