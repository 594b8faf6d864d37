/**
 * `npm start`: the whole stack on embedded defaults. Starts the Temporal dev server (Web UI on
 * 8233, state in DATA_DIR/temporal.db) and a MongoDB-wire server (data in DATA_DIR/mongo) unless
 * TEMPORAL_ADDRESS / MONGODB_URI point at existing ones, then the worker and the API as child
 * processes. Ctrl-C stops everything it started: the worker and the API, then the servers.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { channelReport, loadConfigOrExit } from '../common/config';
import { devKeys } from '../api/dev-keys';
import { downtimesInUi } from '../common/temporal-ui';
import { ROOT, RunningServer, portInUse, stopProcess, startMongoWireServer, startTemporalDevServer, waitForPort } from './local-servers';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const dataDir = resolve(config.dataDir);
  const servers: RunningServer[] = [];
  const children: ChildProcess[] = [];
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping...');
    await Promise.all(children.map((c) => stopProcess(c, 15_000)));
    await Promise.all(servers.reverse().map((s) => s.stop()));
    console.log('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
    const [temporalAddress, mongoUri] = await Promise.all([
      config.temporal.address ??
        (async () => {
          const port = 7233;
          if (await portInUse(port)) throw new Error(`port ${port} is taken: stop what runs there or set TEMPORAL_ADDRESS`);
          const s = await startTemporalDevServer({ port, uiPort: config.temporal.uiPort, dbFile: join(dataDir, 'temporal.db'), logFile: join(dataDir, 'logs/temporal.log'), ownGroup: true });
          servers.push(s);
          return s.address;
        })(),
      config.mongo.uri ??
        (async () => {
          const port = config.mongo.embeddedPort;
          if (await portInUse(port)) throw new Error(`port ${port} is taken: stop what runs there, set EMBEDDED_MONGO_PORT, or set MONGODB_URI`);
          const s = await startMongoWireServer({ port, dataDir: join(dataDir, 'mongo'), logFile: join(dataDir, 'logs/mongo.log'), ownGroup: true });
          servers.push(s);
          return s.address;
        })(),
    ]);
    env.TEMPORAL_ADDRESS = temporalAddress;
    env.MONGODB_URI = mongoUri;

    // `node --import tsx` rather than the tsx command, which runs the program in a second process
    // and would leave it running when the SIGKILL fallback of stopProcess hits the first. Each in a
    // process group of its own: a terminal's Ctrl-C reaches only this process, which stops the
    // worker and the API first and Temporal and the database after them.
    const run = (entry: string) => spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry)], { cwd: ROOT, env, stdio: 'inherit', detached: true });
    const worker = run('worker/main.ts');
    children.push(worker);
    const api = run('api/main.ts');
    children.push(api);
    for (const child of children) child.once('exit', (code) => void stopAll(code ?? 1));
    await waitForPort(config.host, config.port, 60_000, api);

    const keys = config.apiKeys ? undefined : devKeys(dataDir).byRole;
    const lines = [
      '',
      'Payment downtime orchestrator is running',
      `  API            http://${config.host}:${config.port}   (OpenAPI: /docs, status page: /status, health: /healthz)`,
      config.temporal.address ? `  Temporal       ${temporalAddress}` : `  Temporal UI    ${config.temporal.uiUrl}   (server ${temporalAddress})`,
      `  Downtimes      ${downtimesInUi(config)}`,
      `  MongoDB        ${config.mongo.uri ? '(MONGODB_URI)' : mongoUri}`,
      keys ? `  Dev API keys   (stored in ${join(dataDir, 'dev-api-keys.json')})` : '  API keys       from API_KEYS',
      ...(keys ? Object.entries(keys).map(([role, key]) => `    ${role.padEnd(9)} ${key}`) : []),
      '  Channels',
      ...Object.entries(channelReport(config)).map(([channel, state]) => `    ${channel.padEnd(17)} ${state}`),
      'Ctrl-C stops everything.',
      '',
    ];
    console.log(lines.join('\n'));
  } catch (err) {
    console.error(`start failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll(1);
  }
}


void main();
