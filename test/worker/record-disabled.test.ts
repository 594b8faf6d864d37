/**
 * recordDowntime given `disabledAt` (the RECORD_DISABLED_LOCALLY path of the downtime workflow):
 * one step writes the record already disabled for bucket A, opens the incident and both timeline
 * entries, against the real database, once however often it is retried or wherever a try stopped.
 */
import { createActivities } from '../../activities';
import type { Config } from '../../common/config';
import type { Database } from '../../db/mongo';
import { openDowntimes } from '../../db/queries';
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

test('records the downtime already disabled, its incident and both timeline entries, once under retries', async () => {
  const openedAt = Date.now() - 5_000;
  const disabledAt = openedAt + 1_000;
  const input = downtimeInput(config, { method: 'upi:phonepe', gateway: 'payu' }, openedAt);
  for (let i = 0; i < 3; i++) await activities.recordDowntime(input, 'SEV3', openedAt + input.policy.expiryMs, disabledAt);

  const records = await db.c.downtimes.find({ _id: input.downtimeId }).toArray();
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ status: 'open', phase: 'probing', disabledAt: new Date(disabledAt), updatedAt: new Date(disabledAt), openedAt: new Date(openedAt) });
  expect(await db.c.incidents.countDocuments({ _id: input.downtimeId, status: 'open' })).toBe(1);
  expect(await timelineOf(input.downtimeId)).toEqual(['disabled', 'opened']);
  // What the checkout snapshot reads: the open downtime, with the time it was disabled.
  const open = (await openDowntimes(db)).find((d) => d._id === input.downtimeId);
  expect(open?.disabledAt?.getTime()).toBe(disabledAt);
});

test('a retry completes a try that stopped between its writes', async () => {
  const openedAt = Date.now() - 5_000;
  const input = downtimeInput(config, { method: 'upi:bhim' }, openedAt);
  // A first try that got the record in (not yet disabled) and one timeline entry, then died.
  await activities.recordDowntime(input, 'SEV3', openedAt + input.policy.expiryMs);
  expect(await timelineOf(input.downtimeId)).toEqual(['opened']);

  await activities.recordDowntime(input, 'SEV3', openedAt + input.policy.expiryMs, openedAt + 2_000);
  expect(await db.c.downtimes.findOne({ _id: input.downtimeId })).toMatchObject({ phase: 'probing', disabledAt: new Date(openedAt + 2_000) });
  expect(await timelineOf(input.downtimeId)).toEqual(['disabled', 'opened']);
  expect(await db.c.incidents.countDocuments({ _id: input.downtimeId })).toBe(1);
});

test('without disabledAt it records the downtime as before, still to be disabled', async () => {
  const openedAt = Date.now() - 5_000;
  const input = downtimeInput(config, { method: 'card:visa', gateway: 'razorpay' }, openedAt);
  await activities.recordDowntime(input, 'SEV3', openedAt + input.policy.expiryMs);
  const record = await db.c.downtimes.findOne({ _id: input.downtimeId });
  expect(record).toMatchObject({ status: 'open', phase: 'disabling' });
  expect(record).not.toHaveProperty('disabledAt');
  await activities.disableScope(input.downtimeId, openedAt + 1_000);
  expect(await db.c.downtimes.findOne({ _id: input.downtimeId })).toMatchObject({ phase: 'probing', disabledAt: new Date(openedAt + 1_000) });
  expect(await timelineOf(input.downtimeId)).toEqual(['disabled', 'opened']);
});
