/**
 * `npm run simulate -- --generate N [--seed S] [--stack K] [--parallel P]`: N generated worlds
 * (sim/generate.ts), each judged on the same checkouts under the product's decisions in-process
 * (sim/model.ts), the naive policy (the simulator's baseline) and the oracle (sim/oracle.ts);
 * and, for the first K worlds (none by default), under the product on a real stack of its own
 * (the closed loop of the named scenarios), which checks the in-process product against the real
 * one. A stack run takes its world's length in wall time plus the stack's start, so K bounds
 * the run. Writes each world's figures and scenario to sim/results/generated/, the distribution
 * tables to docs/results/generated.md and the box plots beside them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../common/config';
import { ROOT } from '../scripts/local-servers';
import { runBaseline } from './baseline';
import { WorldResult, distributionMarkdown, distributionSvg, lossesMarkdown, worstWorlds } from './distribution';
import { generateScenario } from './generate';
import { measurePolicy } from './metrics';
import { runOracle } from './oracle';
import { BASELINE_POLICY, PROFILE_ENV } from './profile';
import { runProductModel } from './model';
import { historyOf, postedHistory, profileNumbers, runProduct } from './run-scenario';
import type { Scenario } from './scenario';
import { buildWorld, checkoutStream, preferences } from './truth';

export const GENERATED_OUT = join(ROOT, 'sim/results/generated');

export interface GeneratedOptions {
  count: number;
  seed: number;
  /** How many of the worlds (the first ones) the product also runs on a real stack. */
  stack: number;
  parallel: number;
  out: string;
  log: (line: string) => void;
}

/** The world's figures under the in-process product, the naive policy and the oracle (and the real stack's, given its run). */
export function judgeWorld(scenario: Scenario, stack?: Awaited<ReturnType<typeof runProduct>>): WorldResult {
  const world = stack?.world ?? buildWorld(scenario);
  const checkouts = stack?.checkouts ?? checkoutStream(scenario, preferences(scenario), 0, scenario.durationSec, scenario.checkoutsPerSec, 'live');
  const history = stack?.history ?? historyOf(scenario);
  const { detectionWindowSec } = profileNumbers();
  const measure = { durationSec: scenario.durationSec, detectionWindowSec };
  const bucketSec = loadConfig(PROFILE_ENV).detection.counterBucketMs / 1000;
  return {
    seed: scenario.seed,
    name: scenario.name,
    description: scenario.description ?? '',
    shapes: scenario.outages.map((o) => o.label ?? 'outage'),
    policies: {
      product: measurePolicy(world, checkouts, runProductModel(world, checkouts, scenario.durationSec, postedHistory(scenario, history, detectionWindowSec)), measure),
      naive: measurePolicy(world, checkouts, runBaseline(world, checkouts, scenario.durationSec, BASELINE_POLICY, history), measure),
      oracle: measurePolicy(world, checkouts, runOracle(world, checkouts, bucketSec), measure),
      ...(stack ? { stack: measurePolicy(world, checkouts, stack.loop.run, measure) } : {}),
    },
  };
}

/** Writes a world's figures and its scenario (to replay it) into `out`. */
export function saveWorld(out: string, scenario: Scenario, r: WorldResult): void {
  writeFileSync(join(out, `world-${r.seed}.json`), `${JSON.stringify(r)}\n`);
  writeFileSync(join(out, `world-${r.seed}.scenario.json`), `${JSON.stringify(scenario, null, 2)}\n`);
}

/** Judges the worlds of seeds [first, first + count) in `parallel` child processes (sim/judge-worker.ts), each writing its worlds into `out`. */
function judgeInProcesses(out: string, first: number, count: number, parallel: number): Promise<void> {
  const n = Math.max(1, Math.min(parallel, count));
  const children = Array.from({ length: n }, (_, k) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [...process.execArgv, join(__dirname, 'judge-worker.ts'), out, String(first + k), String(first + count - 1), String(n)], { stdio: 'inherit' });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`judging worlds from seed ${first + k} every ${n}: exit ${code}`))));
    }),
  );
  return Promise.all(children).then(() => undefined);
}

export async function runGenerated(o: GeneratedOptions): Promise<WorldResult[]> {
  mkdirSync(o.out, { recursive: true });
  for (const f of readdirSync(o.out)) if (/^world-\d+(\.scenario)?\.json$/.test(f)) rmSync(join(o.out, f));
  const scenarios = Array.from({ length: o.count }, (_, i) => generateScenario(o.seed + i));
  const onStack = Math.min(o.stack, o.count);
  if (onStack > 0) {
    const wallSec = scenarios.slice(0, onStack).reduce((n, s) => n + s.durationSec + 40, 0) / Math.max(1, o.parallel);
    o.log(`the product runs on a real stack for ${onStack} of ${o.count} worlds, ${o.parallel} at a time: about ${(wallSec / 60).toFixed(0)} min`);
  }
  const results = new Array<WorldResult | undefined>(o.count);
  const save = (i: number, r: WorldResult) => {
    results[i] = r;
    saveWorld(o.out, scenarios[i]!, r);
  };
  const rest = o.count - onStack;
  if (rest > 0) {
    const started = Date.now();
    await judgeInProcesses(o.out, o.seed + onStack, rest, o.parallel);
    for (let i = onStack; i < o.count; i += 1) results[i] = JSON.parse(readFileSync(join(o.out, `world-${o.seed + i}.json`), 'utf8')) as WorldResult;
    o.log(`${rest} worlds judged in-process in ${((Date.now() - started) / 1000).toFixed(0)} s, ${Math.max(1, Math.min(o.parallel, rest))} at a time`);
  }
  const queue = Array.from({ length: onStack }, (_, i) => i);
  const failed: number[] = [];
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const s = scenarios[i]!;
      const log = (line: string) => o.log(`[${s.name}] ${line}`);
      try {
        save(i, judgeWorld(s, await runProduct(s, 'short', log)));
      } catch (err) {
        log(`FAILED: ${err instanceof Error ? err.message : String(err)}; judged without the stack`);
        failed.push(s.seed);
        save(i, judgeWorld(s));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel, onStack)) }, worker));
  if (failed.length) o.log(`the stack failed to run worlds ${failed.join(', ')}`);
  return results.filter((r): r is WorldResult => r !== undefined);
}

/** The report's markdown: what was run, the distribution tables, the worst worlds. */
export function generatedMarkdown(worlds: readonly WorldResult[], o: Pick<GeneratedOptions, 'count' | 'seed' | 'stack'>): string {
  const worst = worstWorlds(worlds);
  return [
    '# Generated worlds',
    '',
    `Written by \`npm run simulate -- --generate ${o.count} --seed ${o.seed}${o.stack > 0 ? ` --stack ${o.stack}` : ''}\`; do not edit. Worlds: sim/generate.ts; the oracle: sim/oracle.ts; the naive policy: the simulator's baseline (${BASELINE_POLICY.threshold * 100}% over ${BASELINE_POLICY.windowSec} s, disable the route for everyone, re-enable after ${BASELINE_POLICY.expirySec} s).`,
    '',
    `Profile: ${Object.entries(PROFILE_ENV).map(([k, v]) => `\`${k}=${v}\``).join(' ')}.`,
    '',
    distributionMarkdown(worlds),
    '## Where the failures and the collateral go',
    '',
    'Summed over the worlds. Failed attempts through failing routes during the outages, as a share of those with no handling at all: before the first downtime covering the outage, by bucket-B probe users after it, and otherwise after it (through a route no downtime covered). Healthy checkouts whose method was hidden, as a share of all healthy checkouts: while another route of the method was failing (hidden where it could have been routed around), after an outage on its routes had ended (the re-enable still to come, or a later downtime), and before any outage on its routes.',
    '',
    lossesMarkdown(worlds),
    '',
    '## Worst worlds',
    '',
    'By failures avoided short of the oracle (the largest gap over the world\'s outages), then collateral. Replay one with `npm run simulate -- --generate 1 --seed <seed>`; its scenario file is `sim/results/generated/world-<seed>.scenario.json`.',
    '',
    '| seed | policy | short of the oracle | collateral | world |',
    '|---|---|---|---|---|',
    ...worst.map((w) => `| ${w.seed} | ${w.policy} | ${w.shortOfOracle.toFixed(1)} points | ${w.collateralPct.toFixed(2)}% | ${w.description} |`),
    '',
    '![distributions](generated.svg)',
    '',
  ].join('\n');
}

/** Writes the report (docs/results/ for the default folder, else beside the worlds) and returns its path. */
export function writeGeneratedReport(worlds: readonly WorldResult[], o: Pick<GeneratedOptions, 'count' | 'seed' | 'stack' | 'out'>): string {
  const dir = o.out === GENERATED_OUT ? join(ROOT, 'docs/results') : o.out;
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'generated.md'), generatedMarkdown(worlds, o));
  writeFileSync(join(dir, 'generated.svg'), distributionSvg(worlds));
  return join(dir, 'generated.md');
}
