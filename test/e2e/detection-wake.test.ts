/**
 * End to end, on the real Temporal dev server and the real database: with no Schedule at all,
 * the failures the checkout posts wake detection through the API, and the failing bank's downtime
 * opens within seconds. What must not wake it does not: healthy traffic, the user's own failures,
 * a late batch of old failures, and failures on a route a downtime already covers.
 */
import { randomBytes } from 'node:crypto';
import { detectionWakeWorkflowId, type DetectionResult } from '../../common/definitions';
import type { TransactionRecord } from '../../common/transaction';
import { KEYS } from '../support/stack';
import { DowntimeBody, E2eStack, attempts, eventually, startStack } from './support';

jest.setTimeout(90_000);

const BANK = { method: `netbanking:woken_${randomBytes(3).toString('hex')}`, gateway: 'payu' };
const UPI = { method: 'upi:phonepe', gateway: 'payu' };
const SCOPE_KEY = `${BANK.method}@*`;
const GAP_MS = 500;

let stack: E2eStack;

beforeAll(async () => {
  stack = await startStack({ SNAPSHOT_REFRESH: '200ms', DETECTION_WAKE_GAP: `${GAP_MS}ms` });
  stack.started(SCOPE_KEY);
  const catalog = await stack.api.put('/v1/catalog', KEYS.admin, { methods: [{ method: BANK.method, gateways: ['payu'] }, { method: UPI.method, gateways: ['payu'] }] });
  expect(catalog.status).toBe(200);
});

afterAll(async () => {
  await stack?.close();
});

async function post(txs: TransactionRecord[]): Promise<void> {
  const res = await stack.api.post<{ accepted: number }>('/v1/transactions', KEYS.ingest, { transactions: txs });
  expect(res.status).toBe(202);
  expect(res.body.accepted).toBe(txs.length);
}

/** detection_wakes_total over every result, from the API's /metrics. */
async function wakes(): Promise<number> {
  const text = (await stack.api.get<string>('/metrics')).body;
  return [...text.matchAll(/^detection_wakes_total\{result="\w+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

const openDowntimes = async () => (await stack.api.get<{ downtimes: DowntimeBody[] }>('/v1/downtimes?status=open', KEYS.operator)).body.downtimes;

test('a failing bank opens its downtime from the ingest alone, and only a system failure on an uncovered route wakes detection', async () => {
  const now = Date.now();
  // Healthy history and traffic, a user's failure among them, and a late batch of old system failures.
  await post([
    ...attempts('base', BANK, 60, now - 90_000, now - 1_000, (i) => (i % 10 === 3 ? 'INVALID_OTP' : undefined)),
    ...attempts('base', UPI, 60, now - 90_000, now - 1_000, (i) => (i % 8 === 1 ? 'USER_CANCELLED' : undefined)),
    ...attempts('late', BANK, 5, now - 60_000, now - 50_000, () => 'GATEWAY_TIMEOUT'),
  ]);
  expect(await wakes()).toBe(0);

  // The bank goes down: one batch of its failures wakes detection, which opens the downtime.
  await post(attempts('outage', BANK, 40, now - 6_000, Date.now(), (i) => (i % 12 === 0 ? undefined : 'BANK_UNAVAILABLE')));
  const opened = await eventually('the bank\'s downtime is open', async () => (await openDowntimes()).find((d) => d.scopeKey === SCOPE_KEY), { timeoutMs: 15_000, intervalMs: 200 });
  expect(opened).toMatchObject({ origin: 'detected', scope: { method: BANK.method } });
  expect(await wakes()).toBe(1);
  // The woken run is the detection workflow, which a person finds in the Web UI by its id.
  const result: DetectionResult = await stack.temporal.client.workflow.getHandle(detectionWakeWorkflowId).result();
  expect(result.started).toEqual([SCOPE_KEY]);

  // Once the downtime covers the bank (the API's snapshot shows it disabled), its failures are its actor's, not detection's.
  await eventually('the API sees the downtime', async () => (stack.app.deps.snapshot.current.downtimes.some((d) => d.id === opened.id) ? true : undefined));
  await new Promise((r) => setTimeout(r, GAP_MS));
  const at = Date.now();
  await post(attempts('covered', BANK, 5, at, at, () => 'BANK_UNAVAILABLE'));
  expect(await wakes()).toBe(1);
});
