/**
 * The flap guard's hold, on the time-skipping test server with in-memory activities: a downtime
 * that reopens one re-enabled shortly before re-enables only once its recovery has held for
 * DETECTION_WINDOW; a relapse during the hold starts it over; a first downtime is not held.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Config } from '../../common/config';
import { DowntimeInput, downtimeWorkflowId, stateQuery } from '../../common/definitions';
import { downtimeSearchAttributes } from '../../common/starter';
import { workflowBundle } from '../../worker/worker';
import type { downtimeWorkflow } from '../../workflows';
import { downtimeInput } from '../support/downtime-input';
import { FakeWorld, fakeActivities, fakeWorld } from '../support/fake-activities';
import { testConfig, timeSkippingEnvironment } from '../support/stack';

const MIN = 60_000;
let env: TestWorkflowEnvironment;
let config: Config;

beforeAll(async () => {
  env = await timeSkippingEnvironment();
  // The hold is DETECTION_WINDOW: 5 minutes here, ten probe looks.
  config = testConfig({ PROBE_INTERVAL: '30s', DOWNTIME_EXPIRY: '30m', DETECTION_WINDOW: '5m', MIN_PROBE_SAMPLES: '20' });
});

afterAll(async () => {
  await env?.teardown();
});

const RECOVERED = { successes: 40, failures: 0, inFreeze: false };
const FAILING = { successes: 0, failures: 12, inFreeze: false };

async function run(world: FakeWorld, name: string, over: Partial<DowntimeInput>, script: (h: { openedAt: number }) => Promise<void>) {
  const taskQueue = `${config.temporal.taskQueue}-${name}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: fakeActivities(world) });
  const running = worker.run();
  try {
    const openedAt = await env.currentTimeMs();
    const input = downtimeInput(config, { method: `netbanking:${name}` }, openedAt, over);
    const handle = await env.client.workflow.start<typeof downtimeWorkflow>('downtimeWorkflow', {
      taskQueue,
      workflowId: downtimeWorkflowId(input.scopeKey),
      args: [input],
      typedSearchAttributes: downtimeSearchAttributes(input),
    });
    const probing = async () => {
      for (let i = 0; i < 200; i++) {
        if ((await handle.query(stateQuery)).phase === 'probing') return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('never probing');
    };
    await probing();
    await script({ openedAt });
    return { handle, openedAt, result: await handle.result() };
  } finally {
    worker.shutdown();
    await running;
  }
}

test('a first downtime re-enables at the first proof of recovery', async () => {
  const world = fakeWorld();
  world.probe = RECOVERED;
  const { result, openedAt } = await run(world, 'first', {}, async () => undefined);
  expect(result.endReason).toBe('recovered');
  expect(result.resolvedAt - openedAt).toBeLessThan(2 * MIN);
});

test('a reopened downtime holds its recovery for the detection window before re-enabling', async () => {
  const world = fakeWorld();
  world.probe = RECOVERED;
  const { handle, result, openedAt } = await run(world, 'reopened', { reopensId: 'dt_previous' }, async () => {
    await env.sleep(3 * MIN);
  });
  expect(result.endReason).toBe('recovered');
  // First proof at the first look (30 s), then held 5 minutes.
  expect(result.resolvedAt - openedAt).toBeGreaterThanOrEqual(5 * MIN + 30_000);
  expect(result.resolvedAt - openedAt).toBeLessThan(7 * MIN);
  expect((await handle.describe()).status.name).toBe('COMPLETED');
});

test('a relapse during the hold starts it over', async () => {
  const world = fakeWorld();
  world.probe = RECOVERED;
  let relapsedUntil = 0;
  const { result } = await run(world, 'relapse', { reopensId: 'dt_previous' }, async () => {
    await env.sleep(3 * MIN);
    world.probe = FAILING;
    await env.sleep(MIN);
    world.probe = RECOVERED;
    relapsedUntil = await env.currentTimeMs();
  });
  expect(result.endReason).toBe('recovered');
  // Not at the end of the first hold (5.5 min), but a full hold after the relapse ended.
  expect(result.resolvedAt - relapsedUntil).toBeGreaterThanOrEqual(5 * MIN - 30_000);
  const verdicts = world.saved.map((s) => s.lastProbe?.verdict);
  expect(verdicts).toContain('failing');
});
