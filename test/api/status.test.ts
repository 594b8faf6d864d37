/** The public status: JSON and HTML, component statuses from open downtimes, 90 days of uptime, incidents. */
import { Harness, insertDowntime, putCatalog, reset, startApi } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => h?.close());
beforeEach(async () => {
  await reset(h);
  await putCatalog(h, [
    { method: 'upi:gpay', gateways: ['razorpay', 'payu'] },
    { method: 'netbanking:sbi', gateways: ['payu'] },
    { method: 'card:visa', gateways: ['razorpay'] },
  ]);
});

const DAY = 86_400_000;

interface Component {
  name: string;
  status: string;
  uptime90d: number;
  days?: { date: string; uptime: number }[];
}
interface StatusBody {
  status: string;
  stale: boolean;
  components: { gateways: Component[]; modes: Component[]; methods: Component[] };
  incidents: { id: string; title: string; timeline: { kind: string; text: string }[] }[];
}

async function status(): Promise<StatusBody> {
  h.app.deps.snapshot.invalidateHistory();
  await h.app.deps.snapshot.refreshNow();
  const res = await h.app.inject({ method: 'GET', url: '/v1/status' });
  expect(res.statusCode).toBe(200);
  return res.json() as StatusBody;
}

const byName = (list: Component[], name: string) => list.find((c) => c.name === name)!;

test('is public and all operational with full uptime when nothing is down', async () => {
  const body = await status();
  expect(body).toMatchObject({ status: 'operational', stale: false, incidents: [] });
  expect(body.components.gateways.map((g) => g.name).sort()).toEqual(['payu', 'razorpay']);
  expect(body.components.modes.map((m) => m.name).sort()).toEqual(['card', 'netbanking', 'upi']);
  expect(body.components.methods.map((m) => m.name)).toEqual(['upi:gpay', 'netbanking:sbi', 'card:visa']);
  for (const c of [...body.components.gateways, ...body.components.methods]) expect(c).toMatchObject({ status: 'operational', uptime90d: 1 });
  const bars = byName(body.components.gateways, 'payu').days!;
  expect(bars).toHaveLength(90);
  expect(bars[89]!.date).toBe(new Date().toISOString().slice(0, 10));
  expect(bars.every((d) => d.uptime === 1)).toBe(true);
});

test('shows a method under an open downtime as a major outage, and the rest of the catalog as it is', async () => {
  await insertDowntime(h, { method: 'netbanking:sbi' }, { severity: 'SEV2', openedAt: Date.now() - 3_600_000 });
  const body = await status();
  expect(byName(body.components.methods, 'netbanking:sbi').status).toBe('major_outage');
  expect(byName(body.components.methods, 'upi:gpay').status).toBe('operational');
  expect(byName(body.components.methods, 'card:visa').status).toBe('operational');
  expect(byName(body.components.modes, 'upi').status).toBe('operational');
  // netbanking:sbi is the only netbanking method in the catalog: the whole mode is out.
  expect(byName(body.components.modes, 'netbanking').status).toBe('major_outage');
  // payu still carries upi:gpay: a part of it is out.
  expect(byName(body.components.gateways, 'payu').status).toBe('partial_outage');
  // razorpay does not carry netbanking:sbi in the catalog: untouched.
  expect(byName(body.components.gateways, 'razorpay').status).toBe('operational');
  expect(body.status).not.toBe('operational');

  // Uptime: today is partly covered for what the downtime touches, and untouched elsewhere.
  expect(byName(body.components.gateways, 'payu').days![89]!.uptime).toBeLessThan(1);
  expect(byName(body.components.modes, 'netbanking').days![89]!.uptime).toBeLessThan(1);
  expect(byName(body.components.gateways, 'razorpay').days!.every((d) => d.uptime === 1)).toBe(true);
  expect(byName(body.components.modes, 'upi').uptime90d).toBe(1);
});

test('a resolved downtime lowers the uptime of the day it covered', async () => {
  const dayStart = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
  await insertDowntime(h, { gateway: 'razorpay' }, { openedAt: dayStart + 6 * 3_600_000, resolvedAt: dayStart + 18 * 3_600_000 });
  const body = await status();
  const razorpay = byName(body.components.gateways, 'razorpay');
  expect(razorpay.status).toBe('operational');
  expect(razorpay.days![86]).toEqual({ date: new Date(dayStart).toISOString().slice(0, 10), uptime: 0.5 });
  expect(razorpay.days![85]!.uptime).toBe(1);
  expect(razorpay.uptime90d).toBeCloseTo(1 - 0.5 / 90, 5);
  expect(byName(body.components.modes, 'card').days![86]!.uptime).toBe(0.5);
  expect(byName(body.components.modes, 'netbanking').days![86]!.uptime).toBe(1);
});

test('lists open incidents with their public timeline and renders them escaped on the HTML page', async () => {
  const openedAt = new Date(Date.now() - 600_000);
  await h.db.c.incidents.insertOne({
    _id: 'dt_status1',
    downtimeId: 'dt_status1',
    scopeKey: 'netbanking:sbi@*',
    title: 'netbanking:sbi <script>alert(1)</script> unavailable',
    severity: 'SEV2',
    status: 'open',
    openedAt,
    escalations: [],
  });
  await h.db.c.timeline.insertMany([
    { _id: 'dt_status1:opened', incidentId: 'dt_status1', at: openedAt, kind: 'opened', text: 'Downtime opened: "success rate" < 50% & falling' },
    { _id: 'dt_status1:page:1', incidentId: 'dt_status1', at: openedAt, kind: 'paged', text: 'Paged on-call (SEV2, page #1)' },
  ]);
  await insertDowntime(h, { method: 'netbanking:sbi' }, { id: 'dt_status1', severity: 'SEV2' });

  const body = await status();
  expect(body.incidents).toEqual([
    expect.objectContaining({ id: 'dt_status1', timeline: [expect.objectContaining({ kind: 'opened' })] }),
  ]);

  const page = await h.app.inject({ method: 'GET', url: '/status' });
  expect(page.statusCode).toBe(200);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  const html = page.body;
  expect(html).toContain('netbanking:sbi &lt;script&gt;alert(1)&lt;/script&gt; unavailable');
  expect(html).toContain('&quot;success rate&quot; &lt; 50% &amp; falling');
  expect(html).not.toContain('<script>');
  expect(html).not.toContain('Paged on-call');
  expect(html).toMatch(/Ongoing incidents/);
  expect(html).toMatch(/Major outage/);
  expect(html).toMatch(/Legend/);
  expect((html.match(/class="bars"/g) ?? []).length).toBe(2 + 3);
});

test('serves the status without touching the database per request', async () => {
  await status();
  const snapshot = h.app.deps.snapshot;
  await snapshot.stop();
  const spies = (['downtimes', 'incidents', 'timeline', 'catalog', 'counters'] as const).map((name) => jest.spyOn(h.db.c[name], 'find'));
  try {
    for (let i = 0; i < 5; i += 1) expect((await h.app.inject({ method: 'GET', url: '/status' })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/v1/status' })).statusCode).toBe(200);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  } finally {
    for (const spy of spies) spy.mockRestore();
    await snapshot.start();
  }
});
