/**
 * The public status page in a real browser: the API on a real socket over the real database,
 * an open downtime with its incident, and Chromium reading /status as a merchant would.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import type { DowntimeDoc } from '../../db/mongo';
import { scopeLabel } from '../../domain';
import { Harness, putCatalog, startApi } from '../api/harness';
import { eventually, httpClient, listen } from './support';
import { launchChromium } from '../support/browser';

jest.setTimeout(120_000);

const SCREENSHOT = join(__dirname, '..', '..', 'test-results', 'status-page.png');
const MIN = 60_000;
const DAY = 86_400_000;

let h: Harness;
let base: string;
let browser: Browser | undefined;
let page: Page;

function downtimeDoc(p: Partial<DowntimeDoc> & Pick<DowntimeDoc, '_id' | 'scope' | 'scopeKey' | 'openedAt'>): DowntimeDoc {
  return {
    origin: 'detected',
    reason: 'success rate below baseline',
    openedBy: 'detection',
    status: 'open',
    phase: 'probing',
    expiresAt: new Date(p.openedAt.getTime() + 30 * MIN),
    probePercent: 10,
    severity: 'SEV3',
    baseline: 0.95,
    threshold: 0.8075,
    workflowId: `downtime:${p.scopeKey}`,
    updatedAt: p.openedAt,
    ...p,
  };
}

beforeAll(async () => {
  h = await startApi();
  base = await listen(h.app);
  await putCatalog(h, [
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'] },
    { method: 'netbanking:sbi', gateways: ['payu'] },
    { method: 'card:hdfc_debit', gateways: ['razorpay'] },
  ]);

  // Open for 45 minutes: the bank behind netbanking:sbi is down, hidden at checkout since a second after detection.
  const now = Date.now();
  const openedAt = new Date(now - 45 * MIN);
  const scope = { method: 'netbanking:sbi', mode: 'netbanking' };
  const reason = 'success rate 6.7% over 45 attempts, below 80.8% (baseline 95.0%)';
  await h.db.c.downtimes.insertOne(
    downtimeDoc({ _id: 'dt_e2e_sbi', scope, scopeKey: 'netbanking:sbi@*', openedAt, disabledAt: new Date(openedAt.getTime() + 1_000), severity: 'SEV2', reason }),
  );
  await h.db.c.incidents.insertOne({
    _id: 'dt_e2e_sbi',
    downtimeId: 'dt_e2e_sbi',
    scopeKey: 'netbanking:sbi@*',
    title: `${scopeLabel(scope)} unavailable`,
    severity: 'SEV2',
    status: 'open',
    openedAt,
    escalations: [],
  });
  const at = (ms: number) => new Date(openedAt.getTime() + ms);
  await h.db.c.timeline.insertMany([
    { _id: 'dt_e2e_sbi:opened', incidentId: 'dt_e2e_sbi', at: at(0), kind: 'opened', text: `Downtime opened by detection: ${reason}`, by: 'detection' },
    { _id: 'dt_e2e_sbi:disabled', incidentId: 'dt_e2e_sbi', at: at(1_000), kind: 'disabled', text: 'Hidden at checkout for bucket A; bucket B keeps it as a probe' },
    { _id: 'dt_e2e_sbi:page:1:timeline', incidentId: 'dt_e2e_sbi', at: at(1_000), kind: 'paged', text: 'Paged on-call (SEV2, page #1)' },
  ]);

  // Three days ago, upi:gpay through payu was down for six hours, and recovered.
  const pastOpened = new Date(Math.floor(now / DAY) * DAY - 3 * DAY + 6 * 3_600_000);
  const pastResolved = new Date(pastOpened.getTime() + 6 * 3_600_000);
  const pastScope = { method: 'upi:gpay', mode: 'upi', gateway: 'payu' };
  await h.db.c.downtimes.insertOne(
    downtimeDoc({ _id: 'dt_e2e_gpay', scope: pastScope, scopeKey: 'upi:gpay@payu', openedAt: pastOpened, disabledAt: pastOpened, status: 'resolved', phase: 'resolved', resolvedAt: pastResolved, endReason: 'recovered' }),
  );
  await h.db.c.incidents.insertOne({
    _id: 'dt_e2e_gpay',
    downtimeId: 'dt_e2e_gpay',
    scopeKey: 'upi:gpay@payu',
    title: `${scopeLabel(pastScope)} unavailable`,
    severity: 'SEV3',
    status: 'resolved',
    openedAt: pastOpened,
    resolvedAt: pastResolved,
    endReason: 'recovered',
    escalations: [],
  });
  await h.db.c.timeline.insertOne({ _id: 'dt_e2e_gpay:closed', incidentId: 'dt_e2e_gpay', at: pastResolved, kind: 'resolved', text: 'Re-enabled: probe proved recovery', by: 'system' });

  // The status page is built from the snapshot: read the new history now rather than on the next cycle.
  h.app.deps.snapshot.invalidateHistory();
  await h.app.deps.snapshot.refreshNow();
  const api = httpClient(base);
  await eventually('the public status shows the open incident', async () => {
    const res = await api.get<{ incidents: { id: string }[] }>('/v1/status');
    return res.body.incidents.some((i) => i.id === 'dt_e2e_sbi') ? res : undefined;
  });

  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

/** The section under the heading `heading`. */
const section = (heading: string): Locator => page.locator('h2', { hasText: new RegExp(`^${heading}$`) }).locator('xpath=following-sibling::div[1]');

/** The row of one component in a section. */
const row = (heading: string, name: string): Locator => section(heading).locator('.row').filter({ has: page.locator('.name', { hasText: new RegExp(`^${name}$`) }) });

/** The background colour the browser computed for the element (the test runs without the DOM typings). */
const background = (l: Locator) =>
  l.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor);

test('a merchant opening /status sees the outage of netbanking:sbi, healthy gateways as operational, the ongoing incident with its timeline, and 90 days of uptime per gateway', async () => {
  const res = await page.goto(`${base}/status`);
  expect(res?.status()).toBe(200);
  expect(await page.title()).toBe('Payments status');

  // The banner says something is wrong, in red, before anything else.
  const banner = page.locator('.banner');
  await expect(banner.textContent()).resolves.toMatch(/outage/i);
  expect(await banner.textContent()).not.toMatch(/all systems operational/i);
  expect(await background(banner)).toBe('rgb(207, 34, 46)');
  expect(await page.locator('.meta').textContent()).toMatch(/^Updated \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);

  // Components: the bank's method is out; what does not depend on it is operational.
  expect((await row('Payment methods', 'netbanking:sbi').locator('.badge').textContent())?.trim()).toBe('Major outage');
  expect(await row('Payment methods', 'upi:gpay').locator('.badge').textContent()).toBe('Operational');
  expect(await row('Payment methods', 'card:hdfc_debit').locator('.badge').textContent()).toBe('Operational');
  expect(await row('Gateways', 'razorpay').locator('.badge').textContent()).toBe('Operational');
  expect(await row('Gateways', 'payu').locator('.badge').textContent()).toMatch(/outage|degraded/i);
  expect(await row('Payment modes', 'netbanking').locator('.badge').textContent()).toMatch(/outage/i);
  expect(await row('Payment modes', 'card').locator('.badge').textContent()).toBe('Operational');

  // The ongoing incident, with its public timeline and without internal paging.
  const ongoing = section('Ongoing incidents');
  await expect(ongoing.locator('.incident .name').allTextContents()).resolves.toEqual(['netbanking:sbi on all gateways unavailable']);
  await expect(ongoing.locator('.incident .badge').textContent()).resolves.toBe('SEV2 · Ongoing');
  const entries = await ongoing.locator('.incident li').allTextContents();
  expect(entries).toEqual([
    expect.stringMatching(/UTC\s*Hidden at checkout for bucket A/),
    expect.stringMatching(/UTC\s*Downtime opened by detection: success rate 6\.7% over 45 attempts/),
  ]);
  expect(await page.locator('body').innerText()).not.toMatch(/Paged|on-call/);
  await expect(section('Past incidents \\(7 days\\)').locator('.incident .name').allTextContents()).resolves.toEqual(['upi:gpay via payu unavailable']);

  // 90 daily bars per gateway, visibly drawn: razorpay all green; payu red today and marked three days ago.
  const gateways = section('Gateways').locator('.row');
  await expect(gateways.locator('.name').allTextContents()).resolves.toEqual(['razorpay', 'payu']);
  for (const name of ['razorpay', 'payu']) {
    const bars = row('Gateways', name).locator('.bars span');
    expect(await bars.count()).toBe(90);
    const box = await bars.first().boundingBox();
    expect(box?.width).toBeGreaterThan(2);
    expect(box?.height).toBeGreaterThan(20);
    await expect(row('Gateways', name).locator('.axis').textContent()).resolves.toMatch(/90 days ago.*uptime.*Today/);
  }
  const razorpayBars = await row('Gateways', 'razorpay').locator('.bars span').evaluateAll((els) => els.map((e) => e.className));
  expect(new Set(razorpayBars)).toEqual(new Set(['u-full']));
  expect(await background(row('Gateways', 'razorpay').locator('.bars span').last())).toBe('rgb(45, 164, 78)');
  const payuBars = row('Gateways', 'payu').locator('.bars span');
  expect(await payuBars.nth(89).getAttribute('class')).not.toBe('u-full');
  expect(await payuBars.nth(86).getAttribute('class')).toBe('u-major');
  expect(await payuBars.nth(86).getAttribute('title')).toMatch(/75\.00% uptime$/);

  mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
});
