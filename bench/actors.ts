/**
 * Actors: N downtime workflows started at once (as POST /v1/downtimes starts them:
 * startManualDowntime with distinct method scopes) on one worker (worker/main.ts as a child
 * process, its RSS sampled from /proc) and the dev server: time until every downtime record has
 * `disabledAt`, worker memory at start and peak, and history events per workflow. Then they are
 * terminated. Target: all disabled within 30 s (N = 1,000; the short mode uses 200).
 *
 * Progress is polled once a second (POLL_MS): a count reads the whole downtimes collection on
 * FerretDB, so polling faster would load the database the workflows are writing to; the figure is
 * therefore up to a second late.
 */
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../common/config';
import type { DowntimeInput } from '../common/definitions';
import { downtimePolicy, newDowntimeId } from '../common/policy';
import { startManualDowntime } from '../common/starter';
import { connectDatabase, ensureIndexes } from '../db/mongo';
import { normalizeScope, scopeKey } from '../domain';
import { stopProcess } from '../scripts/local-servers';
import { BenchContext, BenchOutcome, median, percentile, pool, processUsage, round, sleep, spawnTs, waitForWorker } from './support';

const TARGET_SECONDS = 30;
const POLL_MS = 1_000;

export async function actorsBench(ctx: BenchContext): Promise<BenchOutcome> {
  if (!ctx.temporalAddress) throw new Error('the actors benchmark needs the Temporal dev server');
  const count = ctx.full ? 1_000 : 200;
  const stamp = Date.now().toString(36);
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: ctx.temporalAddress,
    MONGODB_URI: ctx.mongoUri,
    MONGODB_DB: `bench_actors_${stamp}`,
    TEMPORAL_TASK_QUEUE: `bench-actors-${stamp}`,
    DETECTION_INTERVAL: '1h',
    LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'info',
    DATA_DIR: join(ctx.workDir, 'data'),
  };
  const config = loadConfig(env);
  const db = await connectDatabase(ctx.mongoUri, config.mongo.db);
  await ensureIndexes(db, config.retentionMs);
  const connection = await Connection.connect({ address: ctx.temporalAddress });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const logFile = join(ctx.workDir, 'logs/actors-worker.log');
  const worker = spawnTs('worker/main.ts', [], env, { logFile });
  const samples: { at: number; mib: number }[] = [];
  let sampler: NodeJS.Timeout | undefined;
  const workflowIds: string[] = [];
  try {
    await waitForWorker(worker, logFile);
    await sleep(1_000);
    const pid = worker.pid!;
    const startMiB = processUsage(pid)?.rssMiB ?? NaN;
    sampler = setInterval(() => {
      const mib = processUsage(pid)?.rssMiB;
      if (mib !== undefined) samples.push({ at: Date.now(), mib });
    }, 250);

    const inputs: DowntimeInput[] = Array.from({ length: count }, (_, i) => {
      const scope = normalizeScope({ method: `netbanking:bank_${String(i).padStart(4, '0')}` });
      const at = Date.now();
      return {
        downtimeId: newDowntimeId(),
        scope,
        scopeKey: scopeKey(scope),
        origin: 'manual',
        reason: 'benchmark: many downtimes at once',
        openedBy: 'bench',
        openedAt: at,
        baseline: 0.95,
        threshold: 0.95 * (1 - config.detection.degradation),
        policy: downtimePolicy(config),
      };
    });
    const t0 = Date.now();
    const started = await Promise.all(inputs.map((input) => startManualDowntime(client, config.temporal.taskQueue, input)));
    workflowIds.push(...started.map((s) => s.workflowId));
    const startsSeconds = (Date.now() - t0) / 1000;
    ctx.log(`${count} downtime workflows started in ${startsSeconds.toFixed(1)} s; waiting until all are disabled`);

    const timeoutMs = Math.max(180_000, count * 300);
    let disabled = 0;
    let lastLog = Date.now();
    while (disabled < count) {
      disabled = await db.c.downtimes.countDocuments({ disabledAt: { $exists: true } });
      if (disabled >= count) break;
      if (Date.now() - t0 > timeoutMs) throw new Error(`only ${disabled} of ${count} disabled after ${timeoutMs / 1000} s`);
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        ctx.log(`${disabled} of ${count} disabled after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
      await sleep(POLL_MS);
    }
    const allSeconds = (Date.now() - t0) / 1000;
    const docs = await db.c.downtimes.find({}, { projection: { disabledAt: 1 } }).toArray();
    const perWorkflow = docs.map((d) => (d.disabledAt!.getTime() - t0) / 1000);
    const histories = await pool(workflowIds, 20, async (id) => (await client.workflow.getHandle(id).describe()).historyLength);
    const peakMiB = Math.max(startMiB, ...samples.map((s) => s.mib));
    clearInterval(sampler);
    sampler = undefined;
    const endMiB = processUsage(pid)?.rssMiB ?? NaN;

    const met = allSeconds <= TARGET_SECONDS;
    const shortNote = ctx.full ? '' : ` (short mode: ${count}; --full: 1,000)`;
    const line =
      `actors           ${count} downtimes all disabled in ${allSeconds.toFixed(1)} s (target ≤ ${TARGET_SECONDS} s)${shortNote}` +
      `  starts ${startsSeconds.toFixed(1)} s, p50 ${median(perWorkflow).toFixed(1)} s  worker RSS ${Math.round(startMiB)} → peak ${Math.round(peakMiB)} MiB` +
      `  history ${median(histories)} events median, ${Math.max(...histories)} max`;
    return {
      name: 'actors',
      line,
      summary: {
        figure: `${count} downtimes disabled in ${allSeconds.toFixed(1)} s; worker ${Math.round(startMiB)} → ${Math.round(peakMiB)} MiB; ${median(histories)} history events`,
        baseline: `target ${TARGET_SECONDS} s`,
        ratio: (allSeconds / TARGET_SECONDS).toFixed(2),
        target: `≤ ${TARGET_SECONDS} s${ctx.full ? '' : ` (for 1,000; ran ${count})`}`,
        met,
      },
      details: {
        what: 'startManualDowntime (as POST /v1/downtimes) of distinct method scopes all at once, one worker (worker/main.ts child process), the Temporal dev server; disabled = the downtime record has disabledAt, counted once a second (a count reads the whole collection on FerretDB)',
        pollMs: POLL_MS,
        workflows: count,
        workerLogLevel: env.LOG_LEVEL,
        probeIntervalMs: config.probe.intervalMs,
        startsSeconds: round(startsSeconds, 2),
        allDisabledSeconds: round(allSeconds, 2),
        disabledAfterSeconds: { p50: round(median(perWorkflow), 2), p90: round(percentile(perWorkflow, 90), 2), p99: round(percentile(perWorkflow, 99), 2), max: round(Math.max(...perWorkflow), 2) },
        workerRssMiB: { start: round(startMiB, 1), peak: round(peakMiB, 1), afterAllDisabled: round(endMiB, 1), samples: samples.length },
        historyEventsPerWorkflow: { median: median(histories), p90: percentile(histories, 90), max: Math.max(...histories), min: Math.min(...histories) },
        target: { maxSeconds: TARGET_SECONDS },
        met,
      },
    };
  } finally {
    if (sampler) clearInterval(sampler);
    await pool(workflowIds, 50, (id) => client.workflow.getHandle(id).terminate('benchmark done').catch(() => undefined));
    await stopProcess(worker, 15_000);
    await connection.close();
    await db.db.dropDatabase().catch(() => undefined);
    await db.close();
  }
}
