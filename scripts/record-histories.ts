/**
 * Records the downtime workflow's histories for the replay test (test/workflows/replay.test.ts):
 * `npx tsx scripts/record-histories.ts`. They are recorded here, on the time-skipping test
 * server with in-memory activities, one per shape of run (recovery, expiry, an incident
 * manager's updates, continue-as-new, the flap hold, probe signals, a partial degradation), and
 * replayed against the current code so that a change that is not deterministic fails CI.
 *
 * Nothing is deployed yet: change the workflow, then run this and commit the new set in place of
 * the old. From the first production release on, a change to a released workflow goes behind
 * `patched()` instead, and the histories of every released version are kept (docs/design/workflows.md).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { acknowledgeUpdate, downtimeWorkflowId, escalateUpdate, extendUpdate, probeOutcomeSignal, probeSuccessSignal, resolveUpdate, setProbePercentUpdate, stateQuery } from '../common/definitions';
import { downtimeSearchAttributes } from '../common/starter';
import { workflowBundle } from '../worker/worker';
import type { downtimeWorkflow } from '../workflows';
import { detectionEvidence, downtimeInput } from '../test/support/downtime-input';
import { fakeActivities, fakeWorld } from '../test/support/fake-activities';
import { registerSearchAttributes, testConfig } from '../test/support/stack';
import { ensureTools, ROOT } from './local-servers';

const HOUR = 3_600_000;

async function main(): Promise<void> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: ensureTools().testServer } },
  });
  await registerSearchAttributes(env.connection);
  // The flap guard's hold: 5 minutes, so flap-hold relapses inside it.
  const config = testConfig({ PROBE_INTERVAL: '30s', DOWNTIME_EXPIRY: '30m', DETECTION_WINDOW: '5m', FLAP_HOLD: '5m' });
  const world = fakeWorld();
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: config.temporal.taskQueue, workflowBundle: await workflowBundle(), activities: fakeActivities(world) });
  const out = join(ROOT, 'test/histories');
  mkdirSync(out, { recursive: true });

  await worker.runUntil(async () => {
    const scenarios: Record<string, (h: Awaited<ReturnType<typeof start>>, now: number) => Promise<void>> = {
      'recovered-through-probe': async () => {
        world.probe = { successes: 45, failures: 1, inFreeze: false };
      },
      'expired-without-evidence': async () => {
        world.probe = { successes: 2, failures: 0, inFreeze: false };
      },
      'incident-manager-updates': async (h, now) => {
        world.probe = { successes: 0, failures: 0, inFreeze: false };
        await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'ops', note: 'looking' }] });
        await h.executeUpdate(escalateUpdate, { args: [{ by: 'ops', severity: 'SEV2' }] });
        await h.executeUpdate(setProbePercentUpdate, { args: [{ by: 'ops', percent: 20 }] });
        await h.executeUpdate(extendUpdate, { args: [{ by: 'ops', until: now + 2 * HOUR }] });
        await env.sleep(HOUR);
        await h.executeUpdate(resolveUpdate, { args: [{ by: 'ops' }] });
      },
      // A reopened downtime (flap guard): recovery held, a relapse during the hold, held again.
      'flap-hold': async () => {
        world.probe = { successes: 45, failures: 1, inFreeze: false };
        await env.sleep(2 * 60_000);
        world.probe = { successes: 0, failures: 12, inFreeze: false };
        await env.sleep(60_000);
        world.probe = { successes: 45, failures: 1, inFreeze: false };
      },
      // A hard outage: the first look sees nothing, a probe success signal brings the proving look forward.
      'woken-by-success': async (h) => {
        world.probe = { successes: 0, failures: 0, inFreeze: false };
        await env.sleep(40_000);
        world.probe = { successes: 45, failures: 1, inFreeze: false };
        await h.signal(probeSuccessSignal);
      },
      // A quiet bank's lean on one success: the record asks for any outcome, and a probeOutcome
      // signal brings the proving look before the lean's timer.
      'woken-by-outcome': async (h) => {
        world.probe = { successes: 1, failures: 0, inFreeze: false };
        await env.sleep(32_000);
        world.probe = { successes: 45, failures: 1, inFreeze: false };
        await h.signal(probeOutcomeSignal);
      },
      // A partial degradation (detected at 70%, where a success is weak evidence): look 1 proves
      // "still failing", look 2 leans toward failing (the test restarts on doubt), look 3 proves
      // the recovery against the raised bound.
      'partial-degradation': async () => {
        world.probe = { successes: 7, failures: 5, inFreeze: false };
        await env.sleep(50_000);
        world.probe = { successes: 3, failures: 1, inFreeze: false };
        await env.sleep(15_000);
        world.probe = { successes: 45, failures: 0, inFreeze: false };
      },
    };
    const reopens: Record<string, string> = { 'flap-hold': 'dt_previous' };
    const start = async (name: string) => {
      const now = await env.currentTimeMs();
      const scope = { method: 'netbanking:sbi', gateway: name.length % 2 ? 'payu' : 'razorpay' };
      const evidenceOf: Record<string, Parameters<typeof detectionEvidence>[1]> = {
        'partial-degradation': { successes: 140, rate: 0.7 },
        // 1.2 attempts a second over the 5-minute window, 5% success.
        'woken-by-outcome': { attempts: 360, successes: 18 },
      };
      const evidence = evidenceOf[name] ? { evidence: detectionEvidence(now, evidenceOf[name]) } : {};
      const input = downtimeInput(config, scope, now, { reopensId: reopens[name], ...evidence });
      return env.client.workflow.start<typeof downtimeWorkflow>('downtimeWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId: `${downtimeWorkflowId(input.scopeKey)}:${name}`,
        args: [input],
        typedSearchAttributes: downtimeSearchAttributes(input),
      });
    };
    for (const [name, drive] of Object.entries(scenarios)) {
      const handle = await start(name);
      for (let i = 0; i < 100 && (await handle.query(stateQuery)).phase !== 'probing'; i++) await new Promise((r) => setTimeout(r, 50));
      await drive(handle, await env.currentTimeMs());
      await handle.result();
      // Binary protobuf: exact, and free of JSON-codec version quirks. Long scenarios continue
      // as new: the first run (start, updates) and the last run (carried state, close) both count.
      const encode = (h: Awaited<ReturnType<typeof handle.fetchHistory>>) => temporal.api.history.v1.History.encode(h).finish();
      const first = env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      writeFileSync(join(out, `${name}.history.pb`), encode(await first.fetchHistory()));
      if ((await handle.describe()).runId !== handle.firstExecutionRunId) {
        writeFileSync(join(out, `${name}.last-run.history.pb`), encode(await handle.fetchHistory()));
      }
      console.log(`recorded ${name}`);
    }
  });
  await env.teardown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
