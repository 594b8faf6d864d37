/**
 * The downtime actor, driven on the real time-skipping test server with the real activities
 * against the real database: what ops see in the records, the incident and the notifications.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { WorkflowHandle } from '@temporalio/client';
import { createActivities } from '../../activities';
import type { Config } from '../../common/config';
import {
  DowntimeInput,
  acknowledgeUpdate,
  cancelUpdate,
  evidenceSignal,
  extendUpdate,
  resolveUpdate,
  stateQuery,
} from '../../common/definitions';
import { downtimePolicy, manualDowntimeInput } from '../../common/policy';
import { openDowntimes } from '../../db/queries';
import { downtimeSearchAttributes } from '../../common/starter';
import { normalizeScope, outageRate, scopeKey, Scope, ScopeHealth } from '../../domain';
import type { Database } from '../../db/mongo';
import { packRoutes, zeroCounts } from '../../db/counters';
import { workflowBundle } from '../../worker/worker';
import type { downtimeWorkflow } from '../../workflows';
import { testConfig, testDatabase, timeSkippingEnvironment } from '../support/stack';
import { detectionEvidence, downtimeInput } from '../support/downtime-input';

let env: TestWorkflowEnvironment;
let config: Config;
let db: Database;
let worker: Worker;
let running: Promise<void>;
let activities: ReturnType<typeof createActivities>;

const MIN = 60_000;

beforeAll(async () => {
  env = await timeSkippingEnvironment();
  config = testConfig({ PROBE_INTERVAL: '30s', DOWNTIME_EXPIRY: '30m', MIN_PROBE_SAMPLES: '20', COUNTER_BUCKET: '10s', DETECTION_WINDOW: '1m' });
  db = await testDatabase(config);
  activities = createActivities({ db, config, temporal: { client: env.client, taskQueue: config.temporal.taskQueue }, now: Date.now });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await db?.db.dropDatabase();
  await db?.close();
  await env?.teardown();
});

/** The test server's clock: it runs ahead of the wall clock once time has been skipped. */
let clock = 0;
beforeEach(async () => {
  clock = await env.currentTimeMs();
});

/** The steps a run took, in order: activity tasks it scheduled and local activities it recorded. */
function stepsOf(events: temporal.api.history.v1.IHistoryEvent[]): string[] {
  return events.flatMap((e) => {
    if (e.activityTaskScheduledEventAttributes) return [e.activityTaskScheduledEventAttributes.activityType!.name!];
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') return [];
    const data = marker.details!.data!.payloads![0]!.data!;
    return [(JSON.parse(Buffer.from(data).toString()) as { activity_type: string }).activity_type];
  });
}

function inputFor(scopeIn: Scope, over: Partial<DowntimeInput> = {}): DowntimeInput {
  return downtimeInput(config, scopeIn, clock, over);
}

async function start(input: DowntimeInput): Promise<WorkflowHandle<typeof downtimeWorkflow>> {
  return env.client.workflow.start<typeof downtimeWorkflow>('downtimeWorkflow', {
    taskQueue: config.temporal.taskQueue,
    workflowId: `downtime:${input.scopeKey}:${input.downtimeId}`,
    args: [input],
    typedSearchAttributes: downtimeSearchAttributes(input),
    memo: { downtimeId: input.downtimeId },
  });
}

async function untilProbing(handle: WorkflowHandle): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const view = await handle.query(stateQuery);
    if (view.phase === 'probing') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('workflow never reached probing');
}

async function notificationsOf(downtimeId: string) {
  return db.c.notifications.find({ downtimeId }).sort({ at: 1 }).toArray();
}

/** Bucket-B outcomes recorded at ingest, placed right after the scope was disabled. */
async function probeOutcomes(method: string, gateway: string, at: number, ok: number, failed: number) {
  const bucketStart = Math.floor(at / config.detection.counterBucketMs) * config.detection.counterBucketMs;
  // As ingest writes them: one delta document per batch and bucket.
  await db.c.counterDeltas.insertOne({ _id: `probe-${method}-${gateway}-${at}-${ok}-${failed}`, bucketStart, packed: packRoutes([{ ...zeroCounts(), method, gateway, success: ok, systemFailure: failed, probeSuccess: ok, probeFailure: failed, covered: ok + failed }]) });
}

test('re-enables through the probe when bucket B proves recovery', async () => {
  const input = inputFor({ method: 'netbanking:sbi' });
  const handle = await start(input);
  await untilProbing(handle);
  const record = await db.c.downtimes.findOne({ _id: input.downtimeId });
  expect(record).toMatchObject({ status: 'open', phase: 'probing' });
  await probeOutcomes('netbanking:sbi', 'payu', record!.disabledAt!.getTime() + 1_000, 40, 1);

  const result = await handle.result();
  expect(result.endReason).toBe('recovered');
  expect(result.resolvedAt - input.openedAt).toBeLessThan(config.downtime.expiryMs);
  const closed = await db.c.downtimes.findOne({ _id: input.downtimeId });
  expect(closed).toMatchObject({ status: 'resolved', endReason: 'recovered', lastProbe: { verdict: 'recovered' } });
  // The outage's measured rate stays on the record: detection watches the scope for a relapse against it.
  expect(closed!.outageRate).toBeCloseTo(outageRate([{ successes: 10, attempts: 200 }], input.threshold)!, 9);
  const incident = await db.c.incidents.findOne({ _id: input.downtimeId });
  expect(incident).toMatchObject({ status: 'resolved', endReason: 'recovered' });
  const sent = (await notificationsOf(input.downtimeId)).map((n) => `${n.channel}:${n.event}`);
  // The start notification goes out after the scope is disabled (partners hear of it through it), the resolution last.
  expect(sent).toEqual(['ops:downtime.started', 'ops:downtime.resolved']);
  const events = (await handle.fetchHistory()).events!;
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
  // The start is one local activity in the first workflow task (a marker, no scheduled task):
  // the record written already disabled, with the notification.
  expect(scheduled.filter((name) => name === 'openDowntime')).toEqual([]);
  const firstTask = events.slice(0, events.findIndex((e) => e.timerStartedEventAttributes));
  expect(firstTask.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(1);
  const kinds = (await db.c.timeline.find({ incidentId: input.downtimeId }).sort({ at: 1 }).toArray()).map((t) => t.kind);
  expect(kinds).toEqual(expect.arrayContaining(['opened', 'disabled', 'downtime.started', 'resolved', 'downtime.resolved']));
});

test('re-enables on expiry when the probe gets too few attempts', async () => {
  const input = inputFor({ method: 'wallet:paytm', gateway: 'razorpay' });
  const handle = await start(input);
  await untilProbing(handle);
  const record = await db.c.downtimes.findOne({ _id: input.downtimeId });
  await probeOutcomes('wallet:paytm', 'razorpay', record!.disabledAt!.getTime() + 1_000, 3, 0);

  const result = await handle.result();
  expect(result.endReason).toBe('expired');
  expect(result.resolvedAt - input.openedAt).toBeGreaterThanOrEqual(config.downtime.expiryMs);
  expect(result.resolvedAt - input.openedAt).toBeLessThan(config.downtime.expiryMs + 2 * config.probe.intervalMs);
  const closed = await db.c.downtimes.findOne({ _id: input.downtimeId });
  expect(closed).toMatchObject({ status: 'resolved', endReason: 'expired', lastProbe: { verdict: 'insufficient', samples: 3 } });
  // Probe ticks that found nothing new wrote nothing: far fewer saves than looks.
  const scheduled = stepsOf((await handle.fetchHistory()).events!);
  const looks = scheduled.filter((n) => n === 'readProbe').length;
  const saves = scheduled.filter((n) => n === 'saveDowntimeState').length;
  expect(looks).toBeGreaterThan(5);
  expect(saves).toBeLessThanOrEqual(3);
});

test('stays disabled past expiry while the probe shows it still failing', async () => {
  const input = inputFor({ method: 'card:hdfc_debit', gateway: 'payu' });
  const handle = await start(input);
  await untilProbing(handle);
  const record = await db.c.downtimes.findOne({ _id: input.downtimeId });
  await probeOutcomes('card:hdfc_debit', 'payu', record!.disabledAt!.getTime() + 1_000, 1, 30);
  await env.sleep(config.downtime.expiryMs + 2 * config.probe.intervalMs);
  const view = await handle.query(stateQuery);
  expect(view.status).toBe('open');
  expect(view.expiresAt).toBeGreaterThan(input.openedAt + config.downtime.expiryMs);
  await handle.executeUpdate(resolveUpdate, { args: [{ by: 'ops' }] });
  expect((await handle.result()).endReason).toBe('manual');
});

test('an incident manager resolves a downtime now and a second resolve is refused', async () => {
  const input = inputFor({ mode: 'upi' });
  const handle = await start(input);
  await untilProbing(handle);
  const view = await handle.executeUpdate(resolveUpdate, { args: [{ by: 'alice', reason: 'UPI switch fixed' }] });
  expect(view).toMatchObject({ status: 'resolved', endReason: 'manual' });
  const result = await handle.result();
  expect(result.endReason).toBe('manual');
  expect(await db.c.downtimes.findOne({ _id: input.downtimeId })).toMatchObject({ status: 'resolved', endReason: 'manual', resolvedBy: 'alice' });
  await expect(handle.executeUpdate(resolveUpdate, { args: [{ by: 'alice' }] })).rejects.toThrow();
});

test('extend keeps the scope disabled past expiry until resolved', async () => {
  const input = inputFor({ gateway: 'cashfree' });
  const handle = await start(input);
  await untilProbing(handle);
  const until = clock + 2 * 60 * MIN;
  await handle.executeUpdate(extendUpdate, { args: [{ by: 'bob', until, reason: 'partner maintenance' }] });
  await env.sleep(config.downtime.expiryMs + 5 * MIN);
  expect((await handle.query(stateQuery)).status).toBe('open');
  expect(await db.c.downtimes.findOne({ _id: input.downtimeId })).toMatchObject({ status: 'open', extendedUntil: new Date(until) });
  await handle.executeUpdate(resolveUpdate, { args: [{ by: 'bob' }] });
  expect((await handle.result()).endReason).toBe('manual');
});

test('escalates to SEV1 by duration while unacknowledged, and pages', async () => {
  const input = inputFor(
    { method: 'upi:phonepe', gateway: 'payu' },
    { evidence: { at: clock, attempts: 500, windowMs: config.detection.windowMs, successes: 20, rate: 0.04, baseline: 0.95, threshold: 0.8, trafficShare: 0.25 }, policy: { ...downtimePolicy(config), expiryMs: 3 * 60 * MIN } },
  );
  const handle = await start(input);
  await untilProbing(handle);
  expect((await handle.query(stateQuery)).severity).toBe('SEV2');
  await env.sleep(65 * MIN);
  const view = await handle.query(stateQuery);
  expect(view.severity).toBe('SEV1');
  const pages = (await notificationsOf(input.downtimeId)).filter((n) => n.channel === 'page');
  expect(pages.map((p) => p.event)).toContain('page.SEV1');
  // Unacknowledged SEV2 was paged again before it became SEV1.
  expect(pages.length).toBeGreaterThanOrEqual(3);
  expect(await db.c.incidents.findOne({ _id: input.downtimeId })).toMatchObject({ severity: 'SEV1', status: 'open' });
  await handle.executeUpdate(acknowledgeUpdate, { args: [{ by: 'carol' }] });
  await handle.executeUpdate(resolveUpdate, { args: [{ by: 'carol' }] });
  expect((await handle.result()).severity).toBe('SEV1');
});

test('a freeze window raises severity one step', async () => {
  const now = clock;
  await db.c.freezeWindows.insertOne({ _id: 'fw-1111', name: '11.11 sale', startsAt: new Date(now - MIN), endsAt: new Date(now + 24 * 60 * MIN), createdAt: new Date(now) });
  try {
    const input = inputFor({ method: 'wallet:mobikwik', gateway: 'payu' });
    const handle = await start(input);
    await untilProbing(handle);
    expect((await handle.query(stateQuery)).severity).toBe('SEV4');
    await env.sleep(config.probe.intervalMs + 1_000);
    expect((await handle.query(stateQuery)).severity).toBe('SEV3');
    await handle.executeUpdate(resolveUpdate, { args: [{ by: 'dave' }] });
    await handle.result();
  } finally {
    await db.c.freezeWindows.deleteOne({ _id: 'fw-1111' });
  }
});

function health(scopeIn: Scope, trafficShare = 0.05): ScopeHealth {
  const scope = normalizeScope(scopeIn);
  return { scope, key: scopeKey(scope), attempts: 300, successes: 15, rate: 0.05, baseline: 0.95, threshold: 0.8075, upper: 0.08, failing: true, trafficShare };
}

test('a scope failing again soon after re-enable reopens linked to the previous downtime with a longer expiry', async () => {
  const first = await activities.openOrFeedDowntime(health({ method: 'netbanking:icici' }), await env.currentTimeMs());
  expect(first.action).toBe('started');
  const h1 = env.client.workflow.getHandle('downtime:netbanking:icici@*');
  await untilProbing(h1);
  await h1.executeUpdate(resolveUpdate, { args: [{ by: 'erin' }] });
  await h1.result();
  const resolvedAt = (await db.c.downtimes.findOne({ _id: first.downtimeId }))!.resolvedAt!.getTime();

  // It fails again a minute after it was re-enabled.
  const second = await activities.openOrFeedDowntime(health({ method: 'netbanking:icici' }), resolvedAt + 60_000);
  expect(second.action).toBe('started');
  expect(second.downtimeId).not.toBe(first.downtimeId);
  const h2 = env.client.workflow.getHandle('downtime:netbanking:icici@*');
  await untilProbing(h2);
  const reopened = await db.c.downtimes.findOne({ _id: second.downtimeId });
  expect(reopened?.reopensId).toBe(first.downtimeId);
  const firstDoc = await db.c.downtimes.findOne({ _id: first.downtimeId });
  const firstExpiry = firstDoc!.expiresAt.getTime() - firstDoc!.openedAt.getTime();
  expect(reopened!.expiresAt.getTime() - reopened!.openedAt.getTime()).toBe(firstExpiry * config.downtime.flapMultiplier);
  await h2.executeUpdate(resolveUpdate, { args: [{ by: 'erin' }] });
  await h2.result();
});

test('detection feeds the open downtime instead of opening a second one for the same scope', async () => {
  const first = await activities.openOrFeedDowntime(health({ method: 'card:axis_credit' }), await env.currentTimeMs());
  const again = await activities.openOrFeedDowntime(health({ method: 'card:axis_credit' }), await env.currentTimeMs());
  expect(again).toMatchObject({ action: 'signalled', downtimeId: first.downtimeId });
  const h = env.client.workflow.getHandle('downtime:card:axis_credit@*');
  await untilProbing(h);
  expect((await h.query(stateQuery)).evidenceCount).toBe(2);
  expect(await db.c.downtimes.countDocuments({ scopeKey: 'card:axis_credit@*' })).toBe(1);
  await h.executeUpdate(resolveUpdate, { args: [{ by: 'frank' }] });
  await h.result();
});

test('a gateway-wide downtime supersedes the narrower downtimes it covers', async () => {
  const route = await activities.openOrFeedDowntime(health({ method: 'upi:gpay', gateway: 'billdesk' }), await env.currentTimeMs());
  const method = await activities.openOrFeedDowntime(health({ method: 'card:sbi_credit', gateway: 'billdesk' }), await env.currentTimeMs());
  await untilProbing(env.client.workflow.getHandle('downtime:upi:gpay@billdesk'));
  await untilProbing(env.client.workflow.getHandle('downtime:card:sbi_credit@billdesk'));
  const gateway = await activities.openOrFeedDowntime(health({ gateway: 'billdesk' }, 0.3), await env.currentTimeMs());
  expect(gateway.action).toBe('started');
  expect(gateway.superseded.sort()).toEqual([route.downtimeId, method.downtimeId].sort());
  const r = await env.client.workflow.getHandle('downtime:upi:gpay@billdesk').result();
  expect(r.endReason).toBe('superseded');
  expect(await db.c.downtimes.findOne({ _id: route.downtimeId })).toMatchObject({ status: 'resolved', endReason: 'superseded', supersededBy: gateway.downtimeId });
  // A route under the open gateway downtime feeds it rather than opening its own.
  const fed = await activities.openOrFeedDowntime(health({ method: 'upi:gpay', gateway: 'billdesk' }), await env.currentTimeMs());
  expect(fed).toMatchObject({ action: 'signalled', downtimeId: gateway.downtimeId });
  const g = env.client.workflow.getHandle('downtime:*:*@billdesk');
  await g.executeUpdate(resolveUpdate, { args: [{ by: 'grace' }] });
  await g.result();
});

test('retried activities record the downtime and send each notification once', async () => {
  const input = inputFor({ method: 'upi:paytm', gateway: 'razorpay' });
  for (let i = 0; i < 3; i++) {
    const notify = { key: `${input.downtimeId}:started`, downtimeId: input.downtimeId, event: 'started' as const, type: 'downtime.started' as const, text: 'down', at: input.openedAt, data: {} };
    const page = { downtimeId: input.downtimeId, severity: 'SEV2' as const, n: 1, at: input.openedAt, text: 'x' };
    await activities.openDowntime(input, 'SEV3', input.openedAt + input.policy.expiryMs, input.openedAt, { notify, page });
    await activities.notify(notify);
    await activities.announce([{ kind: 'page', page }]);
    await activities.closeDowntime({ downtimeId: input.downtimeId, endReason: 'manual', at: input.openedAt + 1000, by: 'ops', severity: 'SEV3' });
  }
  expect(await db.c.downtimes.countDocuments({ _id: input.downtimeId })).toBe(1);
  expect(await db.c.incidents.countDocuments({ _id: input.downtimeId })).toBe(1);
  expect(await db.c.notifications.countDocuments({ downtimeId: input.downtimeId })).toBe(2);
  expect(await db.c.webhookEvents.countDocuments({ downtimeId: input.downtimeId })).toBe(1);
});

test('the workflow is filterable in the Web UI by scope, method, gateway, severity and state', async () => {
  const input = inputFor({ method: 'netbanking:hdfc', gateway: 'payu' });
  const handle = await start(input);
  await untilProbing(handle);
  const description = await handle.describe();
  const sa = description.searchAttributes as Record<string, unknown[]>;
  expect(sa.DowntimeScope).toEqual(['netbanking:hdfc@payu']);
  expect(sa.DowntimeMethod).toEqual(['netbanking:hdfc']);
  expect(sa.DowntimeGateway).toEqual(['payu']);
  expect(sa.DowntimeState).toEqual(['open']);
  expect(sa.DowntimeSeverity).toEqual(['SEV4']);
  await handle.executeUpdate(resolveUpdate, { args: [{ by: 'heidi' }] });
  await handle.result();
  expect(((await handle.describe()).searchAttributes as Record<string, unknown[]>).DowntimeState).toEqual(['resolved']);
});

describe('scheduled maintenance', () => {
  const HOUR = 60 * MIN;
  function maintenance(scopeIn: Scope, startsIn: number, lasts: number): DowntimeInput {
    const scope = normalizeScope(scopeIn);
    const startsAt = clock + startsIn;
    return { ...manualDowntimeInput(config, { scope, scopeKey: scopeKey(scope), reason: 'PayU database upgrade', by: 'amy', planned: true, at: clock, until: startsAt + lasts, from: startsAt }), startsAt };
  }
  async function recordOf(id: string) {
    return db.c.downtimes.findOne({ _id: id });
  }
  async function eventuallyStatus(id: string, status: string) {
    for (let i = 0; i < 200; i++) {
      if ((await recordOf(id))?.status === status) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`downtime ${id} never became ${status}`);
  }
  const eventsOf = async (id: string) => (await notificationsOf(id)).map((n) => n.event);
  /** The reason an update's validator gave for refusing it. */
  const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (err: { cause?: { message?: string } }) => String(err.cause?.message));

  test('is announced at once, hides nothing until it begins, begins at startsAt and ends at until', async () => {
    const input = maintenance({ gateway: 'payu_mw1' }, HOUR, 2 * HOUR);
    const handle = await start(input);
    await eventuallyStatus(input.downtimeId, 'scheduled');
    expect((await handle.query(stateQuery)).status).toBe('scheduled');
    expect(await openDowntimes(db)).not.toContainEqual(expect.objectContaining({ _id: input.downtimeId }));
    expect(await eventsOf(input.downtimeId)).toEqual(['downtime.scheduled']);
    // Nothing to acknowledge or resolve before it begins.
    expect(await refusal(handle.executeUpdate(acknowledgeUpdate, { args: [{ by: 'amy' }] }))).toMatch(/has not begun/);

    await env.sleep(HOUR + 5_000);
    await eventuallyStatus(input.downtimeId, 'open');
    const opened = (await recordOf(input.downtimeId))!;
    expect(opened.disabledAt!.getTime()).toBeGreaterThanOrEqual(input.startsAt!);
    expect(opened.disabledAt!.getTime() - input.startsAt!).toBeLessThan(MIN);
    expect(await refusal(handle.executeUpdate(cancelUpdate, { args: [{ by: 'amy' }] }))).toMatch(/not scheduled maintenance waiting/);

    await env.sleep(2 * HOUR);
    const result = await handle.result();
    expect(result.endReason).toBe('completed');
    expect(result.resolvedAt).toBeGreaterThanOrEqual(input.until!);
    expect(result.resolvedAt - input.until!).toBeLessThan(config.probe.intervalMs + 5_000);
    expect(await recordOf(input.downtimeId)).toMatchObject({ status: 'resolved', endReason: 'completed' });
    // A maintenance that ran its course is no incident to review.
    expect((await db.c.incidents.findOne({ _id: input.downtimeId }))?.reviewDueAt).toBeUndefined();
    expect(await eventsOf(input.downtimeId)).toEqual(['downtime.scheduled', 'downtime.started', 'downtime.resolved']);
  });

  test('cancelled before it begins, it never hides anything and says so', async () => {
    const input = maintenance({ gateway: 'payu_mw2' }, HOUR, HOUR);
    const handle = await start(input);
    await eventuallyStatus(input.downtimeId, 'scheduled');
    const view = await handle.executeUpdate(cancelUpdate, { args: [{ by: 'amy', reason: 'postponed by PayU' }] });
    expect(view.status).toBe('cancelled');
    expect((await handle.result()).endReason).toBe('cancelled');
    expect(await recordOf(input.downtimeId)).toMatchObject({ status: 'cancelled', endReason: 'cancelled', resolvedBy: 'amy' });
    expect((await recordOf(input.downtimeId))?.disabledAt).toBeUndefined();
    expect(await eventsOf(input.downtimeId)).toEqual(['downtime.scheduled', 'downtime.cancelled']);
  });

  test('detection finding the scope failing first begins it at once', async () => {
    const input = maintenance({ gateway: 'payu_mw3' }, 3 * HOUR, HOUR);
    const handle = await start(input);
    await eventuallyStatus(input.downtimeId, 'scheduled');
    await handle.signal(evidenceSignal, { ...detectionEvidence(clock), trafficShare: 0.2 });
    await eventuallyStatus(input.downtimeId, 'open');
    expect((await recordOf(input.downtimeId))!.disabledAt!.getTime()).toBeLessThan(input.startsAt!);
    await handle.terminate('test done');
  });
});

test('a SEV1 closes with its review due REVIEW_DUE_AFTER later; left unreviewed, ops are told once when it falls due', async () => {
  const input = inputFor({ gateway: 'payu_review' }, { evidence: { at: clock, attempts: 500, windowMs: config.detection.windowMs, successes: 20, rate: 0.04, baseline: 0.95, threshold: 0.8, trafficShare: 0.5 } });
  const handle = await start(input);
  await untilProbing(handle);
  await handle.executeUpdate(resolveUpdate, { args: [{ by: 'amy' }] });
  const result = await handle.result();
  expect(result.severity).toBe('SEV1');
  const incident = (await db.c.incidents.findOne({ _id: input.downtimeId }))!;
  expect(incident.reviewDueAt!.getTime()).toBe(incident.resolvedAt!.getTime() + config.reviewDueAfterMs);

  const due = incident.reviewDueAt!.getTime();
  // Other tests' SEV1/SEV2 incidents share the database: only this one is left to remind.
  await db.c.incidents.updateMany({ _id: { $ne: input.downtimeId } }, { $set: { reviewReminded: true } });
  expect(await activities.remindOverdueReviews(due - 1)).toBe(0);
  expect(await activities.remindOverdueReviews(due)).toBeGreaterThanOrEqual(1);
  // The next sweep, or a second worker's: nothing more.
  await activities.remindOverdueReviews(due + MIN);
  expect(await db.c.notifications.countDocuments({ downtimeId: input.downtimeId, event: 'review.overdue' })).toBe(1);
  expect(await activities.remindReview({ incidentId: input.downtimeId, at: due + MIN })).toBe(false);
});

test('a reviewed incident is not raised when its review falls due', async () => {
  const input = inputFor({ gateway: 'payu_reviewed' });
  await db.c.incidents.updateMany({ reviewDueAt: { $exists: true } }, { $set: { reviewReminded: true } });
  await db.c.incidents.insertOne({ _id: input.downtimeId, downtimeId: input.downtimeId, scopeKey: input.scopeKey, title: 't', severity: 'SEV1', status: 'resolved', stage: 'reviewed', openedAt: new Date(clock), resolvedAt: new Date(clock), escalations: [], reviewDueAt: new Date(clock), review: { by: 'amy', at: new Date(clock), cause: 'c', lessons: ['l'], impact: { from: new Date(clock), to: new Date(clock), attempts: 0, failed: 0 } } });
  expect(await activities.remindOverdueReviews(clock + MIN)).toBe(0);
  expect(await activities.remindReview({ incidentId: input.downtimeId, at: clock + MIN })).toBe(false);
  expect(await db.c.notifications.countDocuments({ downtimeId: input.downtimeId, event: 'review.overdue' })).toBe(0);
});

test('a resolved problem reopens when its scope goes down again', async () => {
  const input = inputFor({ gateway: 'payu_problem' });
  await db.c.problems.insertOne({ _id: `pb_${input.downtimeId}`, scopeKey: input.scopeKey, scope: input.scope, status: 'resolved', openedAt: new Date(clock - 10 * 86_400_000), resolvedAt: new Date(clock - 86_400_000), rootCause: 'payu fixed it', downtimeIds: ['a', 'b', 'c'] });
  await db.c.downtimes.insertOne({ _id: input.downtimeId, scope: input.scope, scopeKey: input.scopeKey, origin: 'detected', reason: 'r', openedBy: 'detection', status: 'resolved', phase: 'resolved', openedAt: new Date(clock), expiresAt: new Date(clock), probePercent: 10, severity: 'SEV3', baseline: 0.95, threshold: 0.8, workflowId: 'x', updatedAt: new Date(clock) });
  for (let i = 0; i < 2; i++) {
    expect((await activities.recordRecurrence({ downtimeId: input.downtimeId, scope: input.scope, scopeKey: input.scopeKey, at: clock + MIN })).reopened).toBe(i === 0 ? true : undefined);
  }
  const problem = await db.c.problems.findOne({ _id: `pb_${input.downtimeId}` });
  expect(problem).toMatchObject({ status: 'open', downtimeIds: ['a', 'b', 'c', input.downtimeId] });
  expect(problem?.reopenedAt).toHaveLength(1);
  expect(await db.c.notifications.countDocuments({ event: 'problem.reopened', downtimeId: input.downtimeId })).toBe(1);
});
