/** Helpers for tests against the real servers started by global-setup. */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SA } from '../../common/definitions';
import { loadConfig, Config } from '../../common/config';
import { connectDatabase, ensureIndexes, Database } from '../../db/mongo';

export const KEYS = {
  ingest: 'test-ingest-key-000000000001',
  checkout: 'test-checkout-key-00000000001',
  operator: 'test-operator-key-00000000001',
  admin: 'test-admin-key-0000000000001',
};

/** A config for tests: short timings, test keys, a database and task queue of the test's own. */
export function testConfig(env: Record<string, string> = {}): Config {
  const suffix = randomBytes(4).toString('hex');
  return loadConfig({
    MONGODB_URI: process.env.TEST_MONGODB_URI,
    MONGODB_DB: `t_${suffix}`,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: `tq-${suffix}`,
    API_KEYS: `${KEYS.ingest}=ingest,${KEYS.checkout}=checkout,${KEYS.operator}=operator,${KEYS.admin}=admin+operator`,
    LOG_LEVEL: 'silent',
    DETECTION_INTERVAL: '2s',
    // Tests run detection themselves; waking it from the ingest is test/e2e/detection-wake.test.ts's.
    DETECTION_WAKE_GAP: '0s',
    DETECTION_WINDOW: '20s',
    COUNTER_BUCKET: '2s',
    PROBE_INTERVAL: '2s',
    DOWNTIME_EXPIRY: '60s',
    MIN_ATTEMPTS: '20',
    MIN_PROBE_SAMPLES: '10',
    ...env,
  });
}

export async function testDatabase(config: Config): Promise<Database> {
  const db = await connectDatabase(config.mongo.uri!, config.mongo.db);
  await ensureIndexes(db, config.retentionMs);
  return db;
}

export async function testClient(): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  return { client: new Client({ connection }), close: () => connection.close() };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The time-skipping test server knows no custom search attributes until they are added. */
export async function registerSearchAttributes(connection: Connection, namespace = 'default'): Promise<void> {
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(Object.values(SA).map((k) => [k.name, keyword])),
  });
}

/** The real time-skipping test server (installed by global-setup), with the search attributes added. */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: process.env.TEST_TEST_SERVER_PATH! } },
  });
  await registerSearchAttributes(env.connection);
  return env;
}
