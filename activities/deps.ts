import type { Client } from '@temporalio/client';
import type { Config } from '../common/config';
import type { Database } from '../db/mongo';

/** What the worker gives the activities: the database, Temporal, config, the clock and a log. */
export interface ActivityDeps {
  db: Database;
  config: Config;
  temporal: { client: Client; taskQueue: string };
  /** The edge that reads the clock. */
  now: () => number;
  /** Where ops notifications are logged (pino in the worker). */
  log?: { info(obj: object, msg: string): void };
  /** The worker's metrics (worker/metrics.ts), when it keeps them. */
  metrics?: ProbeMetrics;
}

/** What the probe reports about itself. */
export interface ProbeMetrics {
  probeLag: { observe(seconds: number): void };
  probeReads: { inc(): void };
  probeDbReads: { inc(): void };
}
