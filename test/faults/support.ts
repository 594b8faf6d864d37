/**
 * Helpers of the fault suite: the worker and the API as real child processes (as `npm start` runs
 * them), killed with real signals; the environment they run with; waiting for them to be ready;
 * what Temporal and the database say afterwards.
 *
 * The children run `node --import tsx <entry>` rather than `node_modules/.bin/tsx <entry>`: the
 * tsx CLI forks the program into a second process and relays signals to it, so a SIGKILL sent to
 * the CLI would leave the real worker running as an orphan. Here the pid is the program itself.
 *
 * A test's whole stack (servers of its own, workers, API, clients) is startFaultStack /
 * stopFaultStack, at the end of this file.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import { temporal } from '@temporalio/proto';
import { DETECTION_SCHEDULE_ID } from '../../common/definitions';
import { connectDatabase, Database } from '../../db/mongo';
import { countedAttempts } from '../../db/counters';
import { ROOT, RunningServer, freePort, startMongoWireServer, startTemporalDevServer, waitForPort } from '../../scripts/local-servers';
import { KEYS } from '../support/stack';
import type { TransactionRecord } from '../../common/transaction';
import { eventually, httpClient } from '../e2e/support';

export { KEYS, freePort };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A directory of the test's own for state and logs, under the run's work directory. */
export function faultDir(name: string): string {
  const base = process.env.TEST_WORK_DIR ?? tmpdir();
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `fault-${name}-`));
}

export type Env = Record<string, string>;

/**
 * The environment of the children: short timings (as test/support/stack.ts testConfig), the test
 * keys, a database and task queue of the test's own, warn-level logs. Detection runs on its
 * Schedule but never judges a scope (MIN_ATTEMPTS out of reach): the downtimes of these tests are
 * opened by operators, so the probe traffic cannot open or reopen others behind the test's back.
 */
export function faultEnv(overrides: Env = {}): Env {
  const suffix = randomBytes(4).toString('hex');
  return {
    MONGODB_URI: process.env.TEST_MONGODB_URI!,
    MONGODB_DB: `f_${suffix}`,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: `fq-${suffix}`,
    API_KEYS: `${KEYS.ingest}=ingest,${KEYS.checkout}=checkout,${KEYS.operator}=operator,${KEYS.admin}=admin+operator`,
    LOG_LEVEL: 'warn',
    DETECTION_INTERVAL: '2s',
    DETECTION_WINDOW: '20s',
    COUNTER_BUCKET: '2s',
    PROBE_INTERVAL: '2s',
    DOWNTIME_EXPIRY: '10m',
    MIN_ATTEMPTS: '1000000',
    MIN_PROBE_SAMPLES: '10',
    SNAPSHOT_REFRESH: '200ms',
    ...overrides,
  };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  exited: Promise<Exit>;
  running(): boolean;
  /** SIGKILL: no handler runs, nothing is flushed. */
  kill(): Promise<Exit>;
  /** SIGTERM, then SIGKILL after the grace period; says whether it exited on its own and how long it took. */
  stop(graceMs?: number): Promise<Exit & { graceful: boolean; ms: number }>;
  log(): string;
}

/** Runs `node --import tsx <entry>` (relative to the repository, or absolute) with the environment, stdout and stderr appended to the log file. */
export function spawnEntry(name: string, entry: string, env: Env, logFile: string): ManagedProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    pid: child.pid,
    child,
    logFile,
    exited,
    running,
    async kill() {
      if (running()) child.kill('SIGKILL');
      return exited;
    },
    async stop(graceMs = 15_000) {
      const started = Date.now();
      if (!running()) return { ...(await exited), graceful: true, ms: 0 };
      let graceful = true;
      const timer = setTimeout(() => {
        graceful = false;
        child.kill('SIGKILL');
      }, graceMs);
      child.kill('SIGTERM');
      const exit = await exited;
      clearTimeout(timer);
      return { ...exit, graceful, ms: Date.now() - started };
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  };
}

const tail = (p: ManagedProcess) => p.log().split('\n').slice(-30).join('\n');

export interface Temporal {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

export async function temporalClient(address: string): Promise<Temporal> {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection }), connection, close: () => connection.close() };
}

/** The identities polling the task queue (workflow and activity tasks). */
export async function pollers(t: Temporal, taskQueue: string): Promise<string[]> {
  const out: string[] = [];
  for (const taskQueueType of [temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]) {
    const res = await t.connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType });
    out.push(...(res.pollers ?? []).map((p) => `${taskQueueType}:${p.identity}`));
  }
  return out;
}

/**
 * Starts worker/main.ts (or `entry`, another build's) and waits until that process (its pid is in
 * the worker identity) polls the task queue for workflow and activity tasks.
 */
export async function startWorker(env: Env, dir: string, name = 'worker', timeoutMs = 120_000, entry = 'worker/main.ts'): Promise<ManagedProcess> {
  const p = spawnEntry(name, entry, env, join(dir, `${name}.log`));
  const t = await temporalClient(env.TEMPORAL_ADDRESS!);
  try {
    await eventually(
      `${name} (pid ${p.pid}) polls ${env.TEMPORAL_TASK_QUEUE}`,
      async () => {
        if (!p.running()) throw new Error(`${name} exited ${JSON.stringify(await p.exited)} before polling:\n${tail(p)}`);
        const ids = await pollers(t, env.TEMPORAL_TASK_QUEUE!).catch(() => []);
        const mine = ids.filter((id) => id.split(':')[1]?.startsWith(`${p.pid}@`));
        return mine.length >= 2 ? true : undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  } catch (err) {
    await p.kill();
    throw err;
  } finally {
    await t.close();
  }
  return p;
}

/** Starts api/main.ts on env.PORT and waits until /healthz answers. */
export async function startApi(env: Env, dir: string, name = 'api', timeoutMs = 120_000): Promise<ManagedProcess> {
  const p = spawnEntry(name, 'api/main.ts', env, join(dir, `${name}.log`));
  try {
    await waitForPort('127.0.0.1', Number(env.PORT), timeoutMs, p.child);
    const health = await fetch(`http://127.0.0.1:${env.PORT}/healthz`);
    if (health.status !== 200) throw new Error(`${name}: /healthz answered ${health.status}`);
  } catch (err) {
    await p.kill();
    throw new Error(`${name} did not start: ${err instanceof Error ? err.message : String(err)}\n${tail(p)}`, { cause: err });
  }
  return p;
}

export const apiUrl = (env: Env) => `http://127.0.0.1:${env.PORT}`;
export const api = (env: Env) => httpClient(apiUrl(env));

export async function database(env: Env): Promise<Database> {
  return connectDatabase(env.MONGODB_URI!, env.MONGODB_DB!);
}

/** Leaves nothing of the test behind on a shared Temporal server: the Schedule and open workflows of its task queue. */
export async function cleanTemporal(address: string, taskQueue: string): Promise<void> {
  const t = await temporalClient(address).catch(() => undefined);
  if (!t) return;
  try {
    const schedule = t.client.schedule.getHandle(DETECTION_SCHEDULE_ID);
    const described = await schedule.describe().catch(() => undefined);
    if ((described?.action as { taskQueue?: string } | undefined)?.taskQueue === taskQueue) await schedule.delete().catch(() => undefined);
    for await (const wf of t.client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` })) {
      await t.client.workflow.getHandle(wf.workflowId, wf.runId).terminate('fault test cleanup').catch(() => undefined);
    }
  } catch {
    // best effort: the server may be gone
  } finally {
    await t.close();
  }
}

const EventType = temporal.api.enums.v1.EventType;

export interface HistorySummary {
  events: number;
  workflowTasksFailed: number;
  workflowTaskFailures: string[];
  workflowTasksTimedOut: number;
  activitiesTimedOut: number;
  activitiesFailed: number;
  /** Highest attempt number an activity started with, or a local activity completed on (1 = never retried). */
  maxActivityAttempt: number;
  /** Activity types that were retried, with the attempt they completed on. */
  retried: { activity: string; attempt: number }[];
  completed: boolean;
}

/** What a workflow run's history says about failures, time-outs and retries. */
export async function historySummary(t: Temporal, workflowId: string, runId?: string): Promise<HistorySummary> {
  const history = await t.client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Map<string, string>();
  const s: HistorySummary = { events: events.length, workflowTasksFailed: 0, workflowTaskFailures: [], workflowTasksTimedOut: 0, activitiesTimedOut: 0, activitiesFailed: 0, maxActivityAttempt: 1, retried: [], completed: false };
  for (const e of events) {
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        s.workflowTasksFailed += 1;
        s.workflowTaskFailures.push(String(e.workflowTaskFailedEventAttributes?.failure?.message ?? e.workflowTaskFailedEventAttributes?.cause));
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        s.workflowTasksTimedOut += 1;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const a = e.activityTaskStartedEventAttributes;
        const attempt = a?.attempt ?? 1;
        s.maxActivityAttempt = Math.max(s.maxActivityAttempt, attempt);
        if (attempt > 1) s.retried.push({ activity: scheduled.get(String(a?.scheduledEventId)) ?? '?', attempt });
        break;
      }
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        // A local activity (the start, a look's read and save) records the attempt it completed on.
        const m = e.markerRecordedEventAttributes;
        const data = m?.markerName === 'core_local_activity' ? m.details?.data?.payloads?.[0]?.data : undefined;
        if (data) {
          const la = JSON.parse(Buffer.from(data).toString()) as { activity_type?: string; attempt?: number };
          const attempt = la.attempt ?? 1;
          s.maxActivityAttempt = Math.max(s.maxActivityAttempt, attempt);
          if (attempt > 1) s.retried.push({ activity: la.activity_type ?? '?', attempt });
        }
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        s.activitiesTimedOut += 1;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        s.activitiesFailed += 1;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        s.completed = true;
        break;
      default:
        break;
    }
  }
  return s;
}

/** Attempts `count` payment attempts on one route by the given users, `at` now, ids unique under `tag`. */
export function liveAttempts(tag: string, users: string[], route: { method: string; gateway: string }, count: number, errorCode?: string): TransactionRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${tag}-${i}`,
    userId: users[i % users.length]!,
    method: route.method,
    gateway: route.gateway,
    status: errorCode ? ('failure' as const) : ('success' as const),
    ...(errorCode ? { errorCode } : {}),
  }));
}

/** Every loop started by watchOptions or background, so afterAll can stop what a failed test left running. */
const loops = new Set<{ stop(): Promise<unknown> }>();

export async function stopLoops(): Promise<void> {
  await Promise.all([...loops].map((l) => l.stop()));
}

export interface Observation {
  at: number;
  status: number;
  /** The methods offered to the user (available or probe). */
  methods: string[];
  /** Those of them offered as available (not as a probe with a warning). */
  available: string[];
}

/**
 * The observations in which a bucket-A user was offered `method` too early: in any form before
 * `healedFrom` (while it still failed), or as plainly available before `reenabledAt`. In between
 * the probe may have proven the recovery and be waiting for its sample minimum, when every user
 * is shown the method as a probe, with its warning (PROVEN_PROBE_PERCENT).
 */
export function offeredEarly(seen: Observation[], method: string, healedFrom: number, reenabledAt: number): Observation[] {
  return seen.filter((o) => o.at < reenabledAt && (o.available.includes(method) || (o.methods.includes(method) && o.at < healedFrom)));
}

/** Asks for one user's payment options every `intervalMs` until stopped; records what came back. */
export function watchOptions(base: string, userId: string, intervalMs = 150) {
  const seen: Observation[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      try {
        const res = await fetch(`${base}/v1/payment-options?userId=${encodeURIComponent(userId)}`, {
          headers: { authorization: `Bearer ${KEYS.checkout}` },
          signal: AbortSignal.timeout(5_000),
        });
        const options = ((await res.json().catch(() => ({}))) as { options?: { method: string; state?: string }[] }).options ?? [];
        seen.push({ at, status: res.status, methods: options.map((o) => o.method), available: options.filter((o) => o.state === 'available').map((o) => o.method) });
      } catch {
        seen.push({ at, status: 0, methods: [], available: [] });
      }
      await sleep(intervalMs);
    }
  })();
  const handle = {
    seen,
    async stop(): Promise<Observation[]> {
      stopped = true;
      loops.delete(handle);
      await loop;
      return seen;
    },
  };
  loops.add(handle);
  return handle;
}

/** A loop of its own until stopped: `step` runs, then the loop waits `intervalMs`; errors are collected, not thrown. */
export function background(step: () => Promise<void>, intervalMs: number) {
  let stopped = false;
  const errors: string[] = [];
  let runs = 0;
  const loop = (async () => {
    while (!stopped) {
      try {
        await step();
        runs += 1;
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
      await sleep(intervalMs);
    }
  })();
  const handle = {
    errors,
    runs: () => runs,
    async stop() {
      stopped = true;
      loops.delete(handle);
      await loop;
    },
  };
  loops.add(handle);
  return handle;
}

/** Writes what a fault test measured to test-results/faults/<name>.json and prints it. */
export function report(name: string, data: Record<string, unknown>): void {
  const dir = join(ROOT, 'test-results', 'faults');
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(data, null, 2);
  writeFileSync(join(dir, `${name}.json`), `${text}\n`);
  console.log(`[fault ${name}] ${text}`);
}

export interface Arrival {
  /** The Webhook-Id header: the event id. */
  id: string;
  at: number;
  body: string;
  timestamp: string;
  signature: string;
}

/** What a receiver checks: the official Standard Webhooks library verifies the arrival with the secret. */
export function verifiesWebhook(secret: string, a: Arrival): boolean {
  try {
    new Webhook(secret).verify(a.body, { 'webhook-id': a.id, 'webhook-timestamp': a.timestamp, 'webhook-signature': a.signature });
    return true;
  } catch {
    return false;
  }
}

/**
 * A webhook receiver on 127.0.0.1:`port`, closed until listen(). `answer` decides, per arrival,
 * the status it answers with and how long it takes first.
 */
export function webhookReceiver(port: number, answer: (a: Arrival) => Promise<number> | number = () => 204) {
  const arrivals: Arrival[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const arrival: Arrival = {
        id: String(req.headers['webhook-id']),
        at: Date.now(),
        body,
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
      };
      arrivals.push(arrival);
      void Promise.resolve(answer(arrival)).then((status) => {
        if (!res.destroyed) res.writeHead(status).end();
      });
    });
  });
  return {
    arrivals,
    url: `http://127.0.0.1:${port}/hooks/downtimes`,
    listen: () => new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    }),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface IngestAttempt {
  /** 0 when the request itself failed (refused, reset, timed out): the answer was lost. */
  status: number;
  startedAt: number;
  ms: number;
  retryAfter?: string;
  body?: { accepted?: number; duplicates?: number; rejected?: unknown[]; error?: string };
  error?: string;
}

export interface BatchOutcome {
  ids: string[];
  attempts: IngestAttempt[];
  /** The 202 that ended the retries. */
  final: IngestAttempt;
}

/**
 * The checkout's side of ingest: posts a batch and, when the request fails (no answer, or a 503),
 * posts the same batch again, after Retry-After when the API gives one, until it gets a 202.
 */
export class IngestClient {
  readonly batches: BatchOutcome[] = [];
  /** Start times of the requests under way. */
  private readonly open = new Set<{ startedAt: number }>();

  constructor(
    private readonly base: () => string,
    private readonly opts: { timeoutMs?: number; retryDelayMs?: number; honourRetryAfter?: boolean } = {},
  ) {}

  /** How long each request under way has been waiting for its answer, in ms. */
  inFlightAges(): number[] {
    const now = Date.now();
    return [...this.open].map((o) => now - o.startedAt);
  }

  async attempt(transactions: TransactionRecord[]): Promise<IngestAttempt> {
    const started = Date.now();
    const entry = { startedAt: started };
    this.open.add(entry);
    try {
      const res = await fetch(`${this.base()}/v1/transactions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.ingest}`, 'content-type': 'application/json' },
        body: JSON.stringify({ transactions }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
      const body = (await res.json().catch(() => undefined)) as IngestAttempt['body'];
      return { status: res.status, startedAt: started, ms: Date.now() - started, retryAfter: res.headers.get('retry-after') ?? undefined, body };
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return { status: 0, startedAt: started, ms: Date.now() - started, error: cause?.code ?? cause?.message ?? (err as Error).message };
    } finally {
      this.open.delete(entry);
    }
  }

  /** Posts until 202; any other final status (400, 401...) fails the test's premise and throws. */
  async postUntilAccepted(transactions: TransactionRecord[], stopAfterMs = 180_000): Promise<BatchOutcome> {
    const attempts: IngestAttempt[] = [];
    const deadline = Date.now() + stopAfterMs;
    for (;;) {
      const a = await this.attempt(transactions);
      attempts.push(a);
      if (a.status === 202) {
        const outcome = { ids: transactions.map((t) => t.id), attempts, final: a };
        this.batches.push(outcome);
        return outcome;
      }
      if (a.status !== 0 && a.status !== 503) throw new Error(`ingest answered ${a.status}: ${JSON.stringify(a.body)}`);
      if (Date.now() > deadline) throw new Error(`batch not accepted after ${attempts.length} attempts`);
      const wait = this.opts.honourRetryAfter !== false && a.retryAfter ? Number(a.retryAfter) * 1000 : (this.opts.retryDelayMs ?? 200);
      await sleep(wait);
    }
  }

  acceptedIds(): Set<string> {
    return new Set(this.batches.flatMap((b) => b.ids));
  }

  /** What the retries say: answers lost, 503s, and retried batches the lost attempt had already stored (fully or partly). */
  stats() {
    const all = this.batches.flatMap((b) => b.attempts);
    const retried = this.batches.filter((b) => b.attempts.length > 1);
    return {
      batches: this.batches.length,
      transactions: this.acceptedIds().size,
      requests: all.length,
      answered202: all.filter((a) => a.status === 202).length,
      answered503: all.filter((a) => a.status === 503).length,
      answersLost: all.filter((a) => a.status === 0).length,
      lostErrors: [...new Set(all.filter((a) => a.status === 0).map((a) => a.error))],
      retriedBatches: retried.length,
      retriedBatchesFoundStored: retried.filter((b) => (b.final.body?.duplicates ?? 0) > 0).map((b) => ({ size: b.ids.length, accepted: b.final.body?.accepted, duplicates: b.final.body?.duplicates })),
      firstTimeDuplicates: this.batches.filter((b) => b.attempts.length === 1 && (b.final.body?.duplicates ?? 0) > 0).length,
      rejected: this.batches.reduce((n, b) => n + (b.final.body?.rejected?.length ?? 0), 0),
    };
  }
}

/** The stored transactions' ids and the counters' total of counted attempts (success + system + user failures). */
export async function storedAndCounted(db: Database): Promise<{ stored: Set<string>; counted: number; storedCount: number }> {
  const ids = await db.c.transactions.find({}, { projection: { _id: 1 } }).toArray();
  const counted = await countedAttempts(db);
  return { stored: new Set(ids.map((d) => d._id)), counted, storedCount: ids.length };
}

const OUTCOMES: (string | undefined)[] = [undefined, undefined, undefined, undefined, 'GATEWAY_TIMEOUT', undefined, 'USER_CANCELLED', undefined, 'BANK_UNAVAILABLE', 'INVALID_OTP'];

/** `count` unique attempts over a few healthy routes, a mix of successes, system and user failures. */
export function mixedTraffic(tag: string, count: number): TransactionRecord[] {
  const routes = [
    { method: 'card:visa_debit', gateway: 'razorpay' },
    { method: 'upi:gpay', gateway: 'payu' },
    { method: 'netbanking:hdfc', gateway: 'cashfree' },
  ];
  return Array.from({ length: count }, (_, i) => {
    const code = OUTCOMES[i % OUTCOMES.length];
    const route = routes[i % routes.length]!;
    return {
      id: `${tag}-${i}`,
      userId: `load_user_${i % 211}`,
      ...route,
      status: code ? ('failure' as const) : ('success' as const),
      ...(code ? { errorCode: code } : {}),
    };
  });
}

export type Receiver = ReturnType<typeof webhookReceiver>;

/** A server of the test's own on a fixed port, which the test may stop and start again on the same state. */
export interface OwnServer {
  readonly address: string;
  running(): boolean;
  /** Starts it again (same port, same state); a no-op while it runs. */
  start(): Promise<void>;
  /** Stops it (SIGTERM); a no-op when stopped. */
  stop(): Promise<void>;
}

async function ownServer(launch: () => Promise<RunningServer>): Promise<OwnServer> {
  let current: RunningServer | undefined = await launch();
  const { address } = current;
  return {
    address,
    running: () => current !== undefined,
    async start() {
      current ??= await launch();
    },
    async stop() {
      const server = current;
      current = undefined;
      await server?.stop();
    },
  };
}

export interface FaultStackOptions {
  /** Names the test's directory (faultDir) and nothing else. */
  name: string;
  /** Overrides of faultEnv. PORT, the API's, is always a free port of the stack's own. */
  env?: Env;
  /**
   * A Temporal dev server of the test's own (SQLite state file in the test's directory, fixed
   * port) instead of the run's shared one: stack.temporalServer, which the test may stop and start.
   */
  ownTemporal?: boolean;
  /**
   * A MongoDB-wire server of the test's own (data in the test's directory, fixed port) instead of
   * the run's shared one: stack.databaseServer, which the test may stop and start.
   */
  ownDatabase?: boolean;
  /** Names of the workers started at first, each waited for until it polls; default one, 'worker'. */
  workers?: string[];
  /** Name of the API process started at first; default 'api'. */
  api?: string;
  /** Keeps a Temporal client open as stack.t. */
  temporalClient?: boolean;
  /**
   * A webhook receiver on a free port as stack.receiver, answering as `answer` says (true: 204 at
   * once); listening from the start unless `closed`.
   */
  receiver?: true | { answer?: (a: Arrival) => Promise<number> | number; closed?: boolean };
}

export interface FaultStack {
  dir: string;
  env: Env;
  /** Every worker started, first to last; stopped with the stack. */
  workers: ManagedProcess[];
  /** Every API process started, first to last; stopped with the stack. */
  apis: ManagedProcess[];
  db: Database;
  t?: Temporal;
  receiver?: Receiver;
  temporalServer?: OwnServer;
  databaseServer?: OwnServer;
  /** Starts another worker on the stack's environment (e.g. after one was killed). */
  startWorker(name: string): Promise<ManagedProcess>;
  /** Starts another API process on the stack's environment and port. */
  startApi(name: string): Promise<ManagedProcess>;
}

/**
 * A fault test's stack: its directory and environment, its own Temporal and/or database server
 * when asked, the webhook receiver, the worker(s) and the API as child processes (started side
 * by side and waited for), a database connection and a Temporal client. If anything fails to
 * start, what did start is stopped before the error is thrown.
 */
export async function startFaultStack(o: FaultStackOptions): Promise<FaultStack> {
  const dir = faultDir(o.name);
  const stack: Partial<FaultStack> & Pick<FaultStack, 'dir' | 'workers' | 'apis'> = { dir, workers: [], apis: [] };
  try {
    const overrides: Env = { PORT: String(await freePort()) };
    if (o.ownTemporal) {
      const port = await freePort();
      stack.temporalServer = await ownServer(() => startTemporalDevServer({ port, dbFile: join(dir, 'temporal.db'), logFile: join(dir, 'temporal.log') }));
      overrides.TEMPORAL_ADDRESS = stack.temporalServer.address;
    }
    if (o.ownDatabase) {
      const port = await freePort();
      stack.databaseServer = await ownServer(() => startMongoWireServer({ port, dataDir: join(dir, 'mongo'), logFile: join(dir, 'mongo.log') }));
      overrides.MONGODB_URI = stack.databaseServer.address;
    }
    const env = faultEnv({ ...overrides, ...o.env });
    stack.env = env;
    stack.startWorker = async (name) => {
      const w = await startWorker(env, dir, name);
      stack.workers.push(w);
      return w;
    };
    stack.startApi = async (name) => {
      const a = await startApi(env, dir, name);
      stack.apis.push(a);
      return a;
    };
    if (o.receiver) {
      const { answer, closed } = o.receiver === true ? {} : o.receiver;
      stack.receiver = webhookReceiver(await freePort(), answer);
      if (!closed) await stack.receiver.listen();
    }
    const started = await Promise.allSettled([...(o.workers ?? ['worker']).map((name) => stack.startWorker!(name)), stack.startApi(o.api ?? 'api')]);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    stack.db = await database(env);
    if (o.temporalClient) stack.t = await temporalClient(env.TEMPORAL_ADDRESS!);
    return stack as FaultStack;
  } catch (err) {
    await stopFaultStack(stack);
    throw err;
  }
}

/**
 * Stops what startFaultStack started and what the test added (loops, workers, API processes),
 * and leaves nothing behind on the run's shared servers: the task queue's Schedule and open
 * workflows on the shared Temporal, the test's database on the shared database server.
 */
export async function stopFaultStack(stack: Partial<FaultStack> | undefined): Promise<void> {
  await stopLoops();
  if (!stack) return;
  for (const a of stack.apis ?? []) await a.stop();
  for (const w of stack.workers ?? []) await w.stop();
  if (stack.env && !stack.temporalServer) await cleanTemporal(stack.env.TEMPORAL_ADDRESS!, stack.env.TEMPORAL_TASK_QUEUE!);
  await stack.t?.close();
  await stack.temporalServer?.stop();
  if (!stack.databaseServer) await stack.db?.db.dropDatabase().catch(() => undefined);
  await stack.db?.close();
  await stack.databaseServer?.stop();
  await stack.receiver?.close();
}

export interface PagerDutyEvent {
  event_action: string;
  dedup_key: string;
  payload?: { severity: string };
}

/**
 * One HTTP server on loopback standing in for PagerDuty's Events API (`/v2/enqueue`, 202) and a
 * Slack incoming webhook (any other path, 200), keeping what each received; `env` points the
 * worker's channels at it.
 */
export async function pagerDutyAndSlack() {
  const port = await freePort();
  const pagerDuty: PagerDutyEvent[] = [];
  const slack: { text: string }[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/v2/enqueue') pagerDuty.push(JSON.parse(body) as PagerDutyEvent);
      else slack.push(JSON.parse(body) as { text: string });
      res.writeHead(req.url === '/v2/enqueue' ? 202 : 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    pagerDuty,
    slack,
    env: { PAGERDUTY_ROUTING_KEY: 'R0UT1NG0000000000000000000000000', PAGERDUTY_EVENTS_URL: `http://127.0.0.1:${port}/v2/enqueue`, SLACK_WEBHOOK_URL: `http://127.0.0.1:${port}/slack` },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
