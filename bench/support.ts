/**
 * Shared pieces of the benchmarks: child processes (tracked so Ctrl-C stops them), free ports,
 * the API as a child process, statistics, the machine description and the result files.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { ROOT, freePort, stopProcess, waitForPort } from '../scripts/local-servers';
import { JsonReply, jsonRequest } from '../client/json-http';

export { freePort };

export const RESULTS_DIR = join(ROOT, 'bench/results');

export interface BenchContext {
  full: boolean;
  mongoUri: string;
  /** Set when the selected benchmarks need Temporal (the API connects to it at start). */
  temporalAddress?: string;
  /** Scratch folder of this run: logs, the database files. */
  workDir: string;
  /** The servers' processes, for their CPU time and memory. */
  pids: { mongo?: number; temporal?: number };
  log(line: string): void;
}

/** What each benchmark hands back: one printed line and the JSON written to bench/results/<name>.json. */
export interface BenchOutcome {
  name: string;
  line: string;
  summary: { figure: string; baseline: string; ratio: string; target: string; met: boolean | 'partly' };
  details: Record<string, unknown>;
}

export const KEYS = {
  ingest: 'bench-ingest-key-000000000001',
  checkout: 'bench-checkout-key-00000000001',
  operator: 'bench-operator-key-00000000001',
  admin: 'bench-admin-key-0000000000001',
};
export const API_KEYS = `${KEYS.ingest}=ingest,${KEYS.checkout}=checkout,${KEYS.operator}=operator,${KEYS.admin}=admin+operator`;

const children = new Set<ChildProcess>();

/** Stops every child process a benchmark started and has not stopped yet (Ctrl-C, failures). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((c) => stopProcess(c, 5_000)));
}

/**
 * Runs a TypeScript file with `node --import tsx` (so the pid is the process itself, for its RSS),
 * output appended to `logFile`, or piped when `pipe` is set.
 */
export function spawnTs(script: string, args: string[], env: NodeJS.ProcessEnv, out: { logFile?: string; pipe?: boolean; nodeArgs?: string[] }): ChildProcess {
  let fd: number | undefined;
  if (out.logFile) {
    mkdirSync(join(out.logFile, '..'), { recursive: true });
    fd = openSync(out.logFile, 'a');
  }
  const stdout = out.pipe ? 'pipe' : fd ?? 'ignore';
  const child = spawn(process.execPath, [...(out.nodeArgs ?? []), '--import', 'tsx', join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', stdout, fd ?? 'inherit'],
  });
  if (fd !== undefined) closeSync(fd);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}


/** Runs a helper script to completion and parses the JSON it prints as its last stdout line. */
export function runJsonChild<T>(script: string, input: unknown, logFile: string): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = spawnTs(script, [JSON.stringify(input)], {}, { logFile, pipe: true });
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        const tail = readFileSync(logFile, 'utf8').split('\n').filter((l) => /error/i.test(l)).slice(-1)[0] ?? '';
        return reject(new Error(`${script} exited with ${code ?? signal}: ${tail.trim()} (log: ${logFile})`));
      }
      try {
        resolvePromise(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result (log: ${logFile})`));
      }
    });
  });
}

export interface RunningChild {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The real API (`api/main.ts`) as a child process on a free port, against its own database.
 * BENCH_API_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") are passed to its node, for profiling.
 */
export async function startApiProcess(ctx: BenchContext, dbName: string, logFile: string, env: Record<string, string> = {}): Promise<RunningChild> {
  if (!ctx.temporalAddress) throw new Error('the API needs the Temporal dev server');
  const port = await freePort();
  const child = spawnTs('api/main.ts', [], {
    PORT: String(port),
    HOST: '127.0.0.1',
    MONGODB_URI: ctx.mongoUri,
    MONGODB_DB: dbName,
    TEMPORAL_ADDRESS: ctx.temporalAddress,
    TEMPORAL_TASK_QUEUE: `${dbName}-tq`,
    API_KEYS,
    DATA_DIR: join(ctx.workDir, 'data'),
    ...env,
  }, { logFile, nodeArgs: process.env.BENCH_API_NODE_ARGS?.split(' ').filter(Boolean) });
  await waitForPort('127.0.0.1', port, 60_000, child);
  return { url: `http://127.0.0.1:${port}`, process: child, stop: () => stopProcess(child, 10_000) };
}

/** One authorized JSON call to the API. */
export const http = <T = unknown>(base: string, method: string, path: string, key: string, payload?: unknown): Promise<JsonReply<T>> => jsonRequest<T>(base, method, path, key, payload);

/** The middle value (the mean of the two middle ones for an even count; NaN for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile of unsorted values (NaN for none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
export const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');
/** A process's resident memory (MiB) and CPU time so far (user + system, seconds), from /proc; undefined once it is gone. */
export function processUsage(pid: number | undefined): { rssMiB: number; cpuSeconds: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    // Fields after the parenthesised name: utime and stime are the 14th and 15th of the line, in clock ticks.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return rss ? { rssMiB: Number(rss[1]) / 1024, cpuSeconds: ticks / CLOCK_TICKS } : undefined;
  } catch {
    return undefined;
  }
}

/** USER_HZ: Linux reports CPU times in hundredths of a second on every architecture Node runs on. */
const CLOCK_TICKS = 100;

/** Runs `fn` over `items` with at most `limit` at a time; the results in the items' order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i);
  }));
  return out;
}

/** Waits until a worker child logs "worker running" (its workflows bundled, the schedule ensured, polling). */
export async function waitForWorker(worker: ChildProcess, logFile: string, timeoutMs = 120_000): Promise<void> {
  const readyBy = Date.now() + timeoutMs;
  while (!(existsSync(logFile) && readFileSync(logFile, 'utf8').includes('worker running'))) {
    if (worker.exitCode !== null) throw new Error(`the worker exited with ${worker.exitCode} (log: ${logFile})`);
    if (Date.now() > readyBy) throw new Error(`the worker did not start within ${timeoutMs / 1000} s (log: ${logFile})`);
    await sleep(200);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The machine and the code the figures were measured on. */
export function describeMachine(full: boolean): Record<string, unknown> {
  const git = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const cpuList = cpus();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return {
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    os: `${osType()} ${release()}`,
    gitCommit: git(['rev-parse', 'HEAD']) || 'unknown',
    gitDirty: git(['status', '--porcelain']).length > 0,
    date: new Date().toISOString(),
    mode: full ? 'full' : 'short',
    loadAverageAtStart: load,
  };
}

export function writeResult(outcome: BenchOutcome, machine: Record<string, unknown>, wallSeconds: number): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const doc = { name: outcome.name, line: outcome.line, summary: outcome.summary, machine, wallSeconds: round(wallSeconds, 1), ...outcome.details };
  writeFileSync(join(RESULTS_DIR, `${outcome.name}.json`), `${JSON.stringify(doc, null, 2)}\n`);
}

const ORDER = ['payment-options', 'ingest', 'detection', 'actors'];

/** docs/results/benchmarks.md from every result file present (so `--only` keeps the others' rows). */
export function writeSummary(): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const docs = readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as { name: string; summary: BenchOutcome['summary']; machine: Record<string, unknown> })
    .sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name));
  const met = (m: boolean | 'partly') => (m === true ? 'yes' : m === 'partly' ? 'partly' : 'no');
  const lines = [
    '| benchmark | figure | baseline | ratio | target | met? | mode, date, commit |',
    '|---|---|---|---|---|---|---|',
    ...docs.map((d) => {
      const m = d.machine;
      return `| ${d.name} | ${d.summary.figure} | ${d.summary.baseline} | ${d.summary.ratio} | ${d.summary.target} | ${met(d.summary.met)} | ${String(m.mode)}, ${String(m.date).slice(0, 16)}, ${String(m.gitCommit).slice(0, 7)}${m.gitDirty ? '+dirty' : ''} |`;
    }),
  ];
  const first = docs[0]?.machine;
  const machineLine = first
    ? `Machine: ${String(first.cpuModel)}, ${String(first.cores)} cores, ${String(first.memoryGiB)} GiB, Node ${String(first.node)}, ${String(first.os)}.`
    : '';
  const text = `${lines.join('\n')}\n\n${machineLine}\nDetails per benchmark in bench/results/<name>.json; regenerate with \`npm run bench\` (short) or \`npm run bench -- --full\`.\n`;
  mkdirSync(join(ROOT, 'docs/results'), { recursive: true });
  writeFileSync(join(ROOT, 'docs/results/benchmarks.md'), `# Benchmarks\n\nWritten by \`npm run bench\`; do not edit. What the figures say: [notes](notes.md#benchmarks).\n\n${text}`);
  return text;
}
