/**
 * Starts the real parts once per test run: the Temporal dev server and the MongoDB-wire
 * server (FerretDB, or a real mongod / MONGODB_URI when given). Test files read their
 * addresses from the environment; global-teardown stops them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTools, startLocalServers, RunningServer } from '../scripts/local-servers';

declare global {
  var __servers: RunningServer[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const paths = ensureTools();
  const work = mkdtempSync(join(tmpdir(), 'downtime-tests-'));
  process.env.TEST_WORK_DIR = work;
  process.env.TEST_TEST_SERVER_PATH = paths.testServer;
  if (!process.env.TEST_MONGODB_URI && process.env.MONGODB_URI) process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
  const { temporal, mongo } = await startLocalServers(work, { temporal: !process.env.TEST_TEMPORAL_ADDRESS, mongo: !process.env.TEST_MONGODB_URI });
  if (temporal) process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  if (mongo) process.env.TEST_MONGODB_URI = mongo.address;
  globalThis.__servers = [temporal, mongo].filter((s): s is RunningServer => s !== undefined);
}
