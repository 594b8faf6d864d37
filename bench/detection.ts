/**
 * Detection cycle: times `detectFailingScopes`, the activity each detection run starts with
 * (read the per-route counters of window + baseline, judge every scope, roll up), over 1,000
 * routes with a small and a large number of transactions in the window. The counters are built
 * with the ingest's own counting function (see `seed`): seeding through POST /v1/transactions or
 * the Ingestor runs at well under 1,000 tx/s on FerretDB with 1,000 routes (see the ingest
 * benchmark), so a million would take hours. Target: the two within 1.5× (cost follows routes,
 * not transactions).
 */
import { Client, Connection } from '@temporalio/client';
import { createActivities } from '../activities';
import { loadConfig } from '../common/config';
import { detectionSettings } from '../common/policy';
import { Database, connectDatabase, ensureIndexes } from '../db/mongo';
import { compactCounters, countedAttempts } from '../db/counters';
import { readCounters } from '../db/queries';
import { DEFAULT_USER_ERROR_CODES, NO_TOPOLOGY, evaluateScopes, judgeScopes } from '../domain';
import { batchCounts, writeCounts } from '../api/counter-writer';
import { BenchContext, BenchOutcome, median, round, thousands } from './support';
import { attempts, rng, storedDoc, thousandRoutes } from './workload';


const BATCH = 500;

interface SeedStats {
  seconds: number;
  /** Sum of all counters after seeding: equals the transactions. */
  counted: number;
}

interface Dataset {
  label: string;
  transactions: number;
  db: Database;
  seedSeconds: number;
  seeded: SeedStats;
  counterDocs: number;
  timingsMs: number[];
}

export async function detectionBench(ctx: BenchContext): Promise<BenchOutcome> {
  const routes = thousandRoutes();
  const sizes = [10_000, ctx.full ? 1_000_000 : 200_000];
  const runs = ctx.full ? 9 : 5;
  const suffix = Date.now().toString(36);
  const env = (db: string) => ({ MONGODB_URI: ctx.mongoUri, MONGODB_DB: db, LOG_LEVEL: 'silent' });
  const config = loadConfig(env(`bench_detect_${suffix}`));
  const settings = detectionSettings(config);
  // Every transaction lands in the detection window [now - DETECTION_WINDOW, now], whole buckets only.
  const now = Date.now();
  const from = now - settings.windowMs + config.detection.counterBucketMs;
  const to = now - 1;
  const connection = Connection.lazy({ address: ctx.temporalAddress ?? '127.0.0.1:7233' });
  const datasets: Dataset[] = [];
  try {
    for (const [i, size] of sizes.entries()) {
      const dbConfig = loadConfig(env(`bench_detect_${suffix}_${i}`));
      const db = await connectDatabase(ctx.mongoUri, dbConfig.mongo.db);
      await ensureIndexes(db, dbConfig.retentionMs);
      const seeded = await seed(db, dbConfig, routes, size, from, to);
      const counterDocs = await db.c.counters.countDocuments({});
      const seedSeconds = seeded.seconds;
      ctx.log(`seeded the counters of ${thousands(size)} transactions over ${routes.length} routes in ${seedSeconds.toFixed(1)} s: ${thousands(counterDocs)} counter documents adding up to ${thousands(seeded.counted)}`);
      if (seeded.counted !== size) ctx.log(`WARNING: the counters add up to ${seeded.counted}, not ${size}`);
      datasets.push({ label: `${size}`, transactions: size, db, seedSeconds, counterDocs, seeded, timingsMs: [] });
    }
    const activities = datasets.map((d) =>
      createActivities({ db: d.db, config, temporal: { client: new Client({ connection }), taskQueue: 'unused' }, now: () => now }),
    );
    const verdicts: { evaluated: number; failing: number }[] = [];
    // One warm-up each, then alternate the order every run so drift hits both sides.
    for (const [i, a] of activities.entries()) {
      const v = await a.detectFailingScopes(now);
      verdicts[i] = { evaluated: v.evaluated, failing: v.failing.length };
    }
    for (let run = 0; run < runs; run += 1) {
      const order = run % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const t0 = process.hrtime.bigint();
        await activities[i]!.detectFailingScopes(now);
        datasets[i]!.timingsMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    // Where the time goes (median of 5): the counter read, the pure evaluation, the judgement
    // around it (judgeScopes) with no recoveries and with one method in ten re-enabled half a
    // window ago, each overruling its evidence and under a relapse watch (domain/relapse.ts): what
    // a cycle adds after a busy spell of recoveries.
    const bucketMs = config.detection.counterBucketMs;
    const recoveredAt = now - settings.windowMs / 2;
    const watched = [...new Set(routes.map((r) => r.method))].filter((_, k) => k % 10 === 0).map((method) => ({ scope: { method }, at: recoveredAt, baseline: 0.95, outage: 0.05 }));
    const breakdown = [];
    for (const d of datasets) {
      const read: number[] = [];
      const evaluate: number[] = [];
      const judge: number[] = [];
      const judgeWatched: number[] = [];
      for (let k = 0; k < 5; k += 1) {
        const t0 = process.hrtime.bigint();
        const counters = await readCounters(d.db, now - settings.windowMs - settings.baselineWindowMs, now);
        const t1 = process.hrtime.bigint();
        evaluateScopes(counters, now, settings);
        const t2 = process.hrtime.bigint();
        judgeScopes(counters, [], now, settings, bucketMs);
        const t3 = process.hrtime.bigint();
        judgeScopes(counters, watched, now, settings, bucketMs, NO_TOPOLOGY, watched);
        const t4 = process.hrtime.bigint();
        read.push(Number(t1 - t0) / 1e6);
        evaluate.push(Number(t2 - t1) / 1e6);
        judge.push(Number(t3 - t2) / 1e6);
        judgeWatched.push(Number(t4 - t3) / 1e6);
      }
      breakdown.push({
        transactions: d.transactions,
        readCountersMs: round(median(read), 1),
        evaluateScopesMs: round(median(evaluate), 1),
        judgeScopesMs: round(median(judge), 1),
        [`judgeScopesWith${watched.length}RecoveriesWatchedMs`]: round(median(judgeWatched), 1),
      });
    }

    const [small, large] = datasets as [Dataset, Dataset];
    const smallMs = median(small.timingsMs);
    const largeMs = median(large.timingsMs);
    const ratio = largeMs / smallMs;
    const met = ratio <= 1.5;
    const sizeNote = ctx.full ? '' : ' (short mode: 200k, --full: 1M)';
    const line =
      `detection        ${thousands(large.transactions)} tx ${Math.round(largeMs)} ms vs ${thousands(small.transactions)} tx ${Math.round(smallMs)} ms` +
      `  ratio ${ratio.toFixed(2)} (target ≤ 1.50)  ${routes.length} routes, median of ${runs}${sizeNote}; seed ${large.seedSeconds.toFixed(0)} s + ${small.seedSeconds.toFixed(0)} s`;
    return {
      name: 'detection',
      line,
      summary: {
        figure: `${Math.round(largeMs)} ms per cycle, ${routes.length} routes, ${thousands(large.transactions)} tx in window`,
        baseline: `${Math.round(smallMs)} ms with ${thousands(small.transactions)} tx`,
        ratio: ratio.toFixed(2),
        target: '≤ 1.5',
        met,
      },
      details: {
        what: 'detectFailingScopes(now) from activities/index.ts, the activity the detection workflow runs each cycle (readCounters over window + baseline, evaluateScopes, roll-up), called in-process against FerretDB',
        routes: routes.length,
        routeSpread: '100 banks x (netbanking, card) x 5 of 10 gateways',
        windowMs: settings.windowMs,
        baselineWindowMs: settings.baselineWindowMs,
        counterBucketMs: config.detection.counterBucketMs,
        runs,
        datasets: datasets.map((d, i) => ({
          transactions: d.transactions,
          seededThrough: `counters written by the ingest's counting (batchCounts + writeCounts, api/counter-writer.ts) over batches of ${BATCH} in arrival order, folded by a compaction run (compactCounters, db/counters.ts) every 20 batches, as ingest and the worker leave them; raw transactions not stored`,
          seedSeconds: round(d.seedSeconds, 1),
          seedTxPerSecond: Math.round(d.transactions / d.seedSeconds),
          countersAddUpTo: d.seeded.counted,
          counterDocuments: d.counterDocs,
          scopesEvaluated: verdicts[i]?.evaluated,
          scopesFailing: verdicts[i]?.failing,
          medianMs: round(median(d.timingsMs), 1),
          timingsMs: d.timingsMs.map((t) => round(t, 1)),
        })),
        breakdown,
        ratio: round(ratio, 3),
        target: { maxRatio: 1.5 },
        met,
      },
    };
  } finally {
    for (const d of datasets) {
      await d.db.db.dropDatabase().catch(() => undefined);
      await d.db.close();
    }
    await connection.close().catch(() => undefined);
  }
}

/**
 * Builds the counters `count` generated attempts leave behind, the way ingest and the worker do:
 * the ingest's own counting (`batchCounts` and `writeCounts`) over batches of 500 in arrival
 * order, folded by a compaction run (`compactCounters`) every 20 batches, as the worker folds
 * closed buckets every counter bucket. The raw
 * transactions are not stored: detection never reads them.
 */
async function seed(
  db: Database,
  config: ReturnType<typeof loadConfig>,
  routes: ReturnType<typeof thousandRoutes>,
  count: number,
  from: number,
  to: number,
): Promise<SeedStats> {
  const t0 = Date.now();
  const userCodes = new Set([...DEFAULT_USER_ERROR_CODES, ...config.userErrorCodes]);
  const random = rng(count);
  for (let b = 0; b * BATCH < count; b += 1) {
    const size = Math.min(BATCH, count - b * BATCH);
    const docs = attempts(routes, size, `d${count}`, from, to, random, b * BATCH, count).map((a) => storedDoc(a, new Date(to), userCodes));
    await writeCounts(db.c.counterDeltas, `seed${count}-${b}`, batchCounts(docs, config.detection.counterBucketMs), Date.now());
    // The worker folds the closed buckets (those before the latest attempt's) every bucket; here,
    // every 20 batches.
    const bucketMs = config.detection.counterBucketMs;
    if (b % 20 === 19) await compactCounters(db, Date.now(), Math.floor(docs[docs.length - 1]!.at.getTime() / bucketMs) * bucketMs);
  }
  while (((await compactCounters(db, Date.now(), to + 1))?.deltas ?? 0) > 0);
  return { seconds: (Date.now() - t0) / 1000, counted: await countedAttempts(db) };
}
