/**
 * End to end on the real stack: maintenance of PayU scheduled 30 s ahead for 15 s. It is answered
 * and shown as scheduled at once (API, status page in a real browser) while the checkout still
 * offers PayU; it begins on time (bucket A no longer sees PayU) and ends on time (completed).
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { KEYS } from '../support/stack';
import { launchChromium } from '../support/browser';
import { DowntimeBody, E2eStack, PaymentOptionsBody, eventually, startStack, userInBucket } from './support';

jest.setTimeout(150_000);

const SCREENSHOT = join(__dirname, '..', '..', 'test-results', 'status-page-maintenance.png');
let stack: E2eStack;
let browser: Browser | undefined;

beforeAll(async () => {
  stack = await startStack({ SNAPSHOT_REFRESH: '200ms' });
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

test('maintenance scheduled 30 s ahead is shown at once, begins on time and ends on time', async () => {
  expect((await stack.api.put('/v1/catalog', KEYS.admin, { methods: [{ method: 'upi:gpay', gateways: ['payu'] }, { method: 'card:visa', gateways: ['razorpay'] }] })).status).toBe(200);
  const startsAt = Date.now() + 30_000;
  const until = startsAt + 15_000;
  const res = await stack.api.post<{ id: string; scopeKey: string; status: string }>('/v1/downtimes', KEYS.operator, {
    scope: { gateway: 'payu' },
    reason: 'PayU database upgrade',
    by: 'amy',
    startsAt: new Date(startsAt).toISOString(),
    until: new Date(until).toISOString(),
  });
  expect(res.status).toBe(202);
  expect(res.body.status).toBe('scheduled');
  stack.started(res.body.scopeKey);
  const id = res.body.id;

  // Scheduled: listed so, and on the status page; nothing hidden yet.
  const scheduled = await stack.api.get<DowntimeBody & { startsAt: string }>(`/v1/downtimes/${id}`, KEYS.operator);
  expect(scheduled.body).toMatchObject({ status: 'scheduled', startsAt: new Date(startsAt).toISOString() });
  const options = await stack.api.get<PaymentOptionsBody>('/v1/payment-options?userId=u_before', KEYS.checkout);
  expect(options.body.options.map((o) => o.method)).toContain('upi:gpay');
  await stack.app.deps.snapshot.refreshNow();
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(`${stack.api.base}/status`);
  const maintenance = page.locator('h2', { hasText: /^Scheduled maintenance$/ }).locator('xpath=following-sibling::div[1]');
  await expect(maintenance.locator('.name').first().textContent()).resolves.toBe('gateway payu maintenance');
  await expect(maintenance.textContent()).resolves.toContain('PayU database upgrade');
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  // A second maintenance of the same scope is refused with the first one's id.
  const again = await stack.api.post<{ downtimeId: string }>('/v1/downtimes', KEYS.operator, { scope: { gateway: 'payu' }, reason: 'again', startsAt: new Date(startsAt).toISOString(), until: new Date(until).toISOString() });
  expect(again.status).toBe(409);
  expect(again.body.downtimeId).toBe(id);

  // Begins on time: open, and bucket A no longer sees PayU.
  const opened = await eventually('the maintenance begins', async () => {
    const d = await stack.api.get<DowntimeBody & { disabledAt: string }>(`/v1/downtimes/${id}`, KEYS.operator);
    return d.body.status === 'open' ? d.body : undefined;
  }, { timeoutMs: 45_000 });
  const began = Date.parse(opened.disabledAt);
  expect(began).toBeGreaterThanOrEqual(startsAt);
  expect(began - startsAt).toBeLessThan(5_000);
  const userA = userInBucket('maint', id, 'A', [opened.probePercent]);
  await eventually('bucket A no longer sees PayU', async () => {
    const o = await stack.api.get<PaymentOptionsBody>(`/v1/payment-options?userId=${userA}`, KEYS.checkout);
    return o.body.options.every((x) => x.gateway !== 'payu') ? o : undefined;
  });

  // Ends on time: completed, within a probe interval of `until`.
  const ended = await eventually('the maintenance ends', async () => {
    const d = await stack.api.get<DowntimeBody & { resolvedAt: string }>(`/v1/downtimes/${id}`, KEYS.operator);
    return d.body.status === 'resolved' ? d.body : undefined;
  }, { timeoutMs: 45_000 });
  expect(ended.endReason).toBe('completed');
  const endedAt = Date.parse(ended.resolvedAt);
  expect(endedAt).toBeGreaterThanOrEqual(until);
  expect(endedAt - until).toBeLessThan(stack.config.probe.intervalMs + 5_000);
});
