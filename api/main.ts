/** `npm run api`: the API process as production runs it. */
import { Client, Connection } from '@temporalio/client';
import { channelReport, loadConfigOrExit } from '../common/config';
import { connectDatabase, ensureIndexes } from '../db/mongo';
import { buildApp } from './app';
import { KeyRing } from './auth';
import { devKeys } from './dev-keys';

export async function runApi(): Promise<void> {
  const config = loadConfigOrExit();
  const mongoUri = config.mongo.uri ?? `mongodb://127.0.0.1:${config.mongo.embeddedPort}/`;
  const db = await connectDatabase(mongoUri, config.mongo.db);
  await ensureIndexes(db, config.retentionMs);
  const connection = await Connection.connect({ address: config.temporal.address ?? '127.0.0.1:7233' });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const keys = new KeyRing(config.apiKeys ?? devKeys(config.dataDir).map);
  const app = await buildApp({ config, db, temporal, keys });
  const close = async () => {
    await app.close();
    await connection.close();
    await db.close();
  };
  process.once('SIGINT', () => void close());
  process.once('SIGTERM', () => void close());
  await app.listen({ port: config.port, host: config.host });
  app.log.info({ pagerdutyInbound: channelReport(config).pagerdutyInbound }, 'inbound integrations');
}

if (require.main === module) {
  runApi().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
