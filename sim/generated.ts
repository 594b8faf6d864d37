/**
 * `npm run simulate -- --generate N [--seed S] [--product K] [--parallel P]`: N generated worlds
 * (sim/generate.ts), each judged under three policies on the same checkouts: the naive policy
 * (the simulator's baseline) and the oracle (sim/oracle.ts), both computed in-process, and the
 * product on a real stack of its own (the closed loop of the named scenarios), for the first K
 * worlds (all by default; each takes its own length in wall time plus the stack's start, so K
 * bounds the run). Writes each world's figures and scenario to sim/results/generated/, the
 * distribution tables to docs/results/generated.md and the box plots beside them.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../common/config';
import { ROOT } from '../scripts/local-servers';
import { runBaseline } from './baseline';
import { WorldResult, distributionMarkdown, distributionSvg, worstWorlds } from './distribution';
import { generateScenario } from './generate';
import { measurePolicy } from './metrics';
import { runOracle } from './oracle';
import { BASELINE_POLICY, PROFILE_ENV } from './profile';
import { historyOf, profileNumbers, runProduct } from './run-scenario';
import type { Scenario } from './scenario';
import { buildWorld, checkoutStream, preferences } from './truth';

export const GENERATED_OUT = join(ROOT, 'sim/results/generated');

export interface GeneratedOptions {
  count: number;
  seed: number;
  /** How many of the worlds (the first ones) the product runs on. */
  product: number;
  parallel: number;
  out: string;
  log: (line: string) => void;
}

/** The naive policy's and the oracle's figures over the world's checkouts (and the product's, given its run). */
function judgeWorld(scenario: Scenario, product?: Awaited<ReturnType<typeof runProduct>>): WorldResult {
  const world = product?.world ?? buildWorld(scenario);
  const checkouts = product?.checkouts ?? checkoutStream(scenario, preferences(scenario), 0, scenario.durationSec, scenario.checkoutsPerSec, 'live');
  const history = product?.history ?? historyOf(scenario);
  const measure = { durationSec: scenario.durationSec, detectionWindowSec: profileNumbers().detectionWindowSec };
  const bucketSec = loadConfig(PROFILE_ENV).detection.counterBucketMs / 1000;
  return {
    seed: scenario.seed,
    name: scenario.name,
    description: scenario.description ?? '',
    shapes: scenario.outages.map((o) => o.label ?? 'outage'),
    policies: {
      naive: measurePolicy(world, checkouts, runBaseline(world, checkouts, scenario.durationSec, BASELINE_POLICY, history), measure),
      oracle: measurePolicy(world, checkouts, runOracle(world, checkouts, bucketSec), measure),
      ...(product ? { product: measurePolicy(world, checkouts, product.loop.run, measure) } : {}),
    },
  };
}

export async function runGenerated(o: GeneratedOptions): Promise<WorldResult[]> {
  mkdirSync(o.out, { recursive: true });
  for (const f of readdirSync(o.out)) if (/^world-\d+(\.scenario)?\.json$/.test(f)) rmSync(join(o.out, f));
  const scenarios = Array.from({ length: o.count }, (_, i) => generateScenario(o.seed + i));
  const withProduct = Math.min(o.product, o.count);
  if (withProduct > 0) {
    const wallSec = scenarios.slice(0, withProduct).reduce((n, s) => n + s.durationSec + 40, 0) / Math.max(1, o.parallel);
    o.log(`the product runs on ${withProduct} of ${o.count} worlds, ${o.parallel} at a time: about ${(wallSec / 60).toFixed(0)} min`);
  }
  const results = new Array<WorldResult | undefined>(o.count);
  const save = (i: number, r: WorldResult) => {
    results[i] = r;
    writeFileSync(join(o.out, `world-${r.seed}.json`), `${JSON.stringify(r)}\n`);
    writeFileSync(join(o.out, `world-${r.seed}.scenario.json`), `${JSON.stringify(scenarios[i], null, 2)}\n`);
  };
  for (let i = withProduct; i < o.count; i += 1) save(i, judgeWorld(scenarios[i]!));
  const queue = Array.from({ length: withProduct }, (_, i) => i);
  const failed: number[] = [];
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const s = scenarios[i]!;
      const log = (line: string) => o.log(`[${s.name}] ${line}`);
      try {
        save(i, judgeWorld(s, await runProduct(s, 'short', log)));
      } catch (err) {
        log(`FAILED: ${err instanceof Error ? err.message : String(err)}; judged without the product`);
        failed.push(s.seed);
        save(i, judgeWorld(s));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel, withProduct)) }, worker));
  if (failed.length) o.log(`the product failed to run on worlds ${failed.join(', ')}`);
  return results.filter((r): r is WorldResult => r !== undefined);
}

/** The report's markdown: what was run, the distribution tables, the worst worlds. */
export function generatedMarkdown(worlds: readonly WorldResult[], o: Pick<GeneratedOptions, 'count' | 'seed' | 'product'>): string {
  const worst = worstWorlds(worlds);
  return [
    '# Generated worlds',
    '',
    `Written by \`npm run simulate -- --generate ${o.count} --seed ${o.seed}${o.product < o.count ? ` --product ${o.product}` : ''}\`; do not edit. Worlds: sim/generate.ts; the oracle: sim/oracle.ts; the naive policy: the simulator's baseline (${BASELINE_POLICY.threshold * 100}% over ${BASELINE_POLICY.windowSec} s, disable the route for everyone, re-enable after ${BASELINE_POLICY.expirySec} s).`,
    '',
    `Profile: ${Object.entries(PROFILE_ENV).map(([k, v]) => `\`${k}=${v}\``).join(' ')}.`,
    '',
    distributionMarkdown(worlds),
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
export function writeGeneratedReport(worlds: readonly WorldResult[], o: Pick<GeneratedOptions, 'count' | 'seed' | 'product' | 'out'>): string {
  const dir = o.out === GENERATED_OUT ? join(ROOT, 'docs/results') : o.out;
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'generated.md'), generatedMarkdown(worlds, o));
  writeFileSync(join(dir, 'generated.svg'), distributionSvg(worlds));
  return join(dir, 'generated.md');
}
