/**
 * Starts the real parts once per test run: the Temporal dev server and the MongoDB-wire
 * server (FerretDB, or a real mongod / MONGODB_URI when given). Test files read their
 * addresses from the environment; global-teardown stops them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTools, startMongoWireServer, startTemporalDevServer, RunningServer } from '../scripts/local-servers';

declare global {
  var __servers: RunningServer[] | undefined;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export default async function globalSetup(): Promise<void> {
  const paths = ensureTools();
  const work = mkdtempSync(join(tmpdir(), 'downtime-tests-'));
  process.env.TEST_WORK_DIR = work;
  process.env.TEST_TEST_SERVER_PATH = paths.testServer;
  const servers: RunningServer[] = [];
  const [temporalPort, mongoPort] = [await freePort(), await freePort()];
  const starts: Promise<void>[] = [];
  if (!process.env.TEST_TEMPORAL_ADDRESS) {
    starts.push(
      startTemporalDevServer({ port: temporalPort, logFile: join(work, 'temporal.log') }).then((s) => {
        servers.push(s);
        process.env.TEST_TEMPORAL_ADDRESS = s.address;
      }),
    );
  }
  if (!process.env.TEST_MONGODB_URI) {
    if (process.env.MONGODB_URI) {
      process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
    } else {
      starts.push(
        startMongoWireServer({ port: mongoPort, dataDir: join(work, 'mongo'), logFile: join(work, 'mongo.log') }).then((s) => {
          servers.push(s);
          process.env.TEST_MONGODB_URI = s.address;
        }),
      );
    }
  }
  await Promise.all(starts);
  globalThis.__servers = servers;
}
