/**
 * The start of a downtime against the real database. openDowntime writes the record already
 * disabled for bucket A, the incident, the timeline, the ops notification with its webhook event,
 * and the page. Each happens once however often the step is retried or wherever
 * a try stopped.
 */
import { createActivities } from '../../activities';
import type { Config } from '../../common/config';
import type { Database } from '../../db/mongo';
import { openDowntimes } from '../../db/queries';
import type { DowntimeInput } from '../../common/definitions';
import { downtimeInput } from '../support/downtime-input';
import { testConfig, testDatabase } from '../support/stack';

let config: Config;
let db: Database;
let activities: ReturnType<typeof createActivities>;

beforeAll(async () => {
  config = testConfig();
  db = await testDatabase(config);
  activities = createActivities({ db, config, temporal: { client: undefined as never, taskQueue: 'unused' }, now: Date.now });
});

afterAll(async () => {
  await db?.db.dropDatabase();
  await db?.close();
});

async function timelineOf(downtimeId: string): Promise<string[]> {
  return (await db.c.timeline.find({ incidentId: downtimeId }).toArray()).map((t) => t.kind).sort();
}

async function notificationsOf(downtimeId: string): Promise<string[]> {
  return (await db.c.notifications.find({ downtimeId }).toArray()).map((n) => `${n.channel}:${n.event}`).sort();
}

function announcement(input: DowntimeInput, at: number, paged: boolean) {
  return {
    notify: { key: `${input.downtimeId}:started`, downtimeId: input.downtimeId, event: 'started' as const, type: 'downtime.started' as const, text: 'down', at: input.openedAt, data: { id: input.downtimeId } },
    page: paged ? { downtimeId: input.downtimeId, severity: 'SEV1' as const, n: 1, at, text: 'down' } : undefined,
  };
}

test('openDowntime writes the whole start once under retries: record disabled, incident, timeline, notifications, webhook delivery, page', async () => {
  const openedAt = Date.now() - 5_000;
  const disabledAt = openedAt + 500;
  const input = downtimeInput(config, { method: 'netbanking:axis' }, openedAt);
  const subscription = `wh_${input.downtimeId}`;
  await db.c.webhooks.insertOne({ _id: subscription, url: 'http://127.0.0.1:9/hook', events: ['downtime.started'], secret: 'test-secret', createdAt: new Date() });
  try {
    for (let i = 0; i < 3; i++) await activities.openDowntime(input, 'SEV1', openedAt + input.policy.expiryMs, disabledAt, announcement(input, disabledAt, true));

    expect(await db.c.downtimes.findOne({ _id: input.downtimeId })).toMatchObject({ status: 'open', phase: 'probing', disabledAt: new Date(disabledAt), severity: 'SEV1' });
    expect(await db.c.incidents.countDocuments({ _id: input.downtimeId, status: 'open' })).toBe(1);
    expect(await timelineOf(input.downtimeId)).toEqual(['disabled', 'downtime.started', 'opened', 'paged']);
    expect(await notificationsOf(input.downtimeId)).toEqual(['ops:downtime.started', 'page:page.SEV1']);
    expect(await db.c.webhookEvents.countDocuments({ downtimeId: input.downtimeId })).toBe(1);
    const deliveries = await db.c.deliveries.find({ eventId: `${input.downtimeId}:started` }).toArray();
    expect(deliveries.map((d) => [d.channel, d.receiver, d.status])).toEqual([['webhook', subscription, 'pending']]);
  } finally {
    await db.c.webhooks.deleteOne({ _id: subscription });
  }
});

test('openDowntime completes a try that stopped after some of its writes, and pages only when asked', async () => {
  const openedAt = Date.now() - 5_000;
  const disabledAt = openedAt + 500;
  const input = downtimeInput(config, { method: 'netbanking:kotak' }, openedAt);
  await activities.openDowntime(input, 'SEV3', openedAt + input.policy.expiryMs, disabledAt, announcement(input, disabledAt, false));
  // As if the first try had got the record and the timeline in, then died.
  await db.c.incidents.deleteOne({ _id: input.downtimeId });
  await db.c.notifications.deleteOne({ _id: `${input.downtimeId}:started:ops` });

  await activities.openDowntime(input, 'SEV3', openedAt + input.policy.expiryMs, disabledAt, announcement(input, disabledAt, false));
  expect(await db.c.downtimes.countDocuments({ _id: input.downtimeId, disabledAt: new Date(disabledAt) })).toBe(1);
  expect(await db.c.incidents.countDocuments({ _id: input.downtimeId, status: 'open' })).toBe(1);
  expect(await timelineOf(input.downtimeId)).toEqual(['disabled', 'downtime.started', 'opened']);
  expect(await notificationsOf(input.downtimeId)).toEqual(['ops:downtime.started']);
  // What the checkout snapshot reads: the open downtime, with the time it was disabled.
  const open = (await openDowntimes(db)).find((d) => d._id === input.downtimeId);
  expect(open?.disabledAt?.getTime()).toBe(disabledAt);
});
