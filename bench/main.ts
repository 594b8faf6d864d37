/**
 * `npm run bench`: the benchmarks, each measured side by side with its baseline in the same
 * run so the ratio holds on a noisy machine. Starts its own Temporal dev server and
 * MongoDB-wire server on free ports and stops them at the end (and on Ctrl-C).
 *
 *   npm run bench                      short sizes, a few minutes on 2 cores
 *   npm run bench -- --full            the full sizes of the targets
 *   npm run bench -- --only ingest     one benchmark (payment-options, ingest, detection, actors, steady-state)
 *
 * Each prints one line; results land in bench/results/<name>.json and docs/results/benchmarks.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, ensureTools, startMongoWireServer, startTemporalDevServer } from '../scripts/local-servers';
import { BenchContext, BenchOutcome, describeMachine, freePort, stopAllChildren, writeResult, writeSummary } from './support';
import { paymentOptionsBench } from './payment-options';
import { ingestBench } from './ingest';
import { detectionBench } from './detection';
import { actorsBench } from './actors';
import { steadyBench } from './steady';

interface Bench {
  name: string;
  needsTemporal: boolean;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}

const BENCHES: Bench[] = [
  { name: 'payment-options', needsTemporal: true, run: paymentOptionsBench },
  { name: 'ingest', needsTemporal: true, run: ingestBench },
  { name: 'detection', needsTemporal: false, run: detectionBench },
  { name: 'actors', needsTemporal: true, run: actorsBench },
  { name: 'steady-state', needsTemporal: true, run: steadyBench },
];

function parseArgs(argv: string[]): { full: boolean; only?: string; keep: boolean } {
  let full = false;
  let only: string | undefined;
  let keep = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--full') full = true;
    else if (arg === '--keep') keep = true;
    else if (arg === '--only') only = argv[++i];
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length);
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: npm run bench [-- --full] [-- --only <payment-options|ingest|detection|actors|steady-state>] [--keep (keep logs)]');
      process.exit(0);
    } else {
      console.error(`unknown argument ${arg}`);
      process.exit(2);
    }
  }
  if (only !== undefined && !BENCHES.some((b) => b.name === only)) {
    console.error(`--only expects one of ${BENCHES.map((b) => b.name).join(', ')}, got ${only ?? 'nothing'}`);
    process.exit(2);
  }
  return { full, only, keep };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const selected = BENCHES.filter((b) => !args.only || b.name === args.only);
  const started = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'bench-'));
  const servers: RunningServer[] = [];
  let stopping = false;
  const teardown = async (keepLogs: boolean) => {
    await stopAllChildren();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    if (keepLogs) console.log(`logs kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  };
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping...');
    void teardown(true).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const machine: Record<string, unknown> = { ...describeMachine(args.full) };
  console.log(`bench (${args.full ? 'full' : 'short'}): ${String(machine.cpuModel)}, ${String(machine.cores)} cores, ${String(machine.memoryGiB)} GiB, Node ${process.version}; scratch ${workDir}`);
  let failed = false;
  try {
    ensureTools();
    const needsTemporal = selected.some((b) => b.needsTemporal);
    const [mongo, temporal] = await Promise.all([
      freePort().then((port) => startMongoWireServer({ port, dataDir: join(workDir, 'mongo'), logFile: join(workDir, 'logs/mongo.log') })),
      needsTemporal ? freePort().then((port) => startTemporalDevServer({ port, logFile: join(workDir, 'logs/temporal.log') })) : undefined,
    ]);
    servers.push(mongo);
    if (temporal) servers.push(temporal);
    console.log(`servers: ${mongo.name} ${mongo.address}${temporal ? `, temporal ${temporal.address}` : ''}`);
    const ctx: BenchContext = {
      full: args.full,
      mongoUri: mongo.address,
      temporalAddress: temporal?.address,
      workDir,
      pids: { mongo: mongo.process.pid, temporal: temporal?.process.pid },
      log: (line) => console.log(`  ${line}`),
    };
    for (const bench of selected) {
      if (stopping) break;
      const t0 = Date.now();
      console.log(`\n[${bench.name}]`);
      try {
        const outcome = await bench.run(ctx);
        const wall = (Date.now() - t0) / 1000;
        writeResult(outcome, { ...machine, date: new Date(t0).toISOString() }, wall);
        console.log(`${outcome.line}   (${wall.toFixed(0)} s)`);
      } catch (err) {
        failed = true;
        const message = err instanceof Error ? err.message : String(err);
        console.error(`${bench.name} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
        await stopAllChildren();
        // A failed benchmark still gets its row, so the summary never shows an old figure as current.
        writeResult(
          { name: bench.name, line: `${bench.name} FAILED: ${message}`, summary: { figure: `failed: ${message.slice(0, 160).replace(/\|/g, '/')}`, baseline: '-', ratio: '-', target: '-', met: false }, details: { error: message } },
          { ...machine, date: new Date(t0).toISOString() },
          (Date.now() - t0) / 1000,
        );
      }
    }
    if (!stopping) {
      console.log(`\ndocs/results/benchmarks.md:\n${writeSummary()}`);
      console.log(`total wall time ${((Date.now() - started) / 1000).toFixed(0)} s (${args.full ? 'full' : 'short'})`);
    }
  } catch (err) {
    failed = true;
    console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  }
  if (stopping) return;
  await teardown(failed || args.keep);
  process.exit(failed ? 1 : 0);
}

void main();
