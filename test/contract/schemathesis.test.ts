/**
 * The API's contract, proven by an outside fuzzer: Schemathesis (pinned, in the tools cache) reads
 * the real stack's /docs/json and runs every phase with every check — examples, coverage,
 * fuzzing, and the stateful phase over the document's links — with a key holding every role.
 * A failure prints Schemathesis' own report and the seed: `CONTRACT_SEED=<seed> npm run test:contract`
 * replays it. The webhook dispatcher is not started here, so no fuzzed subscriber URL is ever called.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSchemathesis, ROOT } from '../../scripts/local-servers';
import { listen } from '../e2e/support';
import { ApiStack, startApiStack } from '../support/api-stack';

const KEY = 'contract-key-every-role-000000001';
const SEED = process.env.CONTRACT_SEED ?? '20261206';
const REPORTS = join(ROOT, 'test-results', 'schemathesis');

let stack: ApiStack;
let url: string;

beforeAll(async () => {
  stack = await startApiStack({ worker: true, env: { API_KEYS: `${KEY}=admin+operator+ingest+checkout`, DOWNTIME_EXPIRY: '10m' } });
  url = await listen(stack.app);
}, 120_000);
afterAll(async () => stack?.close());

/** Runs a command without blocking this process's event loop (the API under test lives in it). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('Schemathesis finds no failure and no error in any phase, stateful included', async () => {
  const schemathesis = ensureSchemathesis();
  rmSync(REPORTS, { recursive: true, force: true });
  mkdirSync(REPORTS, { recursive: true });
  const { code, output } = await run(
    schemathesis,
    [
      '--config-file', join(__dirname, 'schemathesis.toml'),
      'run', `${url}/docs/json`,
      '--checks', 'all',
      '--header', `Authorization: Bearer ${KEY}`,
      '--seed', SEED,
      '--report', 'junit', '--report-dir', REPORTS,
      '--request-timeout', '30',
    ],
    { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' },
  );
  writeFileSync(join(REPORTS, 'output.txt'), output);
  const summary = output.slice(output.lastIndexOf('SUMMARY'));
  const stateful = /Stateful \(in[^\n]*\n\s*\n\s*(Scenarios:[^\n]*)\n\s*(API Links:[^\n]*)/.exec(output);
  console.log(`Schemathesis (seed ${SEED}; replay with CONTRACT_SEED=${SEED} npm run test:contract):\n${stateful ? `Stateful: ${stateful[1]}; ${stateful[2]}\n` : ''}${summary}`);

  // The run's own verdict, then what it ran: every operation, every phase, the stateful phase walking links.
  expect({ code, failures: output.includes('FAILURES') ? output.slice(output.indexOf('FAILURES'), output.indexOf('FAILURES') + 4000) : '' }).toEqual({ code: 0, failures: '' });
  const tested = /Tested: (\d+)/.exec(summary);
  const selected = /Selected: (\d+)\/(\d+)/.exec(summary);
  expect(Number(tested?.[1])).toBeGreaterThan(0);
  expect(Number(tested?.[1])).toBe(Number(selected?.[2]));
  for (const phase of ['Examples', 'Coverage', 'Fuzzing', 'Stateful']) expect(summary).toMatch(new RegExp(`✅ ${phase}`));
  const links = /API Links:\s+(\d+) covered/.exec(output);
  expect(Number(links?.[1])).toBeGreaterThan(0);
  const junit = readdirSync(REPORTS).filter((f) => f.endsWith('.xml')).map((f) => readFileSync(join(REPORTS, f), 'utf8')).join('');
  expect(junit).not.toMatch(/<failure|<error/);
}, 900_000);
