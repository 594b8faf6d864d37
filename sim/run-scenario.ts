/**
 * One scenario end to end: its own stack, the catalog through the API, healthy history, freeze
 * windows, the closed loop, then the baseline on the same checkouts, the report and the plot.
 */
import { spawnSync } from 'node:child_process';
import { ROOT } from '../scripts/local-servers';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../common/config';
import { downtimePolicy } from '../common/policy';
import { runBaseline } from './baseline';
import { LoopResult, runClosedLoop } from './closed-loop';
import { ApiClient } from './http';
import { measurePolicy, probeSufficiency } from './metrics';
import { BASELINE_POLICY, PROFILE_ENV, ProfileNumbers } from './profile';
import { ScenarioReport, buildReport } from './report';
import { Scenario, compressScenario, loadScenario } from './scenario';
import { Stack, startStack } from './stack';
import { timelineSvg } from './svg';
import { hashUniform } from './random';
import { Checkout, World, buildWorld, checkoutStream, outcomeOf, preferences, userId } from './truth';

export function profileNumbers(env: Record<string, string> = PROFILE_ENV): ProfileNumbers {
  const config = loadConfig(env);
  const policy = downtimePolicy(config);
  return {
    detectionIntervalSec: config.detection.intervalMs / 1000,
    detectionWindowSec: config.detection.windowMs / 1000,
    probeIntervalSec: config.probe.intervalMs / 1000,
    expirySec: config.downtime.expiryMs / 1000,
    probePercent: config.probe.percent,
    minProbeSamples: config.probe.minSamples,
    degradation: config.detection.degradation,
    alpha: policy.alpha,
    beta: policy.beta,
  };
}

export function scenarioFor(file: string, mode: 'short' | 'full'): Scenario {
  const full = loadScenario(file);
  return mode === 'full' ? full : compressScenario(full);
}

/**
 * The healthy history before time 0 that both policies start from: backfillSec seconds at the
 * scenario's rate (the baseline policy's window reads all of it).
 */
export function historyOf(scenario: Scenario): Checkout[] {
  const seconds = scenario.backfillSec ?? 60;
  if (seconds <= 0) return [];
  return checkoutStream(scenario, preferences(scenario), -seconds, 0, scenario.checkoutsPerSec, 'history');
}

/**
 * What of the history is posted to the product: all of the last detection window (so its
 * window starts as full as the baseline's), and backfillRate of what came before, which only
 * feeds each scope's learned baseline.
 */
export function postedHistory(scenario: Scenario, history: readonly Checkout[], detectionWindowSec: number): Checkout[] {
  const rate = scenario.backfillRate ?? 0.3;
  return history.filter((c) => c.t >= -detectionWindowSec || hashUniform(`${scenario.seed}|backfill|${c.index}`) < rate);
}

/** Rough ingest speed of history on the local MongoDB-wire server, to end the history at the run's start. */
const BACKFILL_TX_PER_SEC = 200;

/**
 * Posts the history with `at` in the past so each scope's baseline is there from the start, and
 * returns the wall-clock time the history ends at, which becomes time 0 of the run (a little in
 * the future while posting, so the live traffic follows the history without a gap).
 */
async function backfill(world: World, history: readonly Checkout[], api: ApiClient, stack: Stack, log: (l: string) => void): Promise<number> {
  const startedAt = Date.now();
  const end = startedAt + 1000 + (1000 * history.length) / BACKFILL_TX_PER_SEC;
  const txs = history.map((c) => {
    const route = world.methodRoutes[c.preferred]![0]!;
    const outcome = outcomeOf(world, route.index, c);
    return {
      id: `bf-${c.index}`,
      userId: userId(c.user),
      method: route.method,
      gateway: route.gateway,
      status: outcome.status,
      ...(outcome.errorCode ? { errorCode: outcome.errorCode } : {}),
      at: new Date(end + c.t * 1000).toISOString(),
    };
  });
  // Small batches in time order: each touches few counter documents.
  for (let i = 0; i < txs.length; i += 250) {
    const res = await api.call<{ accepted: number }>('POST', '/v1/transactions', stack.keys.ingest, { transactions: txs.slice(i, i + 250) }, 120_000);
    if (res.status !== 202) throw new Error(`backfill: POST /v1/transactions → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  log(`backfilled ${txs.length} transactions of history in ${((Date.now() - startedAt) / 1000).toFixed(1)}s${Date.now() > end ? ` (${((Date.now() - end) / 1000).toFixed(1)}s late: a gap before the run)` : ''}`);
  return Math.max(end, Date.now() + 500);
}

export interface RunOptions {
  mode: 'short' | 'full';
  resultsDir: string;
  log: (line: string) => void;
}

/** The product's closed loop over one scenario on a stack of its own, and what it was run on. */
export interface ProductRun {
  world: World;
  checkouts: Checkout[];
  history: Checkout[];
  loop: LoopResult;
}

/** Starts the scenario's stack, gives it the catalog, history and freeze windows, runs the closed loop, and stops the stack. */
export async function runProduct(scenario: Scenario, mode: RunOptions['mode'], log: RunOptions['log']): Promise<ProductRun> {
  const o = { mode, log };
  const world = buildWorld(scenario);
  const prefs = preferences(scenario);
  const checkouts = checkoutStream(scenario, prefs, 0, scenario.durationSec, scenario.checkoutsPerSec, 'live');
  const profile = profileNumbers();
  const history = historyOf(scenario);
  o.log(`${o.mode} run: ${scenario.durationSec.toFixed(0)}s, ${checkouts.length} checkouts, outages ${scenario.outages.map((x) => `${x.startSec.toFixed(0)}–${x.endSec.toFixed(0)}s`).join(', ') || 'none'}`);

  const stack = await startStack(scenario.name, PROFILE_ENV, o.log);
  const api = new ApiClient(stack.apiBase);
  let loop: LoopResult;
  try {
    const catalog = await api.put('/v1/catalog', stack.keys.admin, {
      methods: scenario.catalog.map((e) => ({
        method: e.method,
        gateways: e.gateways,
        ...(e.priority !== undefined ? { priority: e.priority } : {}),
        ...(e.attributes ? { attributes: e.attributes } : {}),
      })),
      ...(scenario.gateways ? { gateways: scenario.gateways } : {}),
    });
    if (catalog.status !== 200) throw new Error(`PUT /v1/catalog → ${catalog.status} ${JSON.stringify(catalog.body)}`);
    const t0 = await backfill(world, postedHistory(scenario, history, profile.detectionWindowSec), api, stack, o.log);
    for (const f of scenario.freezeWindows ?? []) {
      const res = await api.post('/v1/freeze-windows', stack.keys.operator, {
        name: f.name ?? `${scenario.name} freeze`,
        startsAt: new Date(t0 + f.startSec * 1000).toISOString(),
        endsAt: new Date(t0 + f.endSec * 1000).toISOString(),
        reason: 'simulated peak',
      });
      if (res.status !== 201) throw new Error(`POST /v1/freeze-windows → ${res.status} ${JSON.stringify(res.body)}`);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, t0 - Date.now())));
    o.log('closed loop started');
    loop = await runClosedLoop({ world, api, keys: stack.keys, checkouts, durationSec: scenario.durationSec, t0, log: o.log });
  } finally {
    api.close();
    if (process.env.SIM_HISTORIES) {
      const dir = join(resolve(process.env.SIM_HISTORIES), scenario.name);
      const n = await stack.saveHistories(dir).catch((err: Error) => (o.log(`histories not saved: ${err.message}`), 0));
      o.log(`${n} workflow histories written to ${dir}`);
    }
    await stack.stop();
  }
  return { world, checkouts, history, loop };
}

export async function runScenario(file: string, o: RunOptions): Promise<ScenarioReport> {
  const started = Date.now();
  const scenario = scenarioFor(file, o.mode);
  const { world, checkouts, history, loop } = await runProduct(scenario, o.mode, o.log);
  const profile = profileNumbers();
  const backfillSec = scenario.backfillSec ?? 60;
  const baseline = runBaseline(world, checkouts, scenario.durationSec, BASELINE_POLICY, history);
  const measure = { durationSec: scenario.durationSec, detectionWindowSec: profile.detectionWindowSec };
  const product = measurePolicy(world, checkouts, loop.run, measure);
  const base = measurePolicy(world, checkouts, baseline, measure);
  let nhSuccesses = 0;
  let nhAttempts = 0;
  for (const c of checkouts) {
    if (c.t >= scenario.durationSec) continue;
    nhAttempts += 1;
    if (outcomeOf(world, world.methodRoutes[c.preferred]![0]!.index, c).status === 'success') nhSuccesses += 1;
  }
  const inFreeze = scenario.outages.map((x) => (scenario.freezeWindows ?? []).some((f) => x.endSec >= f.startSec && x.endSec < f.endSec));
  const probe = scenario.outages.map((_, k) =>
    probeSufficiency(world, k, {
      probeIntervalSec: profile.probeIntervalSec,
      probePercent: profile.probePercent,
      minProbeSamples: profile.minProbeSamples,
      degradation: profile.degradation,
      alpha: profile.alpha,
      beta: profile.beta,
      inFreeze: inFreeze[k]!,
    }),
  );
  const notes: string[] = [];
  if (loop.health.lagMs.p99 > 1000) {
    notes.push(`the simulator fell behind its schedule (p99 lag ${loop.health.lagMs.p99} ms): the machine was overloaded and delays include that`);
  }
  if (loop.health.loadAverage.max > 4) {
    notes.push(`the machine was shared and loaded (1-minute load average ${loop.health.loadAverage.mean.toFixed(1)} on average, ${loop.health.loadAverage.max.toFixed(1)} at most, on 2 cores): product timings include that`);
  }
  if (loop.health.httpErrors > 0) notes.push(`${loop.health.httpErrors} HTTP errors, first: ${loop.health.firstError}`);
  const report = buildReport({
    scenario,
    mode: o.mode,
    wallClockSec: (Date.now() - started) / 1000,
    backfillSec,
    profile,
    product,
    baseline: base,
    noHandling: { attempts: nhAttempts, successes: nhSuccesses },
    probe,
    inFreeze,
    health: loop.health,
    probeTrace: loop.probes,
    notes,
  });
  report.commit = codeVersion();
  const dir = o.mode === 'full' ? join(o.resultsDir, 'full') : o.resultsDir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${scenario.name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(
    join(dir, `${scenario.name}.svg`),
    timelineSvg({ title: `${scenario.name} (${o.mode} run): ${scenario.description ?? ''}`, world, checkouts, product: loop.run, baseline, durationSec: scenario.durationSec }),
  );
  return report;
}

/** The commit the run's code is at (short, "+dirty" with uncommitted changes), so a results table says what it measured. */
function codeVersion(): string {
  const git = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git(['rev-parse', '--short', 'HEAD']);
  return commit ? `${commit}${git(['status', '--porcelain', '--untracked-files=no']) ? '+dirty' : ''}` : 'unknown';
}
