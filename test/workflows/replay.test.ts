/**
 * Replays committed histories (test/histories, written by scripts/record-histories.ts) against
 * the current workflow code: a change that is not deterministic fails here, not in production.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { workflowBundle } from '../../worker/worker';

const dir = join(__dirname, '../histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.history.pb'));

test('there are committed histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(3);
});

test.each(files)('replays %s deterministically', async (file) => {
  const history = temporal.api.history.v1.History.decode(readFileSync(join(dir, file)));
  await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file)).resolves.toBeUndefined();
});
