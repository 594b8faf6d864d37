/**
 * The public status: per gateway, mode and method (and each issuer, card network, UPI app and
 * aggregator that is or was affected) the current status (from the open downtimes)
 * and 90 days of daily uptime (the share of each day covered by a downtime whose scope touches
 * the component), open and recent incidents with their public timelines. Computed from the
 * snapshot and cached per snapshot generation: no database read per request.
 */
import { componentStatus, modeOf, scopeLabel, scopeMatchesRoute } from '../domain';
import type { ComponentStatus, Scope, Topology } from '../domain';
import { STATUS_HISTORY_DAYS } from './snapshot';
import type { HistoricDowntime, Route, Snapshot, SnapshotData, StatusIncident } from './snapshot';

export type ComponentState = ComponentStatus;
/** A gateway, a mode, a method, an aggregator, or a method attribute (issuer, network, psp...). */
export type ComponentKind = string;

export interface DayUptime {
  /** UTC day, YYYY-MM-DD. */
  date: string;
  /** Share of the day (so far, for today) not covered by a downtime touching the component. */
  uptime: number;
}

export interface ComponentView {
  name: string;
  kind: ComponentKind;
  status: ComponentState;
  /** Share of the last 90 days not covered by a downtime touching the component. */
  uptime90d: number;
  days?: DayUptime[];
}

export interface StatusView {
  status: ComponentState;
  updatedAt: string | null;
  stale: boolean;
  components: {
    gateways: ComponentView[];
    modes: ComponentView[];
    methods: ComponentView[];
    /** Only those a downtime touches or touched in the last 90 days. */
    aggregators: ComponentView[];
    /** By attribute (issuer, network, type, psp...): only values a downtime touches or touched. */
    attributes: Record<string, ComponentView[]>;
  };
  /** Planned maintenance announced and not yet begun, soonest first. */
  maintenance: { id: string; title: string; startsAt: string; until?: string; reason: string }[];
  incidents: {
    id: string;
    title: string;
    severity: string;
    status: 'open' | 'resolved';
    openedAt: string;
    timeline: { at: string; kind: string; text: string }[];
  }[];
}

const DAY_MS = 86_400_000;
/** Headings of the method-attribute sections (a configured attribute is headed by its name). */
const ATTRIBUTE_HEADINGS: Record<string, string> = { issuer: 'Banks', network: 'Card networks', type: 'Card types', psp: 'UPI apps' };
const RANK: Record<ComponentState, number> = { operational: 0, degraded: 1, partial_outage: 2, major_outage: 3 };
const LABEL: Record<ComponentState, string> = {
  operational: 'Operational',
  degraded: 'Degraded performance',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
};
const BANNER: Record<ComponentState, string> = {
  operational: 'All systems operational',
  degraded: 'Some payment methods are degraded',
  partial_outage: 'Partial outage: some payment methods are affected',
  major_outage: 'Major outage: some payment methods are unavailable',
};
/** Timeline entries that are internal to operations and not shown publicly. */
const PRIVATE_KINDS = /^(page|paged|partner|acknowledged|escalat|extended|probe-share|still-failing)/;

const worst = (states: ComponentState[]): ComponentState => states.reduce<ComponentState>((w, s) => (RANK[s] > RANK[w] ? s : w), 'operational');

/** Does a downtime of `scope` touch `component`: some catalog route lies in both? */
function touches(scope: Scope, component: Scope, routes: readonly Route[], topo: Topology): boolean {
  return routes.some((r) => scopeMatchesRoute(scope, r, topo) && scopeMatchesRoute(component, r, topo));
}

/** Does a downtime of `scope` reach every catalog route of `component`? */
function coversAllRoutes(scope: Scope, component: Scope, routes: readonly Route[], topo: Topology): boolean {
  const own = routes.filter((r) => scopeMatchesRoute(component, r, topo));
  return own.length > 0 && own.every((r) => scopeMatchesRoute(scope, r, topo));
}

/** Milliseconds of [from, to) covered by the union of the intervals. */
function coveredMs(intervals: readonly [number, number][], from: number, to: number): number {
  const clipped = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = from;
  for (const [a, b] of clipped) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

function dailyUptime(intervals: readonly [number, number][], now: number): DayUptime[] {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const days: DayUptime[] = [];
  for (let i = STATUS_HISTORY_DAYS - 1; i >= 0; i -= 1) {
    const start = today - i * DAY_MS;
    const end = Math.min(start + DAY_MS, now);
    const length = Math.max(1, end - start);
    days.push({ date: new Date(start).toISOString().slice(0, 10), uptime: 1 - coveredMs(intervals, start, end) / length });
  }
  return days;
}

/** Builds the public status from one snapshot; pure apart from `now`. */
export function buildStatusView(data: SnapshotData, now: number, stale: boolean): StatusView {
  const routes: Route[] = data.catalog.flatMap((m) => m.gateways.map((gateway) => ({ method: m.method, gateway })));
  const gateways = [...new Set(routes.map((r) => r.gateway))];
  const methods = [...new Set(data.catalog.map((m) => m.method))];
  const modes = [...new Set(methods.map((m) => modeOf(m)))];
  const open = data.downtimes.map((d) => ({ scope: d.scope, severity: d.severity, state: d.state, probeRate: d.lastProbeRate }));
  const historyFrom = now - STATUS_HISTORY_DAYS * DAY_MS;
  const history: HistoricDowntime[] = data.history.downtimes;

  const topo = data.topology;
  const component = (kind: ComponentKind, name: string, scope: Scope, withDays: boolean): ComponentView => {
    const intervals = history
      .filter((d) => touches(d.scope, scope, routes, topo))
      .map((d) => [d.openedAt, d.resolvedAt ?? now] as [number, number]);
    const view: ComponentView = {
      name,
      kind,
      // Only downtimes reaching a route the component really has: netbanking:sbi down says
      // nothing about a gateway that does not carry it.
      // A downtime over every route the component has is an outage of the whole component,
      // even when its scope is narrower than the component's (the only netbanking bank is down).
      status: componentStatus(open.filter((d) => touches(d.scope, scope, routes, topo)).map((d) => (coversAllRoutes(d.scope, scope, routes, topo) ? { ...d, scope } : d)), scope, topo),
      uptime90d: 1 - coveredMs(intervals, historyFrom, now) / (now - historyFrom),
    };
    if (withDays) view.days = dailyUptime(intervals, now);
    return view;
  };

  // Issuers, networks, UPI apps and aggregators are shown when a downtime touches or touched them.
  const affected = (scope: Scope) => open.some((d) => touches(d.scope, scope, routes, topo)) || history.some((d) => touches(d.scope, scope, routes, topo));
  const aggregators = [...new Set(Object.values(topo.aggregators))].sort().filter((a) => affected({ aggregator: a }));
  const valuesOf = new Map<string, Set<string>>();
  for (const values of Object.values(topo.attributes)) {
    for (const [name, value] of Object.entries(values)) valuesOf.set(name, (valuesOf.get(name) ?? new Set()).add(value));
  }
  const attributes: Record<string, ComponentView[]> = {};
  for (const [name, values] of [...valuesOf].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const shown = [...values].sort().filter((v) => affected({ [name]: v }));
    if (shown.length > 0) attributes[name] = shown.map((v) => component(name, v, { [name]: v }, true));
  }
  const components = {
    gateways: gateways.map((g) => component('gateway', g, { gateway: g }, true)),
    modes: modes.map((m) => component('mode', m, { mode: m }, true)),
    methods: methods.map((m) => component('method', m, { method: m }, false)),
    aggregators: aggregators.map((a) => component('aggregator', a, { aggregator: a }, true)),
    attributes,
  };
  const all = [...components.gateways, ...components.modes, ...components.methods, ...components.aggregators, ...Object.values(attributes).flat()];
  return {
    status: worst(all.map((c) => c.status)),
    updatedAt: data.at ? new Date(data.at).toISOString() : null,
    stale,
    components,
    maintenance: data.history.maintenance.map((m) => ({
      id: m.id,
      title: `${scopeLabel(m.scope)} maintenance`,
      startsAt: new Date(m.startsAt).toISOString(),
      until: m.until !== undefined ? new Date(m.until).toISOString() : undefined,
      reason: m.reason,
    })),
    incidents: data.history.incidents.map((i: StatusIncident) => ({
      id: i.id,
      title: i.title,
      severity: i.severity,
      status: i.status,
      openedAt: new Date(i.openedAt).toISOString(),
      timeline: i.timeline
        .filter((t) => !PRIVATE_KINDS.test(t.kind))
        .map((t) => ({ at: new Date(t.at).toISOString(), kind: t.kind, text: t.text })),
    })),
  };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const pct = (x: number) => `${(Math.floor(x * 10_000) / 100).toFixed(2)}%`;

function barClass(uptime: number): string {
  if (uptime >= 1) return 'u-full';
  if (uptime >= 0.99) return 'u-minor';
  if (uptime >= 0.95) return 'u-partial';
  return 'u-major';
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328;background:#f6f8fa}
main{max-width:880px;margin:0 auto;padding:32px 16px 64px}h1{font-size:26px;margin:0 0 24px}h2{font-size:18px;margin:32px 0 12px}
.banner{border-radius:8px;padding:16px 20px;color:#fff;font-size:18px;font-weight:600;margin-bottom:8px}
.s-operational{background:#2da44e}.s-degraded{background:#d4a72c}.s-partial_outage{background:#e16f24}.s-major_outage{background:#cf222e}
.meta{color:#656d76;font-size:13px;margin-bottom:24px}.stale{color:#cf222e}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:4px 16px;margin-bottom:16px}
.row{padding:12px 0;border-bottom:1px solid #eaeef2}.row:last-child{border-bottom:0}
.head{display:flex;justify-content:space-between;align-items:center;gap:12px}.name{font-weight:600}
.badge{font-size:13px;font-weight:600}.t-operational{color:#1a7f37}.t-degraded{color:#9a6700}.t-partial_outage{color:#bc4c00}.t-major_outage{color:#cf222e}
.bars{display:flex;gap:2px;height:34px;margin:8px 0 4px}.bars span{flex:1;border-radius:2px}
.u-full{background:#2da44e}.u-minor{background:#a2d65b}.u-partial{background:#e16f24}.u-major{background:#cf222e}
.axis{display:flex;justify-content:space-between;color:#656d76;font-size:12px}
.methods{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:0 24px}
.incident{padding:12px 0;border-bottom:1px solid #eaeef2}.incident:last-child{border-bottom:0}
.incident ol{list-style:none;margin:8px 0 0;padding:0}.incident li{font-size:14px;margin:4px 0}.incident time{color:#656d76;font-size:12px;margin-right:8px}
.legend{display:flex;flex-wrap:wrap;gap:16px;font-size:13px;color:#656d76}.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}
footer{margin-top:40px;color:#656d76;font-size:12px;text-align:center}`;

function renderComponent(c: ComponentView): string {
  const bars = c.days
    ? `<div class="bars" role="img" aria-label="${escapeHtml(`${c.name}: ${pct(c.uptime90d)} uptime over ${STATUS_HISTORY_DAYS} days`)}">${c.days
        .map((d) => `<span class="${barClass(d.uptime)}" title="${escapeHtml(`${d.date}: ${pct(d.uptime)} uptime`)}"></span>`)
        .join('')}</div><div class="axis"><span>${STATUS_HISTORY_DAYS} days ago</span><span>${pct(c.uptime90d)} uptime</span><span>Today</span></div>`
    : '';
  return `<div class="row"><div class="head"><span class="name">${escapeHtml(c.name)}</span><span class="badge t-${c.status}">${LABEL[c.status]}</span></div>${bars}</div>`;
}

const utc = (iso: string) => `${escapeHtml(iso.slice(0, 16).replace('T', ' '))} UTC`;

function renderMaintenance(m: StatusView['maintenance'][number]): string {
  const window = `<time datetime="${escapeHtml(m.startsAt)}">${utc(m.startsAt)}</time>${m.until ? ` to <time datetime="${escapeHtml(m.until)}">${utc(m.until)}</time>` : ''}`;
  return `<div class="incident"><div class="head"><span class="name">${escapeHtml(m.title)}</span><span class="badge">Scheduled</span></div><ol><li>${window} · ${escapeHtml(m.reason)}</li></ol></div>`;
}

/** The server-rendered page: no scripts, no external assets. */
export function renderStatusPage(view: StatusView, title = 'Payments status'): string {
  const open = view.incidents.filter((i) => i.status === 'open');
  const past = view.incidents.filter((i) => i.status === 'resolved');
  const incidentList = (list: StatusView['incidents']) =>
    list
      .map(
        (i) => `<div class="incident"><div class="head"><span class="name">${escapeHtml(i.title)}</span><span class="badge">${escapeHtml(i.severity)} · ${i.status === 'open' ? 'Ongoing' : 'Resolved'}</span></div>
<ol>${[...i.timeline]
          .reverse()
          .map((t) => `<li><time datetime="${escapeHtml(t.at)}">${escapeHtml(t.at.slice(0, 16).replace('T', ' '))} UTC</time>${escapeHtml(t.text)}</li>`)
          .join('')}</ol></div>`,
      )
      .join('');
  const section = (heading: string, list: ComponentView[], body: (l: ComponentView[]) => string) =>
    list.length ? `<h2>${heading}</h2><div class="card">${body(list)}</div>` : '';
  const updated = view.updatedAt ? `Updated ${escapeHtml(view.updatedAt.slice(0, 19).replace('T', ' '))} UTC` : 'Waiting for the first update';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="30"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
<div class="banner s-${view.status}">${BANNER[view.status]}</div>
<div class="meta">${updated}${view.stale ? ' · <span class="stale">status may be out of date</span>' : ''}</div>
${open.length ? `<h2>Ongoing incidents</h2><div class="card">${incidentList(open)}</div>` : ''}
${view.maintenance.length ? `<h2>Scheduled maintenance</h2><div class="card">${view.maintenance.map(renderMaintenance).join('')}</div>` : ''}
${section('Gateways', view.components.gateways, (l) => l.map(renderComponent).join(''))}
${section('Payment modes', view.components.modes, (l) => l.map(renderComponent).join(''))}
${section('Payment methods', view.components.methods, (l) => `<div class="methods">${l.map(renderComponent).join('')}</div>`)}
${section('Aggregators', view.components.aggregators, (l) => l.map(renderComponent).join(''))}
${Object.entries(view.components.attributes).map(([name, list]) => section(ATTRIBUTE_HEADINGS[name] ?? escapeHtml(name), list, (l) => l.map(renderComponent).join(''))).join('\n')}
<h2>Legend</h2><div class="legend">
<span><span class="dot s-operational"></span>Operational</span><span><span class="dot s-degraded"></span>Degraded performance</span>
<span><span class="dot s-partial_outage"></span>Partial outage</span><span><span class="dot s-major_outage"></span>Major outage</span>
</div><div class="legend" style="margin-top:8px">
<span><i class="u-full"></i>No downtime</span><span><i class="u-minor"></i>Down under 1% of the day</span>
<span><i class="u-partial"></i>Down 1–5% of the day</span><span><i class="u-major"></i>Down over 5% of the day</span>
</div>
${past.length ? `<h2>Past incidents (7 days)</h2><div class="card">${incidentList(past)}</div>` : ''}
<footer>Times in UTC. Daily bars show the share of each day a downtime touched the component.</footer>
</main></body></html>
`;
}

/** The status view and page, rebuilt at most once per snapshot generation. */
export class StatusPage {
  private cached: { generation: number; view: StatusView; html?: string } | undefined;

  constructor(private readonly snapshot: Snapshot, private readonly now: () => number) {}

  view(): StatusView {
    const data = this.snapshot.current;
    if (!this.cached || this.cached.generation !== data.generation || this.cached.view.stale !== this.isStale()) {
      this.cached = { generation: data.generation, view: buildStatusView(data, data.at || this.now(), this.isStale()) };
    }
    return this.cached.view;
  }

  html(): string {
    const view = this.view();
    this.cached!.html ??= renderStatusPage(view);
    return this.cached!.html;
  }

  private isStale(): boolean {
    return this.snapshot.staleSince !== undefined || this.snapshot.current.at === 0;
  }
}
