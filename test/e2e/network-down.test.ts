/**
 * End to end on the real stack: Visa cards of two banks fail on both gateways while Mastercard
 * works. Detection (run as the Schedule runs it) opens one downtime, of `{network: visa}` — not
 * one per card method, not the card mode — and every Mastercard stays offered to everyone.
 */
import { randomBytes } from 'node:crypto';
import type { DetectionResult } from '../../common/definitions';
import type { TransactionRecord } from '../../common/transaction';
import type { detectionWorkflow } from '../../workflows/detection';
import { KEYS } from '../support/stack';
import { DowntimeBody, E2eStack, PaymentOptionsBody, attempts, eventually, startStack, userInBucket } from './support';

jest.setTimeout(120_000);

const SCOPE_KEY = '*:*+network=visa@*';
const GATEWAYS = ['razorpay', 'payu'];
const VISA = ['card:hdfc_credit', 'card:icici_credit'];
const MASTERCARD = ['card:hdfc_debit', 'card:sbi_debit'];

let stack: E2eStack;
const suffix = randomBytes(4).toString('hex');

beforeAll(async () => {
  stack = await startStack({ SNAPSHOT_REFRESH: '200ms' });
  stack.started(SCOPE_KEY);
});
afterAll(async () => stack?.close());

async function post(txs: TransactionRecord[]): Promise<void> {
  for (let i = 0; i < txs.length; i += 1000) {
    const res = await stack.api.post('/v1/transactions', KEYS.ingest, { transactions: txs.slice(i, i + 1000) });
    expect(res.status).toBe(202);
  }
}

let runs = 0;
function detect(): Promise<DetectionResult> {
  runs += 1;
  return stack.temporal.client.workflow.execute<typeof detectionWorkflow>('detectionWorkflow', {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId: `detection-network-${suffix}-${runs}`,
    workflowExecutionTimeout: '1m',
  });
}

test('Visa failing across banks and gateways is one {network: visa} downtime, and every Mastercard stays offered', async () => {
  const attributes: Record<string, Record<string, string>> = {
    'card:hdfc_credit': { issuer: 'hdfc', network: 'visa', type: 'credit' },
    'card:icici_credit': { issuer: 'icici', network: 'visa', type: 'credit' },
    'card:hdfc_debit': { issuer: 'hdfc', network: 'mastercard', type: 'debit' },
    'card:sbi_debit': { issuer: 'sbi', network: 'mastercard', type: 'debit' },
  };
  const catalog = await stack.api.put('/v1/catalog', KEYS.admin, {
    methods: [...VISA, ...MASTERCARD].map((method) => ({ method, gateways: GATEWAYS, attributes: attributes[method] })),
    gateways: [{ gateway: 'payu', aggregator: 'juspay' }, { gateway: 'razorpay' }],
  });
  expect(catalog.status).toBe(200);

  const now = Date.now();
  const routes = [...VISA, ...MASTERCARD].flatMap((method) => GATEWAYS.map((gateway) => ({ method, gateway })));
  // A healthy baseline (90 to 30 s ago), then the outage in the detection window: Visa fails on both gateways.
  await post(routes.flatMap((r) => attempts('base', r, 40, now - 90_000, now - 30_000, (i) => (i % 20 === 3 ? 'GATEWAY_TIMEOUT' : undefined))));
  await post(
    routes.flatMap((r) =>
      attempts('outage', r, 30, now - 12_000, now - 500, (i) => (VISA.includes(r.method) ? (i % 12 === 0 ? undefined : 'NETWORK_ERROR') : i % 15 === 4 ? 'GATEWAY_TIMEOUT' : undefined)),
    ),
  );

  const results: DetectionResult[] = [];
  const opened = await eventually(
    `a downtime for ${SCOPE_KEY} is open`,
    async () => {
      results.push(await detect());
      const open = await stack.api.get<{ downtimes: DowntimeBody[] }>('/v1/downtimes?status=open', KEYS.operator);
      return open.body.downtimes.find((d) => d.scopeKey === SCOPE_KEY);
    },
    { timeoutMs: 30_000, intervalMs: stack.config.detection.intervalMs, describe: () => results },
  );
  // One downtime: not one per Visa card method, not the card mode, not a gateway.
  expect(results.flatMap((r) => r.started)).toEqual([SCOPE_KEY]);
  const open = await stack.api.get<{ downtimes: DowntimeBody[] }>('/v1/downtimes?status=open', KEYS.operator);
  expect(open.body.downtimes.map((d) => d.scopeKey)).toEqual([SCOPE_KEY]);
  expect(opened.scope).toEqual({ network: 'visa' });

  // A bucket-A user loses the Visa cards and keeps every Mastercard on its first gateway.
  const user = userInBucket(`visa_${suffix}`, opened.id, 'A', [opened.probePercent]);
  const options = await eventually('the checkout hides Visa', async () => {
    const o = (await stack.api.get<PaymentOptionsBody>(`/v1/payment-options?userId=${user}`, KEYS.checkout)).body;
    return o.unavailable.length === 2 ? o : undefined;
  });
  expect(options.unavailable.map((u) => u.method).sort()).toEqual(VISA);
  expect(options.unavailable.every((u) => u.downtimeId === opened.id)).toBe(true);
  expect(options.options.map((o) => `${o.method}@${o.gateway}:${o.state}`).sort()).toEqual(MASTERCARD.map((m) => `${m}@razorpay:available`).sort());

  // The status page shows the network as affected.
  const status = await stack.api.get<{ components: { attributes: Record<string, { name: string; status: string }[]> } }>('/v1/status', KEYS.checkout);
  expect(status.body.components.attributes.network).toEqual([expect.objectContaining({ name: 'visa', status: 'major_outage' })]);
});
