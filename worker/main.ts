/** `npm run worker`: the worker process as production runs it. */
import { channelReport, loadConfigOrExit } from '../common/config';
import { connectDatabase, ensureIndexes, purgeExpired } from '../db/mongo';
import { startCompaction } from '../db/counters';
import { ensureDetectionSchedule } from './schedule';
import { createWorker } from './worker';
import { startDispatcher } from './dispatcher';
import { createSenders } from './channels';
import { logger } from '../common/logger';
import { WorkerMetrics, serveMetrics } from './metrics';

export async function runWorker(): Promise<void> {
  const config = loadConfigOrExit();
  const log = logger(config, 'worker');
  const temporalAddress = config.temporal.address ?? '127.0.0.1:7233';
  const mongoUri = config.mongo.uri ?? `mongodb://127.0.0.1:${config.mongo.embeddedPort}/`;
  const db = await connectDatabase(mongoUri, config.mongo.db);
  await ensureIndexes(db, config.retentionMs);
  const metrics = new WorkerMetrics();
  const metricsServer = config.workerMetricsPort > 0 ? await serveMetrics(metrics, config.host, config.workerMetricsPort) : undefined;
  if (metricsServer) log.info({ port: config.workerMetricsPort }, 'worker metrics on /metrics');
  const parts = await createWorker(config, db, temporalAddress, log, metrics);
  const schedule = await ensureDetectionSchedule(parts.client, config.temporal.taskQueue, config.detection.intervalMs);
  log.info({ schedule, taskQueue: config.temporal.taskQueue }, 'detection schedule ensured');
  const senders = createSenders(config, db);
  const dispatcher = startDispatcher(db, senders.send, log);
  log.info({ channels: channelReport(config) }, 'outbox channels');
  const purge = setInterval(() => {
    purgeExpired(db, Date.now(), config.retentionMs).catch((err) => log.warn({ err }, 'retention purge failed'));
  }, 60 * 60_000);
  const compaction = startCompaction(db, config.detection.counterBucketMs, log);
  // SEV1/SEV2 incidents whose post-incident review is past due: ops hear of each once.
  const reviews = setInterval(() => {
    parts.activities.remindOverdueReviews(Date.now()).catch((err) => log.warn({ err: err instanceof Error ? err.message : err }, 'overdue review reminders failed'));
  }, 60_000);
  const shutdown = () => parts.worker.shutdown();
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  log.info({ temporalAddress }, 'worker running');
  await parts.worker.run();
  clearInterval(purge);
  clearInterval(reviews);
  await compaction.stop();
  metricsServer?.close();
  await dispatcher.stop();
  senders.close();
  await parts.close();
  await db.close();
  log.info('worker stopped');
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
