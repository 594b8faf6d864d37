/**
 * `npm run simulate [-- --scenario scenarios/x.json ...] [--full] [--parallel N] [--out dir] [--summary]`
 * `npm run simulate -- --generate N [--seed S] [--stack K] [--parallel P] [--out dir]`: generated
 * worlds under the product, the naive policy and the oracle (sim/generated.ts).
 *
 * Runs each scenario as a closed loop against its own real stack (Temporal dev server,
 * MongoDB-wire server, worker, API) with the short profile, the baseline policy on the same
 * traffic, and writes sim/results/<scenario>.json and .svg (under full/ for --full runs). With no
 * --scenario it runs every scenarios/*.json. The default run is the compressed version of each
 * scenario; --full runs the scenario's own timeline. Prints a summary table at the end and
 * rewrites the summary from every report in the results folder: docs/results/simulation.md for
 * the default folder, <out>/summary.md otherwise. --summary only rewrites it, running nothing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ROOT } from '../scripts/local-servers';
import { BASELINE_POLICY, KNOBS, PROFILE_ENV } from './profile';
import { ScenarioReport, SummaryRow, missedLines, summaryMarkdown, summaryRow, summaryTable } from './report';
import { runScenario, scenarioFor } from './run-scenario';
import { stopAllStacks } from './stack';
import { GENERATED_OUT, runGenerated, writeGeneratedReport } from './generated';
import { distributionMarkdown } from './distribution';

interface Args {
  scenarios: string[];
  full: boolean;
  parallel: number;
  out: string;
  summaryOnly: boolean;
  /** Generated worlds: how many, the first seed, and on how many the product also runs on a real stack. */
  generate?: { count: number; seed: number; stack?: number };
}

const DEFAULT_OUT = join(ROOT, 'sim/results');

function parseArgs(argv: string[]): Args {
  const args: Args = { scenarios: [], full: false, parallel: 2, out: DEFAULT_OUT, summaryOnly: false };
  const whole = (flag: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: expected a whole number ≥ ${min}`);
    return n;
  };
  let out: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--scenario') args.scenarios.push(resolve(value()));
    else if (a === '--full') args.full = true;
    else if (a === '--parallel') {
      args.parallel = Number(value());
      if (!Number.isInteger(args.parallel) || args.parallel < 1) throw new Error('--parallel: expected a whole number ≥ 1');
    } else if (a === '--out') out = resolve(value());
    else if (a === '--generate') args.generate = { seed: 1, ...args.generate, count: whole(a, value(), 1) };
    else if (a === '--seed') args.generate = { count: 1, ...args.generate, seed: whole(a, value(), 0) };
    else if (a === '--stack') args.generate = { count: 1, seed: 1, ...args.generate, stack: whole(a, value(), 0) };
    else if (a === '--summary') args.summaryOnly = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run simulate -- [--scenario scenarios/x.json]... [--full] [--parallel N] [--out dir] [--summary]');
      console.log('       npm run simulate -- --generate N [--seed S] [--stack K] [--parallel P] [--out dir]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (args.generate && (args.scenarios.length || args.full || args.summaryOnly)) throw new Error('--generate runs generated worlds: it takes --seed, --stack, --parallel and --out, not --scenario, --full or --summary');
  args.out = out ?? (args.generate ? GENERATED_OUT : DEFAULT_OUT);
  if (args.scenarios.length === 0) {
    const dir = join(ROOT, 'scenarios');
    args.scenarios = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f));
  }
  return args;
}

/** Every report of one mode in the results folder, in scenario order. */
function reportsIn(dir: string): ScenarioReport[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ScenarioReport)
    .filter((r) => typeof r.scenario === 'string' && Array.isArray(r.judgements));
}

/** The summary of every report in `out` (both modes), as markdown: docs/results/simulation.md for the default folder. */
function writeSummary(out: string): void {
  const section = (title: string, reports: ScenarioReport[], m: 'short' | 'full') =>
    reports.length
      ? [
          `## ${title}`,
          '',
          summaryMarkdown(reports.map(summaryRow), m),
          ...reports.flatMap((r) => [...missedLines(r), ...r.notes.map((n) => `${r.scenario}: note: ${n}`)].map((l) => `- ${l}`)),
          '',
        ]
      : [];
  const markdown = [
    '# Simulation results',
    '',
    'Written by `npm run simulate` (default runs) and `npm run simulate -- --full`; do not edit. What they show: [notes](notes.md#simulation).',
    '',
    `Profile: ${Object.entries(PROFILE_ENV).map(([k, v]) => `\`${k}=${v}\``).join(' ')}; baseline policy: ${BASELINE_POLICY.threshold * 100}% over ${BASELINE_POLICY.windowSec} s (every failure counted, at least ${BASELINE_POLICY.minAttempts} attempts), disable the route for everyone, re-enable after ${BASELINE_POLICY.expirySec} s.`,
    '',
    ...section('Default (compressed) runs', reportsIn(out), 'short'),
    ...section('Full runs', reportsIn(join(out, 'full')), 'full'),
  ].join('\n');
  const file = out === DEFAULT_OUT ? join(ROOT, 'docs/results/simulation.md') : join(out, 'summary.md');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, markdown);
  console.log(`\nreports in ${out}, summary in ${file}`);
}

async function generated(args: Args & { generate: NonNullable<Args['generate']> }): Promise<void> {
  const o = { ...args.generate, stack: args.generate.stack ?? 0, parallel: args.parallel, out: args.out, log: (l: string) => console.log(l) };
  console.log(`generating ${o.count} world(s) from seed ${o.seed}`);
  const started = Date.now();
  const worlds = await runGenerated(o);
  console.log(`\n${worlds.length} worlds judged in ${((Date.now() - started) / 60000).toFixed(1)} min\n`);
  console.log(distributionMarkdown(worlds));
  console.log(`worlds in ${o.out}, report in ${writeGeneratedReport(worlds, o)}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.generate) return generated({ ...args, generate: args.generate });
  if (args.summaryOnly) return writeSummary(args.out);
  const mode = args.full ? 'full' : 'short';
  let interrupted = false;
  const interrupt = () => {
    if (interrupted) return;
    interrupted = true;
    console.error('\ninterrupted: stopping every stack...');
    void stopAllStacks().then(() => process.exit(130));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);

  console.log(`simulating ${args.scenarios.length} scenario(s), ${mode} runs, ${args.parallel} at a time`);
  console.log(`profile: ${Object.entries(PROFILE_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  for (const [k, v] of Object.entries(KNOBS)) console.log(`  knob ${k}=${v.value}: ${v.why}`);
  const started = Date.now();
  // Longest first, so the parallel runs end together.
  const length = (file: string) => {
    try {
      return scenarioFor(file, mode).durationSec;
    } catch {
      return 0;
    }
  };
  const queue = [...args.scenarios].sort((a, b) => length(b) - length(a));
  const done: ScenarioReport[] = [];
  const failed: string[] = [];
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined && !interrupted; file = queue.shift()) {
      const name = basename(file, '.json');
      const log = (line: string) => console.log(`[${name}] ${line}`);
      try {
        const report = await runScenario(file, { mode, resultsDir: args.out, log });
        log(`done in ${report.wallClockSec.toFixed(0)}s: ${report.met} targets met, ${report.missed} missed, ${report.notApplicable} not applicable`);
        done.push(report);
      } catch (err) {
        log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        failed.push(name);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(args.parallel, args.scenarios.length) }, worker));

  const order = new Map(args.scenarios.map((f, i) => [basename(f, '.json'), i]));
  const rows: SummaryRow[] = done.sort((a, b) => (order.get(a.scenario) ?? 0) - (order.get(b.scenario) ?? 0)).map(summaryRow);
  console.log(`\n${mode} runs finished in ${((Date.now() - started) / 60000).toFixed(1)} min (P = product, B = baseline)\n`);
  console.log(summaryTable(rows));
  for (const r of done) for (const line of missedLines(r)) console.log(`  ${line}`);
  if (failed.length) console.log(`\nfailed to run: ${failed.join(', ')}`);
  if (interrupted) return;

  writeSummary(args.out);
  process.exit(failed.length || interrupted ? 1 : 0);
}

main().catch(async (err) => {
  console.error(err instanceof Error ? err.message : err);
  await stopAllStacks();
  process.exit(1);
});
