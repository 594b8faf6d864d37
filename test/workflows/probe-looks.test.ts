/**
 * How the downtime workflow looks at its probe, on the time-skipping test server with in-memory
 * activities. The flap guard's hold (FLAP_HOLD, off by default): a downtime that reopens one
 * re-enabled shortly before re-enables only once its recovery has held that long; a relapse during
 * the hold starts it over; a first downtime is not held, nor a reopened one without FLAP_HOLD.
 * Prompt looks: while the probe leans toward recovery, the next look comes as soon as the scope's
 * traffic should bring the missing outcomes. Looks on a success or an outcome: during a hard
 * outage a probeSuccess signal brings the next look forward, during a lean a probeOutcome signal
 * does, and a lean on one success is looked at again once the failures that would undo it
 * should have come. The floor share falls as an outage ages, a restart keeps a bucket of
 * successes during a hard outage, and after a proof of "still failing" a look that leans toward
 * failing restarts the test.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Config } from '../../common/config';
import type { WorkflowHandle } from '@temporalio/client';
import { DowntimeInput, downtimeWorkflowId, probeOutcomeSignal, probeSuccessSignal, stateQuery } from '../../common/definitions';
import { downtimePolicy } from '../../common/policy';
import type { ProbeDecision } from '../../domain';
import { downtimeSearchAttributes } from '../../common/starter';
import { workflowBundle } from '../../worker/worker';
import type { downtimeWorkflow } from '../../workflows';
import { detectionEvidence, downtimeInput } from '../support/downtime-input';
import { FakeWorld, fakeActivities, fakeWorld } from '../support/fake-activities';
import { bucketedRead } from '../support/probe-world';
import { testConfig, timeSkippingEnvironment } from '../support/stack';

const MIN = 60_000;
let env: TestWorkflowEnvironment;
let config: Config;

beforeAll(async () => {
  env = await timeSkippingEnvironment();
  // The hold: 5 minutes here, ten probe looks.
  config = testConfig({ PROBE_INTERVAL: '30s', DOWNTIME_EXPIRY: '30m', DETECTION_WINDOW: '5m', MIN_PROBE_SAMPLES: '20', FLAP_HOLD: '5m' });
});

afterAll(async () => {
  await env?.teardown();
});

const RECOVERED = { successes: 40, failures: 0, inFreeze: false };
const FAILING = { successes: 0, failures: 12, inFreeze: false };

async function run(world: FakeWorld, name: string, over: Partial<DowntimeInput>, script: (h: { openedAt: number; handle: WorkflowHandle<typeof downtimeWorkflow> }) => Promise<void>) {
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
    await script({ openedAt, handle });
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

test('without FLAP_HOLD (the default) a reopened downtime re-enables at its first proof of recovery', async () => {
  const world = fakeWorld();
  world.probe = RECOVERED;
  const policy = downtimePolicy(testConfig({ PROBE_INTERVAL: '30s', DOWNTIME_EXPIRY: '30m', DETECTION_WINDOW: '5m' }));
  expect(policy.flapHoldMs).toBe(0);
  const { result, openedAt } = await run(world, 'unheld', { reopensId: 'dt_previous', policy }, async () => undefined);
  expect(result.endReason).toBe('recovered');
  expect(result.resolvedAt - openedAt).toBeLessThan(2 * MIN);
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

/** Gaps between the workflow's probe looks, in ms. */
function lookGaps(world: FakeWorld): number[] {
  const at = world.calls.filter((c) => c.name === 'readProbe').map((c) => (c.args[0] as { now: number }).now);
  return at.slice(1).map((t, i) => t - at[i]!);
}

/** A gap as the timer that made it: `ms` when it fired at most a second late (timers never fire early), else the gap. */
const timer = (ms: number) => (gap: number) => (gap >= ms && gap < ms + 1_000 ? ms : gap);

test('while the probe leans toward recovery on a busy scope, it looks again after a quarter interval', async () => {
  const world = fakeWorld();
  // Three successes against an outage measured at 5%: leaning, not yet MIN_PROBE_SAMPLES.
  world.probe = { successes: 3, failures: 0, inFreeze: false };
  // 6,000 attempts in the 5-minute window: 20 attempts/s, so 17 samples at 50% take 1.7 s.
  const evidence = detectionEvidence(0, { attempts: 6_000, successes: 300 });
  const { result } = await run(world, 'leaning', { evidence }, async () => {
    await env.sleep(MIN);
    world.probe = RECOVERED;
  });
  expect(result.endReason).toBe('recovered');
  const gaps = lookGaps(world);
  expect(gaps.length).toBeGreaterThanOrEqual(4);
  expect(gaps.slice(0, 4).map(timer(7_500))).toEqual([7_500, 7_500, 7_500, 7_500]);
});

test('during a hard outage, a lean on one success is looked at again once the failures that would undo it should be in', async () => {
  const world = fakeWorld();
  // A quiet bank: 360 attempts in the 5-minute window (1.2 a second), 5% success while failing.
  const evidence = detectionEvidence(0, { attempts: 360, successes: 18 });
  // The first look sees one success: the test leans and the share widens to its maximum. The
  // 19 samples the proof lacks would take 32 s at 50% of 1.2 a second (the interval, 30 s); the
  // two failures that undo the lean, if the outage goes on, 3.5 s (the soonest look, 7.5 s).
  world.probe = { successes: 1, failures: 0, inFreeze: false };
  await run(world, 'refute', { evidence }, async () => {
    await env.sleep(35_000);
    world.probe = { successes: 1, failures: 2, inFreeze: false };
    await env.sleep(30_000);
    world.probe = RECOVERED;
  });
  const decisions = world.saved.map((x) => x.lastProbe).filter((d) => d !== undefined);
  expect(decisions[0]).toMatchObject({ verdict: 'insufficient', samples: 1, probePercent: 50 });
  expect(timer(7_500)(lookGaps(world)[0]!)).toBe(7_500);
  // The look that follows sees the failures: the lean is undone and the share narrows again.
  expect(decisions[1]!.llr).toBeLessThan(0);
  expect(decisions[1]!.probePercent).toBeLessThan(50);
});

test('a recovery proven short of MIN_PROBE_SAMPLES shows the scope to every user until its samples are in; not in a freeze, nor while kept disabled until a time', async () => {
  // A busy bank (20 attempts/s, 5% while failing): three successes prove recovery against the
  // outage, short of the minimum and of decisive evidence (four would re-enable it at once).
  const evidence = detectionEvidence(0, { attempts: 6_000, successes: 300 });
  const proven = { successes: 3, failures: 0 };
  const shares = async (name: string, over: Partial<DowntimeInput>, inFreeze: boolean) => {
    const world = fakeWorld();
    world.probe = { ...proven, inFreeze };
    const { result } = await run(world, name, { evidence, ...over }, async () => {
      await env.sleep(40_000);
      world.probe = { ...RECOVERED, successes: 60, inFreeze };
    });
    expect(result.endReason).toBe('recovered');
    const first = world.saved.find((x) => x.lastProbe !== undefined)!;
    expect(first.lastProbe).toMatchObject({ verdict: 'insufficient', samples: 3 });
    return first.probePercent;
  };
  expect(downtimePolicy(config).provenProbePercent).toBe(100);
  expect(await shares('proven', {}, false)).toBe(100);
  expect(await shares('provenfreeze', {}, true)).toBe(50);
  // A planned downtime kept disabled until its end: no one beyond the maximum before it.
  expect(await shares('provenplanned', { origin: 'manual', until: (await env.currentTimeMs()) + 5 * MIN }, false)).toBe(50);
});

test('without the scope\'s traffic, or with no lean, it keeps the interval', async () => {
  const leaning = fakeWorld();
  leaning.probe = { successes: 3, failures: 0, inFreeze: false };
  await run(leaning, 'unknowntraffic', { evidence: undefined, origin: 'manual' }, async () => {
    await env.sleep(2 * MIN);
    leaning.probe = RECOVERED;
  });
  expect(lookGaps(leaning).slice(0, 3).map(timer(30_000))).toEqual([30_000, 30_000, 30_000]);

  const failing = fakeWorld();
  failing.probe = FAILING;
  const evidence = detectionEvidence(0, { attempts: 6_000, successes: 300 });
  await run(failing, 'failing', { evidence }, async () => {
    await env.sleep(2 * MIN);
    failing.probe = RECOVERED;
  });
  expect(lookGaps(failing).slice(0, 3).map(timer(30_000))).toEqual([30_000, 30_000, 30_000]);
});

test("a quiet scope's floor share falls as its outage ages past the detection window", async () => {
  const world = fakeWorld();
  world.probe = FAILING;
  // The default evidence: 200 attempts over the 5-minute window, 0.67 a second: one outcome per
  // 30 s look takes 5%, against the quarter's 2.5%.
  const { openedAt } = await run(world, 'aging', {}, async () => {
    await env.sleep(16 * MIN);
    world.probe = RECOVERED;
  });
  // Each saved state after the look that read it: the share the floor set at that age.
  const shares: { ageMs: number; percent: number }[] = [];
  let readAt = 0;
  for (const c of world.calls) {
    if (c.name === 'readProbe') readAt = (c.args[0] as { now: number }).now;
    const saved = c.args[0] as { lastProbe?: { verdict: string; probePercent: number } };
    if (c.name === 'saveDowntimeState' && saved.lastProbe?.verdict === 'failing') shares.push({ ageMs: readAt - openedAt, percent: saved.lastProbe.probePercent });
  }
  const young = shares.filter((x) => x.ageMs <= 5 * MIN);
  const old = shares.filter((x) => x.ageMs >= 10 * MIN && x.ageMs < 16 * MIN);
  expect(young.length).toBeGreaterThan(0);
  expect(old.length).toBeGreaterThan(0);
  for (const x of young) expect(x.percent).toBeCloseTo(5, 6);
  for (const x of old) expect(x.percent).toBeCloseTo(2.5, 6);
  // Between the two it only falls.
  for (let i = 1; i < shares.length; i++) expect(shares[i]!.percent).toBeLessThanOrEqual(shares[i - 1]!.percent + 1e-9);
});

test('during a hard outage, the first success after it counts in the test its last failures restart', async () => {
  // Bucket-B outcomes at seconds after the scope was disabled; counter buckets of 20 s from 5 s.
  // Look 1 (30 s) proves "still failing" on two failures. Look 2 (60 s) proves it again on three
  // more, though the success at 57 s, alone in that look's bucket (45-65 s), is the recovery
  // beginning. Look 3 (90 s) should count it with the two after it.
  const events: [number, boolean][] = [[12, false], [25, false], [39, false], [41, false], [43, false], [57, true], [70, true], [80, true]];
  const world = fakeWorld();
  world.read = bucketedRead(events);
  await run(world, 'keepsuccess', {}, async () => {
    await env.sleep(100_000);
    world.read = undefined;
    world.probe = RECOVERED;
  });
  const decisions = world.saved.map((x) => x.lastProbe).filter((d) => d !== undefined);
  expect(decisions.slice(0, 2).map((d) => d.verdict)).toEqual(['failing', 'failing']);
  expect(decisions[1]).toMatchObject({ successes: 1, samples: 4 });
  expect(decisions[2]).toMatchObject({ successes: 3, samples: 3 });
});

test('during a partial degradation, once "still failing" is proven, a look that leans toward failing restarts the test', async () => {
  // Bucket-B outcomes at seconds after the scope was disabled; counter buckets of 20 s from 5 s.
  // Look 1 (30 s) proves "still failing" on 7 successes and 5 failures. Look 2 (60 s) leans toward
  // failing on 5 and 2 without proving it. From 62 s the route is back: 25 successes by look 3.
  // Kept in the run, look 2's outcomes would hold it short of proof there.
  const events: [number, boolean][] = [
    ...[6, 8, 10, 12, 14, 16, 18].map((t) => [t, true] as [number, boolean]),
    ...[7, 11, 15, 19, 23].map((t) => [t, false] as [number, boolean]),
    ...[26, 28, 30, 32, 34].map((t) => [t, true] as [number, boolean]),
    [36, false],
    [40, false],
    ...Array.from({ length: 25 }, (_, i) => [62 + i, true] as [number, boolean]),
  ];
  const world = fakeWorld();
  world.read = bucketedRead(events);
  // Detected at 70%: successes weigh little, a failure much.
  const partial = detectionEvidence(0, { successes: 140, rate: 0.7 });
  const { result, openedAt } = await run(world, 'doubt', { evidence: partial }, async () => {
    await env.sleep(100_000);
  });
  const closed = world.calls.find((c) => c.name === 'closeDowntime')?.args[0] as { lastProbe?: ProbeDecision } | undefined;
  const decisions = [...world.saved.map((x) => x.lastProbe), closed?.lastProbe].filter((d) => d !== undefined);
  expect(decisions.map((d) => d.verdict)).toEqual(['failing', 'insufficient', 'recovered']);
  expect(decisions[1]!.llr).toBeLessThan(0);
  expect(decisions[1]!.llr).toBeGreaterThan(decisions[1]!.lowerBound);
  // The run restarted at look 2 counts the recovery's outcomes only, against the raised bound.
  expect(decisions[2]).toMatchObject({ samples: 25, successes: 25 });
  expect(decisions[2]!.upperBound).toBeCloseTo(Math.log(0.95 / 0.01) + Math.log(4), 9);
  expect(result.endReason).toBe('recovered');
  expect(result.resolvedAt - openedAt).toBeLessThan(95_000);
});

test('while a success weighs little, runs ended on doubt count in the measured rate: a hard outage\'s successes come to weigh enough to wake the actor', async () => {
  // Detected early (75% of the window succeeded). Look 1 (30 s) proves "still failing" on 12
  // failures; from then on one failure per look, each a doubt (llr -2.4 to -2.9, short of B).
  // With every run's outcomes kept, H0 falls toward the optimistic bound of 0 in 28.
  const events: [number, boolean][] = [
    ...Array.from({ length: 12 }, (_, i) => [1 + 2 * i, false] as [number, boolean]),
    ...Array.from({ length: 16 }, (_, k) => [30 * (k + 1) + 10, false] as [number, boolean]),
  ];
  const world = fakeWorld();
  world.read = bucketedRead(events);
  const early = detectionEvidence(0, { successes: 150, rate: 0.75 });
  const { result } = await run(world, 'doubtmeasures', { evidence: early }, async () => {
    await env.sleep(17 * 30_000 + 5_000);
    world.read = undefined;
    world.probe = RECOVERED;
  });
  expect(result.endReason).toBe('recovered');
  const looks = world.saved.filter((x) => x.lastProbe !== undefined);
  expect(looks[0]!.lastProbe!.verdict).toBe('failing');
  // A success weighed 1.6 nats after the proof, over a quarter of A: the record asks to be woken
  // by one from the first doubt on (WAKING_SUCCESS_FRACTION; at half of A it took thirteen doubts).
  expect(looks[0]!.wakeOnProbeSuccess).toBe(false);
  expect(looks.slice(1).map((x) => x.wakeOnProbeSuccess)).toEqual(Array(looks.length - 1).fill(true));
  // Over half of A after thirteen doubts (the optimistic bound of 0 in 25 is 9.8%): from then on a
  // success is strong evidence, and the test no longer restarts on doubt (its bound is not raised).
  const strong = looks.findIndex((x, i) => i > 0 && x.lastProbe!.raised === undefined);
  expect(strong).toBeGreaterThan(10);
  expect(strong).toBeLessThanOrEqual(16);
  expect(looks.slice(1, strong + 1).map((x) => x.lastProbe!.verdict)).toEqual(Array(strong).fill('insufficient'));
});

test('during a hard outage, where one success is strong evidence, a look leaning toward failing does not restart the test', async () => {
  // Detected at 5%. Look 1 (30 s) proves "still failing" on three failures; looks 2 and 3 see one
  // failure each. Kept in one run, the two prove it again at look 3.
  const events: [number, boolean][] = [[5, false], [12, false], [20, false], [40, false], [70, false]];
  const world = fakeWorld();
  world.read = bucketedRead(events);
  await run(world, 'nodoubt', {}, async () => {
    await env.sleep(95_000);
    world.read = undefined;
    world.probe = RECOVERED;
  });
  const verdicts = world.saved.map((x) => x.lastProbe?.verdict).filter((v) => v !== undefined);
  expect(verdicts.slice(0, 3)).toEqual(['failing', 'insufficient', 'failing']);
  expect(world.saved[1]!.lastProbe!.upperBound).toBeCloseTo(Math.log(0.95 / 0.01), 9);
});

describe('probe success and outcome signals', () => {
  const readsAt = (world: FakeWorld) => world.calls.filter((c) => c.name === 'readProbe').map((c) => (c.args[0] as { now: number }).now);

  test('during a hard outage the record asks for it, and it brings the next look forward', async () => {
    const world = fakeWorld();
    let signalledAt = 0;
    // The default evidence: 10 successes in 200 attempts, a hard outage.
    const { result } = await run(world, 'wakehard', {}, async ({ handle }) => {
      await env.sleep(40_000);
      world.probe = RECOVERED;
      signalledAt = await env.currentTimeMs();
      await handle.signal(probeSuccessSignal);
    });
    expect(result.endReason).toBe('recovered');
    // The first look (30 s) saw nothing: no lean, so the record asks to be woken.
    expect(world.saved[0]?.wakeOnProbeSuccess).toBe(true);
    // The look that proved recovery came on the signal, not at the next interval (60 s).
    const last = readsAt(world).at(-1)!;
    expect(last - signalledAt).toBeLessThan(5_000);
    expect(result.resolvedAt - signalledAt).toBeLessThan(5_000);
  });

  test('while the probe leans toward recovery the record asks for any outcome, and a probeOutcome signal brings the next look at once', async () => {
    const world = fakeWorld();
    // A quiet bank: 360 attempts in the 5-minute window (1.2 a second), 5% success while failing.
    // The lean's look by the clock would come at the soonest, a quarter interval (7.5 s) after it.
    const evidence = detectionEvidence(0, { attempts: 360, successes: 18 });
    world.probe = { successes: 1, failures: 0, inFreeze: false };
    let signalledAt = 0;
    const { openedAt } = await run(world, 'wakeoutcome', { evidence }, async ({ handle }) => {
      // Before the first look nothing leans: the signal is not asked for and brings no look.
      await env.sleep(10_000);
      await handle.signal(probeOutcomeSignal);
      await env.sleep(22_000);
      world.probe = { successes: 1, failures: 2, inFreeze: false };
      signalledAt = await env.currentTimeMs();
      await handle.signal(probeOutcomeSignal);
      await env.sleep(30_000);
      world.probe = RECOVERED;
    });
    const reads = readsAt(world);
    expect(timer(30_000)(reads[0]! - openedAt)).toBe(30_000);
    // The first look leans on one success: the record asks for any outcome, not for a success.
    expect(world.saved[0]).toMatchObject({ wakeOnProbeOutcome: true, wakeOnProbeSuccess: false });
    // The next look came on the signal, before the lean's timer, and undid the lean.
    expect(reads[1]! - signalledAt).toBeLessThan(1_000);
    expect(reads[1]! - reads[0]!).toBeLessThan(7_500);
    expect(world.saved[1]!.lastProbe!.llr).toBeLessThan(0);
    expect(world.saved[1]!.wakeOnProbeOutcome).toBe(false);
  });

  test('during a partial degradation a success weighs little: the record does not ask, and a signal changes nothing', async () => {
    const world = fakeWorld();
    let signalledAt = 0;
    const partial = detectionEvidence(0, { successes: 140, rate: 0.7 });
    const { result } = await run(world, 'wakepartial', { evidence: partial }, async ({ handle, openedAt }) => {
      await env.sleep(40_000);
      world.probe = RECOVERED;
      signalledAt = await env.currentTimeMs();
      await handle.signal(probeSuccessSignal);
      expect(signalledAt - openedAt).toBeLessThan(60_000);
    });
    expect(result.endReason).toBe('recovered');
    expect(world.saved[0]?.wakeOnProbeSuccess).toBe(false);
    // Looks stay on the interval: 30 s, 60 s.
    expect(readsAt(world).map((t, i, all) => (i === 0 ? 0 : t - all[i - 1]!)).slice(1).map(timer(30_000))).toEqual([30_000]);
    expect(readsAt(world).at(-1)! - signalledAt).toBeGreaterThanOrEqual(15_000);
  });
});

test('a hard outage detected early, on a window of mostly healthy traffic, is judged on what the probe proved: its successes wake the actor', async () => {
  const world = fakeWorld();
  world.probe = { successes: 0, failures: 40, inFreeze: false };
  // 75% of the detection window succeeded: pooled with the probe's 0 of 40 the outage would look like 62%.
  const early = detectionEvidence(0, { successes: 150, rate: 0.75 });
  const { result } = await run(world, 'earlydetect', { evidence: early }, async () => {
    await env.sleep(70_000);
    world.probe = RECOVERED;
  });
  expect(result.endReason).toBe('recovered');
  const verdicts = world.saved.map((s) => [s.lastProbe?.verdict, s.wakeOnProbeSuccess]);
  // The first proof of "still failing" is judged against the evidence's bound; from the second look on, against the probe's 0 of 40.
  expect(verdicts.slice(0, 2)).toEqual([['failing', false], ['failing', true]]);
});

test('a downtime detected on the short window judges recovery against the whole detection window, not the dip that tripped it', async () => {
  const world = fakeWorld();
  world.probe = { successes: 3, failures: 0, inFreeze: false };
  const base = downtimeInput(config, { method: 'netbanking:any' }, 0).evidence!;
  // Tripped by 30 successes in 60 attempts over the short window; 320 of 400 over the whole window.
  const dip = { ...base, attempts: 60, successes: 30, rate: 0.5, detectionWindow: { attempts: 400, successes: 320 } };
  await run(world, 'shortwindow', { evidence: dip }, async () => {
    await env.sleep(40_000);
    world.probe = RECOVERED;
  });
  const first = world.saved[0]!.lastProbe!;
  // H0 is the whole window's optimistic bound (about 83%, capped at the threshold, 80.75%), not the dip's 50% (bound 61%).
  expect(first.llr).toBeCloseTo(3 * Math.log(0.95 / 0.8075), 6);
});
