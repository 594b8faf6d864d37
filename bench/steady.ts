/**
 * Steady state under an incident: N downtimes opened through POST /v1/downtimes (N = 1,000 with
 * --full, 300 short) on the 120-method catalog, then kept open for a while (10 min full, 2 min
 * short) with the production profile (PROBE_INTERVAL=30s, DETECTION_INTERVAL=30s) while ingest
 * posts 500 transactions/s through the API. The covered routes keep failing, so nothing recovers
 * and every actor keeps looking.
 *
 * Reports: the time until all N are open and disabled; probe look lag (a timed look's read against
 * when it was due, from the worker's probe_look_lag_seconds histogram, interpolated within its
 * buckets as Prometheus' histogram_quantile does); detection cycle time (each scheduled detection
 * workflow's start to close, from Temporal's visibility); CPU and memory of the worker, the API,
 * the database server and Temporal at the start and the end of the steady window.
 *
 * BENCH_STEADY_ACTORS and BENCH_STEADY_SECONDS override the sizes.
 */
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { downtimeWorkflowId } from '../common/definitions';
import { connectDatabase } from '../db/mongo';
import type { Database } from '../db/mongo';
import { normalizeScope, scopeMatchesRoute, topologyOf } from '../domain';
import type { Scope } from '../domain';
import { freePort, stopProcess } from '../scripts/local-servers';
import { BenchContext, BenchOutcome, KEYS, API_KEYS, http, median, percentile, pool, processUsage, round, sleep, spawnTs, startApiProcess, waitForWorker } from './support';
import { AGGREGATED_GATEWAY, AGGREGATOR, checkoutCatalog, incidentScopes, rng } from './workload';

const METHODS = 120;
const INGEST_PER_SECOND = 500;
const INGEST_BATCH = 100;
const SAMPLE_MS = 10_000;
const TARGETS = { lagP99Seconds: 2, startSeconds: 15, memoryGrowth: 1.25 };
/** Probe and detection as production runs them. */
const PROFILE = { PROBE_INTERVAL: '30s', DETECTION_INTERVAL: '30s', DOWNTIME_EXPIRY: '1h' };

type Usage = { rssMiB: number; cpuSeconds: number };
type Proc = 'worker' | 'api' | 'database' | 'temporal';

interface Histogram {
  bounds: number[];
  /** Cumulative counts per bound, the last for +Inf. */
  cumulative: number[];
}

export async function steadyBench(ctx: BenchContext): Promise<BenchOutcome> {
  if (!ctx.temporalAddress) throw new Error('the steady-state benchmark needs the Temporal dev server');
  const actors = Number(process.env.BENCH_STEADY_ACTORS ?? (ctx.full ? 1_000 : 300));
  const steadySeconds = Number(process.env.BENCH_STEADY_SECONDS ?? (ctx.full ? 600 : 120));
  const stamp = Date.now().toString(36);
  const dbName = `bench_steady_${stamp}`;
  const taskQueue = `${dbName}-tq`;
  const metricsPort = await freePort();
  const logLevel = process.env.BENCH_WORKER_LOG_LEVEL ?? 'info';
  const env = { ...PROFILE, LOG_LEVEL: logLevel };
  const workerLog = join(ctx.workDir, 'logs/steady-worker.log');
  const worker = spawnTs('worker/main.ts', [], {
    ...env,
    TEMPORAL_ADDRESS: ctx.temporalAddress,
    MONGODB_URI: ctx.mongoUri,
    MONGODB_DB: dbName,
    TEMPORAL_TASK_QUEUE: taskQueue,
    API_KEYS,
    WORKER_METRICS_PORT: String(metricsPort),
    DATA_DIR: join(ctx.workDir, 'data'),
  }, { logFile: workerLog });
  const api = await startApiProcess(ctx, dbName, join(ctx.workDir, 'logs/steady-api.log'), env);
  const db = await connectDatabase(ctx.mongoUri, dbName);
  const connection = await Connection.connect({ address: ctx.temporalAddress });
  const client = new Client({ connection });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const opened: string[] = [];
  const ingest = { sent: 0, accepted: 0, failedBatches: 0, batchMs: [] as number[] };
  let ingesting = false;
  let ingestLoop: Promise<void> | undefined;
  try {
    await waitForWorker(worker, workerLog);
    const catalog = checkoutCatalog(METHODS);
    const put = await http(api.url, 'PUT', '/v1/catalog', KEYS.admin, { methods: catalog, gateways: [{ gateway: AGGREGATED_GATEWAY, aggregator: AGGREGATOR }] });
    if (put.status !== 200) throw new Error(`PUT /v1/catalog: ${put.status} ${put.text}`);
    const scopes = incidentScopes(catalog, actors);
    const topo = topologyOf({ methods: catalog, gateways: [{ gateway: AGGREGATED_GATEWAY, aggregator: AGGREGATOR }] });
    const routes = catalog.flatMap((m) => m.gateways.map((gateway) => ({ method: m.method, gateway })));
    const down = new Set(routes.filter((r) => scopes.some((s) => scopeMatchesRoute(normalizeScope(s), r, topo))).map((r) => `${r.method}@${r.gateway}`));
    ctx.log(`${actors} downtimes over ${routes.length} routes (${down.size} covered, kept failing); ${steadySeconds} s steady at ${INGEST_PER_SECOND} tx/s`);

    // 1. Open them all through the API, as incident managers would, 50 at a time.
    const t0 = Date.now();
    await pool(scopes, 50, async (scope: Scope, i) => {
      const res = await http<{ id: string; scopeKey: string }>(api.url, 'POST', '/v1/downtimes', KEYS.operator, { scope, reason: `benchmark: incident ${i}`, by: 'bench' });
      if (res.status !== 202) throw new Error(`POST /v1/downtimes ${JSON.stringify(scope)}: ${res.status} ${res.text}`);
      opened.push(downtimeWorkflowId(res.body.scopeKey));
    });
    const postsSeconds = (Date.now() - t0) / 1000;
    const disabledSeconds = await waitAllDisabled(db, actors, t0);
    ctx.log(`${actors} opened in ${postsSeconds.toFixed(1)} s, all disabled after ${disabledSeconds.toFixed(1)} s`);

    // 2. Steady: ingest at a fixed rate; sample the processes.
    ingesting = true;
    ingestLoop = runIngest(api.url, routes, down, () => ingesting, ingest);
    await sleep(5_000);
    const pids: Record<Proc, number | undefined> = { worker: worker.pid, api: api.process.pid, database: ctx.pids.mongo, temporal: ctx.pids.temporal };
    const usage = () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processUsage(pid)])) as Record<Proc, Usage | undefined>;
    const startAt = Date.now();
    const lagBefore = await scrapeHistogram(metricsUrl, 'probe_look_lag_seconds');
    const readsBefore = await scrapeCounters(metricsUrl);
    const start = usage();
    const samples: { at: number; usage: Record<Proc, Usage | undefined> }[] = [{ at: startAt, usage: start }];
    while (Date.now() - startAt < steadySeconds * 1000) {
      await sleep(Math.min(SAMPLE_MS, startAt + steadySeconds * 1000 - Date.now()));
      samples.push({ at: Date.now(), usage: usage() });
      const elapsed = Math.round((Date.now() - startAt) / 1000);
      if (elapsed % 60 < SAMPLE_MS / 1000) ctx.log(`${elapsed} s: ${ingest.accepted} transactions accepted, ${ingest.failedBatches} batches failed`);
    }
    const endAt = Date.now();
    const end = usage();
    const lagAfter = await scrapeHistogram(metricsUrl, 'probe_look_lag_seconds');
    const readsAfter = await scrapeCounters(metricsUrl);
    ingesting = false;
    await ingestLoop;

    // 3. Figures.
    const lag = difference(lagAfter, lagBefore);
    const looks = lag.cumulative[lag.cumulative.length - 1]!;
    const lagP50 = quantile(lag, 0.5);
    const lagP99 = quantile(lag, 0.99);
    const cycles = await detectionCycles(client, taskQueue, startAt, endAt);
    const windowSeconds = (endAt - startAt) / 1000;
    const processes = Object.fromEntries((Object.keys(pids) as Proc[]).map((k) => {
      const a = start[k];
      const b = end[k];
      const peak = Math.max(...samples.map((s) => s.usage[k]?.rssMiB ?? 0));
      return [k, a && b ? { cpuPercent: round((100 * (b.cpuSeconds - a.cpuSeconds)) / windowSeconds, 1), rssMiB: { start: round(a.rssMiB, 1), end: round(b.rssMiB, 1), peak: round(peak, 1) } } : undefined];
    }));
    const perMinute = samples.map((s) => ({ atSeconds: Math.round((s.at - startAt) / 1000), ...Object.fromEntries((Object.keys(pids) as Proc[]).map((k) => [k, s.usage[k] ? round(s.usage[k]!.rssMiB, 1) : null])) }));
    const growth = Math.max(...(['worker', 'api'] as const).map((k) => (end[k]?.rssMiB ?? NaN) / (start[k]?.rssMiB ?? NaN)));
    const probeReads = readsAfter.probe_reads_total - readsBefore.probe_reads_total;
    const dbReads = readsAfter.probe_database_reads_total - readsBefore.probe_database_reads_total;
    const met = { lag: lagP99 < TARGETS.lagP99Seconds, start: disabledSeconds <= TARGETS.startSeconds, memory: growth <= TARGETS.memoryGrowth };
    const cpu = (k: Proc) => (processes[k] ? `${processes[k].cpuPercent}%` : '?');
    const rss = (k: Proc) => (processes[k] ? `${Math.round(processes[k].rssMiB.start)}→${Math.round(processes[k].rssMiB.end)}` : '?');
    const shortNote = ctx.full ? '' : ` (short: ${actors} for ${steadySeconds} s; --full: 1,000 for 600 s)`;
    const line =
      `steady-state     ${actors} open, ${steadySeconds} s at ${INGEST_PER_SECOND} tx/s: probe lag p50 ${lagText(lag, lagP50)} p99 ${lagText(lag, lagP99)} (target < ${TARGETS.lagP99Seconds} s, ${looks} looks); ` +
      `opened+disabled in ${disabledSeconds.toFixed(1)} s (target ≤ ${TARGETS.startSeconds} s); detection cycle p50 ${median(cycles).toFixed(2)} s max ${cycles.length ? Math.max(...cycles).toFixed(2) : '-'} s; ` +
      `CPU worker ${cpu('worker')} api ${cpu('api')} db ${cpu('database')} temporal ${cpu('temporal')}; RSS MiB worker ${rss('worker')} api ${rss('api')} db ${rss('database')}${shortNote}`;
    const allMet = met.lag && met.start && met.memory;
    return {
      name: 'steady-state',
      line,
      summary: {
        figure: `${actors} open ${steadySeconds} s: probe lag p99 ${lagText(lag, lagP99)}; all disabled in ${disabledSeconds.toFixed(1)} s; CPU worker ${cpu('worker')} db ${cpu('database')}`,
        baseline: `targets lag p99 < ${TARGETS.lagP99Seconds} s, ≤ ${TARGETS.startSeconds} s, RSS ≤ ×${TARGETS.memoryGrowth}`,
        ratio: lagP99 === Infinity ? '-' : (lagP99 / TARGETS.lagP99Seconds).toFixed(2),
        target: `lag < ${TARGETS.lagP99Seconds} s, start ≤ ${TARGETS.startSeconds} s, memory flat${ctx.full ? '' : ` (for 1,000; ran ${actors})`}`,
        met: allMet ? true : met.lag || met.start || met.memory ? 'partly' : false,
      },
      details: {
        what: `${actors} downtimes opened through POST /v1/downtimes (scopes of every shape on a ${METHODS}-method catalog), kept open ${steadySeconds} s with PROBE_INTERVAL=30s and DETECTION_INTERVAL=30s while ${INGEST_PER_SECOND} transactions/s are posted (covered routes failing); worker/main.ts and api/main.ts as child processes, the database and Temporal servers of the run`,
        actors,
        steadySeconds: round(windowSeconds, 1),
        open: { postsSeconds: round(postsSeconds, 2), allDisabledSeconds: round(disabledSeconds, 2) },
        probeLagSeconds: { looks, p50: lagText(lag, lagP50), p99: lagText(lag, lagP99), histogram: lag },
        probeReads: { asked: probeReads, databaseReads: dbReads },
        detectionCycleSeconds: { cycles: cycles.length, p50: round(median(cycles), 2), p90: round(percentile(cycles, 90), 2), max: cycles.length ? round(Math.max(...cycles), 2) : null },
        ingest: { sent: ingest.sent, accepted: ingest.accepted, failedBatches: ingest.failedBatches, batchMs: { p50: round(median(ingest.batchMs), 1), p99: round(percentile(ingest.batchMs, 99), 1) } },
        processes,
        rssSamplesMiB: perMinute,
        targets: TARGETS,
        met,
      },
    };
  } finally {
    ingesting = false;
    await ingestLoop?.catch(() => undefined);
    await pool(opened, 50, (id: string) => client.workflow.getHandle(id).terminate('benchmark done').catch(() => undefined));
    await api.stop();
    await stopProcess(worker, 15_000);
    await connection.close();
    await db.db.dropDatabase().catch(() => undefined);
    await db.close();
  }
}

/**
 * Seconds from t0 until `count` downtime records are open with `disabledAt`, polled every 250 ms
 * (a count reads the whole collection on FerretDB: the figure is up to that late).
 */
async function waitAllDisabled(db: Database, count: number, t0: number): Promise<number> {
  for (;;) {
    if ((await db.c.downtimes.countDocuments({ status: 'open', disabledAt: { $exists: true } })) >= count) return (Date.now() - t0) / 1000;
    if (Date.now() - t0 > 600_000) throw new Error(`not all ${count} downtimes disabled after 600 s`);
    await sleep(250);
  }
}

/** Posts INGEST_BATCH transactions every INGEST_BATCH / INGEST_PER_SECOND seconds, at the time they are sent. */
async function runIngest(url: string, routes: { method: string; gateway: string }[], down: Set<string>, going: () => boolean, out: { sent: number; accepted: number; failedBatches: number; batchMs: number[] }): Promise<void> {
  const random = rng(23);
  const periodMs = (INGEST_BATCH / INGEST_PER_SECOND) * 1000;
  const inFlight = new Set<Promise<void>>();
  let n = 0;
  for (let due = Date.now(); going(); due += periodMs) {
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const at = new Date().toISOString();
    const transactions = Array.from({ length: INGEST_BATCH }, () => {
      const route = routes[Math.floor(random() * routes.length)]!;
      const failing = down.has(`${route.method}@${route.gateway}`);
      const ok = !failing && random() < 0.93;
      n += 1;
      return { id: `steady-${n}`, userId: `user_${Math.floor(random() * 200_000)}`, method: route.method, gateway: route.gateway, status: ok ? 'success' : 'failure', ...(ok ? {} : { errorCode: failing ? 'GATEWAY_TIMEOUT' : 'BANK_DECLINED' }), at };
    });
    out.sent += transactions.length;
    const t = Date.now();
    const p = http<{ accepted: number }>(url, 'POST', '/v1/transactions', KEYS.ingest, { transactions })
      .then((res) => {
        if (res.status === 202) out.accepted += res.body.accepted;
        else out.failedBatches += 1;
      })
      .catch(() => void (out.failedBatches += 1))
      .finally(() => {
        out.batchMs.push(Date.now() - t);
        inFlight.delete(p);
      });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
}

/** A histogram's cumulative buckets as the worker's /metrics gives them. */
async function scrapeHistogram(url: string, name: string): Promise<Histogram> {
  const text = await (await fetch(url)).text();
  const rows = text.split('\n').filter((l) => l.startsWith(`${name}_bucket{`));
  const parsed = rows.map((l) => ({ le: /le="([^"]+)"/.exec(l)![1]!, count: Number(l.split(' ').pop()) }));
  return { bounds: parsed.filter((p) => p.le !== '+Inf').map((p) => Number(p.le)), cumulative: parsed.map((p) => p.count) };
}

async function scrapeCounters(url: string): Promise<Record<'probe_reads_total' | 'probe_database_reads_total', number>> {
  const text = await (await fetch(url)).text();
  const value = (name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ').pop() ?? NaN);
  return { probe_reads_total: value('probe_reads_total'), probe_database_reads_total: value('probe_database_reads_total') };
}

const difference = (a: Histogram, b: Histogram): Histogram => ({ bounds: a.bounds, cumulative: a.cumulative.map((c, i) => c - (b.cumulative[i] ?? 0)) });

/** The q-quantile, linear within its bucket (histogram_quantile's rule); Infinity when it falls beyond the last finite bound. */
export function quantile(h: Histogram, q: number): number {
  const total = h.cumulative[h.cumulative.length - 1] ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  for (let i = 0; i < h.bounds.length; i += 1) {
    if (h.cumulative[i]! >= rank) {
      const lower = i === 0 ? 0 : h.bounds[i - 1]!;
      const below = i === 0 ? 0 : h.cumulative[i - 1]!;
      const inBucket = h.cumulative[i]! - below;
      return inBucket === 0 ? lower : lower + ((h.bounds[i]! - lower) * (rank - below)) / inBucket;
    }
  }
  return Infinity;
}

/** A lag quantile for the line: "> the last bound" when it is beyond the histogram. */
const lagText = (h: Histogram, v: number) => (Number.isNaN(v) ? 'none (no timed look)' : v === Infinity ? `> ${h.bounds[h.bounds.length - 1]} s` : `${v.toFixed(2)} s`);

/** Seconds each scheduled detection run of this task queue took, for runs started in [from, to]. */
async function detectionCycles(client: Client, taskQueue: string, from: number, to: number): Promise<number[]> {
  const out: number[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'detectionWorkflow' AND TaskQueue = '${taskQueue}'` })) {
    if (!wf.closeTime || wf.startTime.getTime() < from || wf.startTime.getTime() > to) continue;
    out.push((wf.closeTime.getTime() - wf.startTime.getTime()) / 1000);
  }
  return out;
}
