/**
 * Ingest: transactions per second through POST /v1/transactions (api/main.ts as a child process)
 * in batches of 500 from several concurrent senders in a second process, against raw insertMany
 * of the same documents, in the stored shape, with the same batches and concurrency into the
 * same server (another database with the same indexes). Rounds alternate API / raw.
 * Target: the API ≥ 50% of raw.
 */
import { join } from 'node:path';
import { connectDatabase, ensureIndexes } from '../db/mongo';
import { countedAttempts } from '../db/counters';
import { loadConfig } from '../common/config';
import { BenchContext, BenchOutcome, KEYS, http, median, round, runJsonChild, sleep, startApiProcess, thousands } from './support';
import type { IngestLoadInput, IngestLoadResult } from './children/ingest-load';
import { checkoutCatalog } from './workload';

const BATCH = 500;
const CONCURRENCY = 4;
/** A checkout posts its recent attempts: a batch covers the last 10 s (2,000 tx/s fill 500 in a quarter second). */
const SPREAD_MS = 10_000;

export async function ingestBench(ctx: BenchContext): Promise<BenchOutcome> {
  const rounds = ctx.full ? 3 : 2;
  const batches = ctx.full ? 100 : 20;
  const logLevel = process.env.BENCH_API_LOG_LEVEL ?? 'info';
  const stamp = Date.now().toString(36);
  const apiDbName = `bench_ingest_${stamp}`;
  const rawDbName = `bench_ingest_raw_${stamp}`;
  const api = await startApiProcess(ctx, apiDbName, join(ctx.workDir, 'logs/ingest-api.log'), { LOG_LEVEL: logLevel });
  const config = loadConfig({ MONGODB_URI: ctx.mongoUri, MONGODB_DB: rawDbName });
  const rawDb = await connectDatabase(ctx.mongoUri, rawDbName);
  const apiDb = await connectDatabase(ctx.mongoUri, apiDbName);
  try {
    // The baseline collection carries the same indexes as the API's (ensureIndexes).
    await ensureIndexes(rawDb, config.retentionMs);
    const catalog = checkoutCatalog();
    const put = await http(api.url, 'PUT', '/v1/catalog', KEYS.admin, { methods: catalog });
    if (put.status !== 200) throw new Error(`PUT /v1/catalog: ${put.status} ${put.text}`);
    const routes = catalog.flatMap((m) => m.gateways.map((gateway) => ({ method: m.method, gateway })));
    let run = 0;
    const load = (mode: 'api' | 'raw', n: number) => {
      run += 1;
      const input: IngestLoadInput = {
        mode,
        url: api.url,
        key: KEYS.ingest,
        mongoUri: ctx.mongoUri,
        db: rawDbName,
        routes,
        batches: n,
        batchSize: BATCH,
        concurrency: CONCURRENCY,
        tag: `r${run}${mode}${stamp}`,
        spreadMs: SPREAD_MS,
      };
      return runJsonChild<IngestLoadResult>('bench/children/ingest-load.ts', input, join(ctx.workDir, 'logs/ingest-load.log'));
    };
    ctx.log(`${routes.length} routes, batches of ${BATCH}, ${CONCURRENCY} concurrent senders, at within the last ${SPREAD_MS / 1000} s, API LOG_LEVEL=${logLevel}`);
    await load('api', CONCURRENCY);
    await load('raw', CONCURRENCY);
    const results: { round: number; api: IngestLoadResult; raw: IngestLoadResult }[] = [];
    for (let r = 0; r < rounds; r += 1) {
      const first = r % 2 === 0 ? 'api' : 'raw';
      const a = await load(first, batches);
      const b = await load(first === 'api' ? 'raw' : 'api', batches);
      const apiRes = first === 'api' ? a : b;
      const rawRes = first === 'api' ? b : a;
      results.push({ round: r + 1, api: apiRes, raw: rawRes });
      ctx.log(`round ${r + 1}: api ${thousands(apiRes.perSecond)} tx/s (batch p50 ${Math.round(apiRes.batchMs.p50)} ms, ${apiRes.retries} retried), raw ${thousands(rawRes.perSecond)} tx/s`);
    }

    // Exactly-once check: once no batch is pending, the counters add up to the stored transactions.
    const deadline = Date.now() + 60_000;
    while ((await apiDb.c.pendingCounts.countDocuments({})) > 0 && Date.now() < deadline) await sleep(1_000);
    const pending = await apiDb.c.pendingCounts.countDocuments({});
    const stored = await apiDb.c.transactions.countDocuments({});
    const counted = await countedAttempts(apiDb);

    const apiTps = median(results.map((r) => r.api.perSecond));
    const rawTps = median(results.map((r) => r.raw.perSecond));
    const ratio = apiTps / rawTps;
    const met = ratio >= 0.5;
    const retries = results.reduce((n, r) => n + r.api.retries, 0);
    const line =
      `ingest           api ${thousands(apiTps)} tx/s vs raw insertMany ${thousands(rawTps)} tx/s  ratio ${ratio.toFixed(2)} (target ≥ 0.50)` +
      `  batches of ${BATCH}, ${CONCURRENCY} senders, ${routes.length} routes${retries ? `, ${retries} batches retried after non-202` : ''}; counters ${counted === stored ? '=' : '≠'} stored (${thousands(counted)} / ${thousands(stored)}${pending ? `, ${pending} batches still pending` : ''})`;
    return {
      name: 'ingest',
      line,
      summary: {
        figure: `${thousands(apiTps)} tx/s through POST /v1/transactions`,
        baseline: `raw insertMany ${thousands(rawTps)} tx/s`,
        ratio: ratio.toFixed(2),
        target: '≥ 0.5',
        met,
      },
      details: {
        what: 'POST /v1/transactions on api/main.ts (child process): validation, insertMany, exactly-once counter updates; senders in a second process (bench/children/ingest-load.ts)',
        baselineWhat: 'insertMany(ordered: false) of the same transactions in the stored shape (TransactionDoc), same batches and concurrency, same FerretDB, another database with the same indexes',
        apiLogLevel: logLevel,
        routes: routes.length,
        batchSize: BATCH,
        concurrency: CONCURRENCY,
        atSpreadMs: SPREAD_MS,
        rounds,
        batchesPerRun: batches,
        transactionsPerRun: batches * BATCH,
        apiMedianPerSecond: Math.round(apiTps),
        rawMedianPerSecond: Math.round(rawTps),
        ratio: round(ratio, 3),
        runs: results.map((r) => ({
          round: r.round,
          api: { perSecond: Math.round(r.api.perSecond), seconds: round(r.api.seconds, 2), batchMs: roundAll(r.api.batchMs), retries: r.api.retries, statuses: r.api.statuses },
          raw: { perSecond: Math.round(r.raw.perSecond), seconds: round(r.raw.seconds, 2), batchMs: roundAll(r.raw.batchMs) },
        })),
        exactlyOnce: { storedTransactions: stored, countersAddUpTo: counted, batchesStillPendingAfter60s: pending },
        target: { minRatio: 0.5 },
        met,
      },
    };
  } finally {
    await apiDb.db.dropDatabase().catch(() => undefined);
    await rawDb.db.dropDatabase().catch(() => undefined);
    await apiDb.close();
    await rawDb.close();
    await api.stop();
  }
}

const roundAll = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v, 1)]));
