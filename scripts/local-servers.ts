/**
 * Starts the local real parts: the Temporal CLI dev server (with the Web UI) and a
 * MongoDB-wire server (a `mongod` on PATH, or FerretDB with SQLite). Used by `npm start`
 * and by the test global setup. Binaries come from scripts/install-tools.sh's cache.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import versions from '../tools/versions.json';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../common/definitions';

export const ROOT = resolve(__dirname, '..');

export function toolsCache(): string {
  return (
    process.env.DOWNTIME_TOOLS_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'payment-downtime-orchestrator')
  );
}

export const toolPaths = () => ({
  temporal: join(toolsCache(), `temporal-cli-${versions.temporalCli}`, 'temporal'),
  testServer: join(toolsCache(), `temporal-test-server-${versions.temporalTestServer}`, 'temporal-test-server'),
  ferretdb: join(toolsCache(), `ferretdb-${versions.ferretdb}-${ferretdbSourceKey()}`, 'ferretdb'),
});

/**
 * The wrapper module's source digest, so that a changed wrapper is built again rather than taken
 * from the cache. install-tools.sh computes the same digest: go.mod, go.sum, then the .go files
 * in byte order.
 */
function ferretdbSourceKey(): string {
  const dir = join(ROOT, 'tools', 'ferretdb');
  const files = ['go.mod', 'go.sum', ...readdirSync(dir).filter((f) => f.endsWith('.go')).sort()];
  const hash = createHash('sha256');
  for (const f of files) hash.update(readFileSync(join(dir, f)));
  return hash.digest('hex').slice(0, 12);
}

/** Runs the install script when a tool is missing (a no-op on a warm cache). */
export function ensureTools(): ReturnType<typeof toolPaths> {
  const paths = toolPaths();
  if (!Object.values(paths).every((p) => existsSync(p))) {
    const res = spawnSync('bash', [join(ROOT, 'scripts/install-tools.sh'), 'servers'], { stdio: 'inherit' });
    if (res.status !== 0) throw new Error('installing the local servers failed (see above)');
  }
  return paths;
}

/** The contract fuzzer's command (Schemathesis in its virtualenv), installed when missing. */
export function ensureSchemathesis(): string {
  const dir = join(toolsCache(), `schemathesis-${versions.schemathesis}`);
  if (!existsSync(join(dir, '.installed'))) {
    const res = spawnSync('bash', [join(ROOT, 'scripts/install-tools.sh'), 'contract'], { stdio: 'inherit' });
    if (res.status !== 0) throw new Error('installing Schemathesis failed (see above)');
  }
  return join(dir, 'bin', 'schemathesis');
}

export interface RunningServer {
  name: string;
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function waitForPort(host: string, port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolvePromise, reject) => {
    const attempt = () => {
      if (child && child.exitCode !== null) {
        reject(new Error(`process exited with code ${child.exitCode} before listening on ${host}:${port}`));
        return;
      }
      const socket = createConnection({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolvePromise();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** A free ephemeral port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePromise(port));
    });
  });
}

/** True when something already listens on the port. */
export async function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  try {
    await waitForPort(host, port, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a server with its output in `logFile`. With `ownGroup` it runs in a process group of its
 * own, so a terminal's Ctrl-C reaches only the caller, which stops its processes in order.
 */
function spawnLogged(name: string, bin: string, args: string[], logFile: string, ownGroup = false): ChildProcess {
  mkdirSync(resolve(logFile, '..'), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: ownGroup });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.on('error', (err) => log.write(`[${name}] ${err.message}\n`));
  return child;
}

/** SIGTERM, then SIGKILL if the process is still there after the grace period. */
export function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  return new Promise((resolvePromise) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}

const stopper = (child: ChildProcess) => () => stopProcess(child);

export interface TemporalOptions {
  port: number;
  uiPort?: number;
  /** SQLite file keeping the state across restarts; in memory when absent. */
  dbFile?: string;
  logFile: string;
  namespace?: string;
  /** Out of the terminal's process group: `npm start` stops it after the worker and the API. */
  ownGroup?: boolean;
}

export async function startTemporalDevServer(o: TemporalOptions): Promise<RunningServer> {
  const { temporal } = ensureTools();
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(o.port), '--log-level', 'warn'];
  args.push('--namespace', o.namespace ?? 'default');
  if (o.uiPort) args.push('--ui-port', String(o.uiPort), '--ui-ip', '127.0.0.1', '--ui-disable-news-fetch');
  else args.push('--headless');
  if (o.dbFile) {
    mkdirSync(resolve(o.dbFile, '..'), { recursive: true });
    args.push('--db-filename', o.dbFile);
  }
  for (const sa of SEARCH_ATTRIBUTE_REGISTRATIONS) args.push('--search-attribute', sa);
  const child = spawnLogged('temporal', temporal, args, o.logFile, o.ownGroup);
  await waitForPort('127.0.0.1', o.port, 60_000, child);
  if (o.uiPort) await waitForPort('127.0.0.1', o.uiPort, 30_000, child);
  return { name: 'temporal', address: `127.0.0.1:${o.port}`, process: child, stop: stopper(child) };
}

export interface MongoOptions {
  port: number;
  dataDir: string;
  logFile: string;
  /** Out of the terminal's process group: `npm start` stops it after the worker and the API. */
  ownGroup?: boolean;
}

/** A real `mongod` when one is on PATH, otherwise FerretDB with its SQLite backend. */
export async function startMongoWireServer(o: MongoOptions): Promise<RunningServer> {
  mkdirSync(o.dataDir, { recursive: true });
  const mongod = spawnSync('sh', ['-c', 'command -v mongod'], { encoding: 'utf8' }).stdout.trim();
  let child: ChildProcess;
  let name: string;
  if (mongod) {
    name = 'mongod';
    child = spawnLogged(name, mongod, ['--bind_ip', '127.0.0.1', '--port', String(o.port), '--dbpath', o.dataDir], o.logFile, o.ownGroup);
  } else {
    name = 'ferretdb';
    const { ferretdb } = ensureTools();
    // WAL with synchronous=NORMAL: a commit is not synced to disk on its own (the checkpoint is).
    // A killed process loses nothing; a power loss or kernel crash can lose the last commits, never
    // the file. SQLite's default (FULL) syncs every commit, which held writes to half the rate.
    child = spawnLogged(name, ferretdb, ['--listen-addr', `127.0.0.1:${o.port}`, '--sqlite-url', `file:${resolve(o.dataDir)}/?_pragma=synchronous(normal)`], o.logFile, o.ownGroup);
  }
  await waitForPort('127.0.0.1', o.port, 30_000, child);
  return { name, address: `mongodb://127.0.0.1:${o.port}/`, process: child, stop: stopper(child) };
}

type Started<B extends boolean> = B extends true ? RunningServer : undefined;

/**
 * A throwaway pair for tests and simulations: the Temporal dev server (in memory) and the
 * MongoDB-wire server side by side on free loopback ports, logs and data under `workDir`
 * (temporal.log, mongo/, mongo.log). Either can be left out. When one fails to start, the other
 * is stopped before the error is thrown.
 */
export async function startLocalServers<T extends boolean = true, M extends boolean = true>(
  workDir: string,
  which: { temporal?: T; mongo?: M } = {},
): Promise<{ temporal: Started<T>; mongo: Started<M> }> {
  const [temporalPort, mongoPort] = [await freePort(), await freePort()];
  const [temporal, mongo] = await Promise.allSettled([
    which.temporal === false ? undefined : startTemporalDevServer({ port: temporalPort, logFile: join(workDir, 'temporal.log') }),
    which.mongo === false ? undefined : startMongoWireServer({ port: mongoPort, dataDir: join(workDir, 'mongo'), logFile: join(workDir, 'mongo.log') }),
  ]);
  if (temporal.status === 'rejected' || mongo.status === 'rejected') {
    await Promise.all([temporal, mongo].map((r) => (r.status === 'fulfilled' ? r.value?.stop() : undefined)));
    throw temporal.status === 'rejected' ? temporal.reason : (mongo as PromiseRejectedResult).reason;
  }
  return { temporal: temporal.value as Started<T>, mongo: mongo.value as Started<M> };
}
