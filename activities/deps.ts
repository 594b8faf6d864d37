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
}
