/**
 * The actor over long stretches and across worker restarts, on the time-skipping test server
 * with in-memory activities (the point here is the workflow's history and state).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowExecutionStatusName } from '@temporalio/client';
import type { Config } from '../../common/config';
import { DowntimeInput, acknowledgeUpdate, downtimeWorkflowId, extendUpdate, resolveUpdate, stateQuery } from '../../common/definitions';
import { downtimeSearchAttributes } from '../../common/starter';
import { workflowBundle } from '../../worker/worker';
import type { downtimeWorkflow } from '../../workflows';
import { downtimeInput } from '../support/downtime-input';
import { FakeWorld, fakeActivities, fakeWorld } from '../support/fake-activities';
import { testConfig, timeSkippingEnvironment } from '../support/stack';

const HOUR = 3_600_000;

/** The start step, which records the downtime already disabled. */
const recorded = (c: { name: string }) => c.name === 'openDowntime';

let env: TestWorkflowEnvironment;
let config: Config;

beforeAll(async () => {
  env = await timeSkippingEnvironment();
  config = testConfig({ PROBE_INTERVAL: '2m', DOWNTIME_EXPIRY: '30m', REPAGE_INTERVAL: '30m' });
});

afterAll(async () => {
  await env?.teardown();
});

async function newWorker(world: FakeWorld, taskQueue: string, sticky = true): Promise<{ worker: Worker; running: Promise<void> }> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    // Without a workflow cache nothing is sticky to this worker: its replacement gets every task.
    ...(sticky ? {} : { maxCachedWorkflows: 0 }),
    workflowBundle: await workflowBundle(),
    activities: fakeActivities(world),
  });
  return { worker, running: worker.run() };
}

/** Starts the downtime's actor as the API and detection do. */
function startDowntime(taskQueue: string, input: DowntimeInput) {
  return env.client.workflow.start<typeof downtimeWorkflow>('downtimeWorkflow', {
    taskQueue,
    workflowId: downtimeWorkflowId(input.scopeKey),
    args: [input],
    typedSearchAttributes: downtimeSearchAttributes(input),
  });
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('a 24-hour downtime continues as new, keeps every run under 2,000 history events and carries its state', async () => {
  const world = fakeWorld();
  const taskQueue = `${config.temporal.taskQueue}-long`;
  const { worker, running } = await newWorker(world, taskQueue);
  try {
    const now = await env.currentTimeMs();
    const input = downtimeInput(config, { gateway: 'payu' }, now);
    const handle = await startDowntime(taskQueue, input);
    await until(async () => (await handle.query(stateQuery)).phase === 'probing', 'probing');
    await handle.executeUpdate(acknowledgeUpdate, { args: [{ by: 'ivan', note: 'payu says 24h maintenance' }] });
    await handle.executeUpdate(extendUpdate, { args: [{ by: 'ivan', until: now + 25 * HOUR }] });

    await env.sleep(24 * HOUR);

    const view = await handle.query(stateQuery);
    expect(view).toMatchObject({ status: 'open', downtimeId: input.downtimeId, acknowledgement: { by: 'ivan' }, extendedUntil: now + 25 * HOUR });
    const first = env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
    expect((await first.describe()).status.name).toBe<WorkflowExecutionStatusName>('CONTINUED_AS_NEW');
    const firstHistory = await first.fetchHistory();
    expect(firstHistory.events!.length).toBeLessThan(2_000);
    const current = await handle.describe();
    expect(current.runId).not.toBe(handle.firstExecutionRunId);
    expect((await handle.fetchHistory()).events!.length).toBeLessThan(2_000);
    // The downtime was recorded and announced once, however many runs it took.
    expect(world.calls.filter(recorded)).toHaveLength(1);
    expect(world.duplicateNotifications).toBe(0);

    await handle.executeUpdate(resolveUpdate, { args: [{ by: 'ivan' }] });
    const result = await handle.result();
    expect(result.endReason).toBe('manual');
    expect(world.calls.filter((c) => c.name === 'closeDowntime')).toHaveLength(1);
  } finally {
    worker.shutdown();
    await running;
  }
});

test('a worker stopped mid-probe is replaced and the downtime resumes with no duplicate record or notification', async () => {
  const world = fakeWorld();
  const taskQueue = `${config.temporal.taskQueue}-restart`;
  const first = await newWorker(world, taskQueue, false);
  const now = await env.currentTimeMs();
  const input = downtimeInput(config, { method: 'upi:gpay', gateway: 'razorpay' }, now);
  const handle = await startDowntime(taskQueue, input);
  await until(async () => world.calls.some(recorded), 'the scope to be disabled');
  first.worker.shutdown();
  await first.running;

  // Bucket B recovers while no worker runs; a new worker picks the downtime up from its history.
  world.probe = { successes: 60, failures: 1, inFreeze: false };
  const second = await newWorker(world, taskQueue);
  try {
    const result = await handle.result();
    expect(result.endReason).toBe('recovered');
    expect(world.calls.filter(recorded)).toHaveLength(1);
    expect(world.duplicateNotifications).toBe(0);
    expect([...world.notificationKeys].sort()).toEqual(
      [`${input.downtimeId}:resolved`, `${input.downtimeId}:started`].sort(),
    );
  } finally {
    second.worker.shutdown();
    await second.running;
  }
});

test('a look that changes nothing costs the server a workflow task, a marker and a timer; an escalation sends its notice and page in one step', async () => {
  const world = fakeWorld();
  const taskQueue = `${config.temporal.taskQueue}-quiet`;
  const { worker, running } = await newWorker(world, taskQueue);
  try {
    const now = await env.currentTimeMs();
    // A method down on every gateway, no evidence coming in: SEV3, looking every probe interval until the expiry.
    const input = downtimeInput(config, { method: 'upi:phonepe' }, now);
    const handle = await startDowntime(taskQueue, input);
    await until(async () => world.calls.some(recorded), 'the scope to be disabled');
    // Past the unacknowledged escalation (15 minutes): SEV3 becomes SEV2, which pages.
    await env.sleep(20 * 60_000);
    expect((await handle.query(stateQuery)).severity).toBe('SEV2');

    const events = (await handle.fetchHistory()).events!;
    const count = (has: (e: (typeof events)[number]) => unknown) => events.filter(has).length;
    const looks = world.calls.filter((c) => c.name === 'readProbe').length;
    expect(looks).toBeGreaterThanOrEqual(9);
    // Every step ran inside a workflow task: no activity task, and one marker per step.
    expect(count((e) => e.activityTaskScheduledEventAttributes)).toBe(0);
    expect(count((e) => e.markerRecordedEventAttributes)).toBe(world.calls.length);
    // The start set severity and state for the Web UI; only the escalation changed them.
    expect(count((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toBe(1);
    expect((await handle.describe()).searchAttributes).toMatchObject({ DowntimeSeverity: ['SEV2'], DowntimeState: ['open'] });
    const announced = world.calls.filter((c) => c.name === 'announce').map((c) => (c.args[0] as { kind: string }[]).map((a) => a.kind));
    expect(announced).toEqual([['notify', 'page']]);
    await handle.executeUpdate(resolveUpdate, { args: [{ by: 'judy' }] });
    await handle.result();
  } finally {
    worker.shutdown();
    await running;
  }
});
