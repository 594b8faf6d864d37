/**
 * Payment options: GET /v1/payment-options on the real API (api/main.ts as a child process,
 * a 30-method catalog on 1-2 gateways, recent traffic, open downtimes of a method, a route and
 * a gateway so the snapshot hides, fails over and probes) against a bare Fastify route that
 * returns a constant JSON of the same size. A load generator in a process of its own
 * (bench/children/load.ts) loads each in alternating rounds: max throughput on fixed connections
 * (autocannon), then latency at a steady 2,000 req/s (an open-loop paced sender, latency from each
 * request's scheduled time).
 * Targets: API ≥ 50% of the bare route's throughput; p99 ≤ 10 ms at 2,000 req/s.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, stopProcess, waitForPort } from '../scripts/local-servers';
import { connectDatabase } from '../db/mongo';
import type { DowntimeDoc } from '../db/mongo';
import { normalizeScope, scopeKey } from '../domain';
import type { Scope } from '../domain';
import { BenchContext, BenchOutcome, KEYS, freePort, http, median, round, runJsonChild, sleep, spawnTs, startApiProcess, thousands } from './support';
import type { LoadInput, LoadResult } from './children/load';
import { attempts, checkoutCatalog, rng } from './workload';

const PATH = '/v1/payment-options';
const CONNECTIONS = 32;
const RATE = 2_000;
const USERS = 10_000;

interface PaymentOptionsAnswer {
  options: { method: string; state: string }[];
  unavailable: { method: string }[];
}

export async function paymentOptionsBench(ctx: BenchContext): Promise<BenchOutcome> {
  const throughputRounds = ctx.full ? 3 : 2;
  const throughputSeconds = ctx.full ? 15 : 6;
  const rateRounds = ctx.full ? 2 : 1;
  const rateSeconds = ctx.full ? 20 : 10;
  const logLevel = process.env.BENCH_API_LOG_LEVEL ?? 'info';
  const dbName = `bench_po_${Date.now().toString(36)}`;
  const api = await startApiProcess(ctx, dbName, join(ctx.workDir, 'logs/po-api.log'), { LOG_LEVEL: logLevel });
  const db = await connectDatabase(ctx.mongoUri, dbName);
  let bare: ReturnType<typeof spawnTs> | undefined;
  try {
    // A realistic catalog, recent traffic for the success-rate ordering, and open downtimes.
    const catalog = checkoutCatalog();
    const put = await http(api.url, 'PUT', '/v1/catalog', KEYS.admin, { methods: catalog });
    if (put.status !== 200) throw new Error(`PUT /v1/catalog: ${put.status} ${put.text}`);
    const routes = catalog.flatMap((m) => m.gateways.map((gateway) => ({ method: m.method, gateway })));
    const now = Date.now();
    const random = rng(7);
    // 6 batches of 100, each within one 10 s counter bucket: fewer than 100 counters per batch
    // (FerretDB 1.24 hangs on an update command of 100 or more statements).
    for (let b = 0; b < 6; b += 1) {
      const bucket = Math.floor((now - (b + 1) * 10_000) / 10_000) * 10_000;
      const res = await http<{ accepted: number }>(api.url, 'POST', '/v1/transactions', KEYS.ingest, {
        transactions: attempts(routes, 100, 'po', bucket, bucket + 9_000, random, b * 100),
      });
      if (res.status !== 202) throw new Error(`POST /v1/transactions: ${res.status} ${res.text}`);
    }
    const downtimeScopes: Scope[] = [
      { method: 'netbanking:hdfc' },
      { method: 'card:mastercard', gateway: catalog.find((m) => m.method === 'card:mastercard')!.gateways[0]! },
      { gateway: catalog.find((m) => m.method === 'upi:phonepe')!.gateways[0]! },
    ];
    await db.c.downtimes.insertMany(downtimeScopes.map((s, i) => downtimeDoc(s, i)));
    // The snapshot refreshes every SNAPSHOT_REFRESH (1 s): wait until it hides the method.
    let sample: PaymentOptionsAnswer | undefined;
    for (let i = 0; i < 100 && !sample; i += 1) {
      const res = await http<PaymentOptionsAnswer>(api.url, 'GET', `${PATH}?userId=user_1`, KEYS.checkout);
      const hdfc = res.body.options?.find((o) => o.method === 'netbanking:hdfc');
      if (res.status === 200 && (hdfc?.state === 'probe' || res.body.unavailable?.some((u) => u.method === 'netbanking:hdfc'))) sample = res.body;
      else await sleep(200);
    }
    if (!sample) throw new Error('the API never showed the open downtimes');
    // The bare route answers a real answer of the median size (answers vary with the user's bucket).
    const answers: string[] = [];
    for (let u = 0; u < 50; u += 1) answers.push((await http(api.url, 'GET', `${PATH}?userId=user_${u}`, KEYS.checkout)).text);
    answers.sort((a, b) => Buffer.byteLength(a) - Buffer.byteLength(b));
    const constant = answers[Math.floor(answers.length / 2)]!;
    const bodyFile = join(ctx.workDir, 'payment-options-body.json');
    writeFileSync(bodyFile, constant);
    const barePort = await freePort();
    bare = spawnTs('bench/children/bare-server.ts', [JSON.stringify({ port: barePort, bodyFile })], {}, { logFile: join(ctx.workDir, 'logs/po-bare.log') });
    await waitForPort('127.0.0.1', barePort, 30_000, bare);
    const targets = {
      api: { url: `${api.url}${PATH}`, headers: { authorization: `Bearer ${KEYS.checkout}` } },
      bare: { url: `http://127.0.0.1:${barePort}${PATH}`, headers: {} },
    };
    const load = (which: 'api' | 'bare', durationS: number, overallRate?: number) => {
      const input: LoadInput = { url: targets[which].url, path: PATH, headers: targets[which].headers, connections: CONNECTIONS, durationS, overallRate, users: USERS };
      return runJsonChild<LoadResult>('bench/children/load.ts', input, join(ctx.workDir, 'logs/po-load.log'));
    };
    ctx.log(`catalog ${catalog.length} methods / ${routes.length} routes, ${downtimeScopes.length} open downtimes, answer ${Buffer.byteLength(constant)} bytes, API LOG_LEVEL=${logLevel}`);

    await load('api', 3);
    await load('bare', 3);
    const rounds: { round: number; api: LoadResult; bare: LoadResult }[] = [];
    for (let r = 0; r < throughputRounds; r += 1) {
      // A/B then B/A: each side goes first as often as the other.
      const first = r % 2 === 0 ? 'api' : 'bare';
      const a = await load(first, throughputSeconds);
      const b = await load(first === 'api' ? 'bare' : 'api', throughputSeconds);
      const apiRes = first === 'api' ? a : b;
      const bareRes = first === 'api' ? b : a;
      rounds.push({ round: r + 1, api: apiRes, bare: bareRes });
      ctx.log(`throughput round ${r + 1}: api ${thousands(apiRes.perSecond)} req/s, bare ${thousands(bareRes.perSecond)} req/s`);
    }
    const rateRuns: { round: number; api: LoadResult; bare: LoadResult }[] = [];
    for (let r = 0; r < rateRounds; r += 1) {
      const first = r % 2 === 0 ? 'api' : 'bare';
      const a = await load(first, rateSeconds, RATE);
      const b = await load(first === 'api' ? 'bare' : 'api', rateSeconds, RATE);
      const apiRes = first === 'api' ? a : b;
      const bareRes = first === 'api' ? b : a;
      rateRuns.push({ round: r + 1, api: apiRes, bare: bareRes });
      ctx.log(`at ${RATE} req/s round ${r + 1}: api p50 ${apiRes.latencyMs.p50.toFixed(2)} ms p99 ${apiRes.latencyMs.p99.toFixed(2)} ms (${thousands(apiRes.perSecond)} req/s done); bare p50 ${bareRes.latencyMs.p50.toFixed(2)} ms p99 ${bareRes.latencyMs.p99.toFixed(2)} ms`);
    }

    const failures = [...rounds, ...rateRuns].reduce((n, r) => n + r.api.non2xx + r.api.errors + r.bare.non2xx + r.bare.errors, 0);
    const apiRps = median(rounds.map((r) => r.api.perSecond));
    const bareRps = median(rounds.map((r) => r.bare.perSecond));
    const ratio = apiRps / bareRps;
    const p99 = median(rateRuns.map((r) => r.api.latencyMs.p99));
    const p50 = median(rateRuns.map((r) => r.api.latencyMs.p50));
    const bareP99 = median(rateRuns.map((r) => r.bare.latencyMs.p99));
    const achieved = median(rateRuns.map((r) => r.api.perSecond));
    const throughputMet = ratio >= 0.5;
    const latencyMet = p99 <= 10 && achieved >= RATE * 0.95;
    const met = throughputMet && latencyMet && failures === 0;
    const line =
      `payment-options  api ${thousands(apiRps)} req/s vs bare ${thousands(bareRps)} req/s  ratio ${ratio.toFixed(2)} (target ≥ 0.50)` +
      `  p99@${RATE}rps ${p99.toFixed(1)} ms, p50 ${p50.toFixed(2)} ms (target ≤ 10; bare p99 ${bareP99.toFixed(1)} ms)` +
      `${failures ? `  ${failures} non-2xx/errors!` : ''}  [bare = constant ${Buffer.byteLength(constant)}-byte JSON, no auth, no logger]`;
    return {
      name: 'payment-options',
      line,
      summary: {
        figure: `${thousands(apiRps)} req/s; p99 ${p99.toFixed(1)} ms at ${RATE} req/s`,
        baseline: `bare Fastify route ${thousands(bareRps)} req/s (p99 ${bareP99.toFixed(1)} ms)`,
        ratio: ratio.toFixed(2),
        target: '≥ 0.5; p99 ≤ 10 ms',
        met: met ? true : throughputMet || latencyMet ? 'partly' : false,
      },
      details: {
        what: 'GET /v1/payment-options?userId=<varies per request> on api/main.ts (child process, real FerretDB and Temporal, bearer auth, query validation, in-memory snapshot with the serialized answer cached per bucket signature)',
        baselineWhat: `bench/children/bare-server.ts: Fastify ${fastifyVersion()} with logger off, one GET route returning a constant ${Buffer.byteLength(constant)}-byte JSON string (a real API answer); no auth, no validation, no metrics`,
        loadGenerator: `a separate process (bench/children/load.ts), ${CONNECTIONS} connections, userId drawn from ${USERS} users: throughput by autocannon; the fixed rate by an open-loop paced sender (node:http keep-alive), latency from each request's scheduled send time (autocannon's rate limit bursts each second's quota)`,
        apiLogLevel: logLevel,
        catalog: { methods: catalog.length, routes: routes.length },
        openDowntimes: downtimeScopes.map((s) => scopeKey(normalizeScope(s))),
        answerBytes: Buffer.byteLength(constant),
        throughput: { rounds: throughputRounds, secondsEach: throughputSeconds, apiMedianPerSecond: Math.round(apiRps), bareMedianPerSecond: Math.round(bareRps), ratio: round(ratio, 3), runs: rounds.map(compact) },
        fixedRate: { rate: RATE, rounds: rateRounds, secondsEach: rateSeconds, apiP50Ms: round(p50, 3), apiP99Ms: round(p99, 3), bareP99Ms: round(bareP99, 3), apiAchievedPerSecond: Math.round(achieved), runs: rateRuns.map(compact) },
        non2xxOrErrors: failures,
        targets: { minRatio: 0.5, maxP99Ms: 10 },
        met: { throughput: throughputMet, latency: latencyMet },
      },
    };
  } finally {
    if (bare) await stopProcess(bare, 5_000);
    await db.db.dropDatabase().catch(() => undefined);
    await db.close();
    await api.stop();
  }
}

function compact(r: { round: number; api: LoadResult; bare: LoadResult }) {
  const one = (x: LoadResult) => ({
    perSecond: Math.round(x.perSecond),
    requests: x.requests,
    non2xx: x.non2xx,
    errors: x.errors,
    latencyMs: Object.fromEntries(Object.entries(x.latencyMs).map(([k, v]) => [k, round(v, 3)])),
    bytesPerResponse: Math.round(x.bytesPerResponse),
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
  const openedAt = new Date(Date.now() - 60_000);
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
    expiresAt: new Date(openedAt.getTime() + 30 * 60_000),
    probePercent: 10,
    severity: 'SEV3',
    baseline: 0.95,
    threshold: 0.8,
    workflowId: `downtime:${key}`,
    updatedAt: openedAt,
  };
}
