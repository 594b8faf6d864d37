/**
 * A hand-written SVG of one scenario's timeline: traffic, success rate (product, baseline, no
 * handling) and downtime state (the ground-truth outages, the product's downtimes by scope, the
 * baseline's disabled routes), with freeze windows shaded.
 */
import type { PolicyDowntime, PolicyRun } from './baseline';
import { Checkout, World, outcomeOf } from './truth';

const W = 1100;
const LEFT = 250;
const RIGHT = 20;
const PLOT_W = W - LEFT - RIGHT;
const ROW_H = 14;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Bin {
  checkouts: number;
  product: [number, number];
  baseline: [number, number];
  noHandling: [number, number];
}

export function timelineSvg(p: {
  title: string;
  world: World;
  checkouts: readonly Checkout[];
  product: PolicyRun;
  baseline: PolicyRun;
  durationSec: number;
  binSec?: number;
}): string {
  const { world, durationSec } = p;
  const binSec = p.binSec ?? 2;
  const nBins = Math.max(1, Math.ceil(durationSec / binSec));
  const bins: Bin[] = Array.from({ length: nBins }, () => ({ checkouts: 0, product: [0, 0], baseline: [0, 0], noHandling: [0, 0] }));
  for (const c of p.checkouts) {
    if (c.t >= durationSec) continue;
    const b = bins[Math.floor(c.t / binSec)]!;
    b.checkouts += 1;
    for (const [run, acc] of [[p.product, b.product], [p.baseline, b.baseline]] as const) {
      if (run.route[c.index]! >= 0) {
        acc[0] += run.success[c.index]!;
        acc[1] += 1;
      }
    }
    b.noHandling[0] += outcomeOf(world, world.methodRoutes[c.preferred]![0]!.index, c).status === 'success' ? 1 : 0;
    b.noHandling[1] += 1;
  }

  const x = (t: number) => LEFT + (Math.min(Math.max(t, 0), durationSec) / durationSec) * PLOT_W;
  const parts: string[] = [];
  let y = 40;

  // Panel 1: traffic.
  const trafficTop = y;
  const trafficH = 80;
  const binLength = (i: number) => Math.min(binSec, durationSec - i * binSec);
  const perSec = bins.map((b, i) => b.checkouts / binLength(i));
  const maxRate = Math.max(1, ...perSec);
  const trafficPath = perSec.map((r, i) => `${i ? 'L' : 'M'}${x(i * binSec + binLength(i) / 2).toFixed(1)},${(trafficTop + trafficH - (r / maxRate) * trafficH).toFixed(1)}`).join('');
  parts.push(`<text x="${LEFT - 8}" y="${trafficTop + 12}" text-anchor="end" class="l">checkouts/s (max ${maxRate.toFixed(0)})</text>`);
  parts.push(`<rect x="${LEFT}" y="${trafficTop}" width="${PLOT_W}" height="${trafficH}" class="frame"/>`);
  parts.push(`<path d="${trafficPath}" class="traffic"/>`);
  y += trafficH + 20;

  // Panel 2: success rate.
  const rateTop = y;
  const rateH = 160;
  const ry = (r: number) => rateTop + rateH - r * rateH;
  const line = (pick: (b: Bin) => [number, number], cls: string) => {
    let d = '';
    let pen = false;
    bins.forEach((b, i) => {
      const [ok, n] = pick(b);
      if (n === 0) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x((i + 0.5) * binSec).toFixed(1)},${ry(ok / n).toFixed(1)}`;
      pen = true;
    });
    return `<path d="${d}" class="${cls}"/>`;
  };
  parts.push(`<rect x="${LEFT}" y="${rateTop}" width="${PLOT_W}" height="${rateH}" class="frame"/>`);
  for (const r of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${ry(r)}" y2="${ry(r)}" class="grid"/><text x="${LEFT - 6}" y="${ry(r) + 4}" text-anchor="end" class="s">${r * 100}%</text>`);
  }
  parts.push(line((b) => b.noHandling, 'nohandling'), line((b) => b.baseline, 'baseline'), line((b) => b.product, 'product'));
  parts.push(`<text x="${LEFT - 8}" y="${rateTop + 28}" text-anchor="end" class="l">success rate</text>`);
  const legend = [
    ['product', 'product'],
    ['baseline', 'baseline policy'],
    ['nohandling', 'no downtime handling'],
  ];
  legend.forEach(([cls, label], i) => {
    const ly = rateTop + 50 + i * 16;
    parts.push(`<line x1="${LEFT - 215}" x2="${LEFT - 190}" y1="${ly}" y2="${ly}" class="${cls}"/><text x="${LEFT - 185}" y="${ly + 4}" class="s">${label}</text>`);
  });
  y += rateH + 24;

  // Panel 3: downtime state.
  const rows: { label: string; cls: string; spans: [number, number, string][] }[] = [];
  world.scenario.outages.forEach((o, k) => {
    const scope = Object.entries(o.scope).map(([kk, v]) => `${kk}=${v}`).join(',');
    rows.push({ label: `outage ${k + 1}: ${o.label ?? scope} (${Math.round(o.successRate * 100)}%)`, cls: 'truth', spans: [[o.startSec, o.endSec, 'truth']] });
  });
  const byScope = (downtimes: PolicyDowntime[], prefix: string, cls: string) => {
    const keys = [...new Set(downtimes.map((d) => d.scopeKey))];
    for (const key of keys.slice(0, 14)) {
      const spans: [number, number, string][] = [];
      for (const d of downtimes.filter((dd) => dd.scopeKey === key)) {
        const end = d.resolvedAt ?? durationSec;
        if (d.disabledAt !== undefined && d.disabledAt > d.openedAt) spans.push([d.openedAt, d.disabledAt, 'opening']);
        spans.push([d.disabledAt ?? d.openedAt, end, cls]);
      }
      rows.push({ label: `${prefix} ${key}`, cls, spans });
    }
    if (keys.length > 14) rows.push({ label: `${prefix} … ${keys.length - 14} more scopes`, cls, spans: [] });
  };
  byScope(p.product.downtimes, 'product', 'pdown');
  byScope(p.baseline.downtimes, 'baseline', 'bdown');
  if (rows.length === world.scenario.outages.length) rows.push({ label: 'no downtimes raised', cls: 'none', spans: [] });
  const stateTop = y;
  rows.forEach((row, i) => {
    const ty = stateTop + i * (ROW_H + 4);
    parts.push(`<text x="${LEFT - 8}" y="${ty + ROW_H - 3}" text-anchor="end" class="s">${esc(row.label)}</text>`);
    parts.push(`<rect x="${LEFT}" y="${ty}" width="${PLOT_W}" height="${ROW_H}" class="lane"/>`);
    for (const [a, b, cls] of row.spans) {
      parts.push(`<rect x="${x(a).toFixed(1)}" y="${ty}" width="${Math.max(1, x(b) - x(a)).toFixed(1)}" height="${ROW_H}" class="${cls}"/>`);
    }
  });
  y += rows.length * (ROW_H + 4) + 10;

  // Axis.
  const step = durationSec > 600 ? 60 : durationSec > 200 ? 30 : 10;
  for (let t = 0; t <= durationSec; t += step) {
    parts.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${trafficTop}" y2="${y - 6}" class="tick"/><text x="${x(t)}" y="${y + 8}" text-anchor="middle" class="s">${t}s</text>`);
  }
  const freeze = (world.scenario.freezeWindows ?? []).map(
    (f) => `<rect x="${x(f.startSec).toFixed(1)}" y="${trafficTop}" width="${(x(f.endSec) - x(f.startSec)).toFixed(1)}" height="${y - 6 - trafficTop}" class="freeze"/>` +
      `<text x="${(x(f.startSec) + 4).toFixed(1)}" y="${trafficTop - 4}" class="s">freeze${f.name ? `: ${esc(f.name)}` : ''}</text>`,
  );
  const height = y + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">`,
    '<style>',
    '.frame{fill:#fff;stroke:#999}.grid{stroke:#eee}.tick{stroke:#ddd;stroke-dasharray:2 3}',
    '.l{font-size:12px;fill:#222}.s{font-size:10px;fill:#444}',
    '.traffic{fill:none;stroke:#555;stroke-width:1.2}',
    '.product{fill:none;stroke:#1f6feb;stroke-width:1.8}.baseline{fill:none;stroke:#e36209;stroke-width:1.4}.nohandling{fill:none;stroke:#999;stroke-width:1.2;stroke-dasharray:4 3}',
    '.lane{fill:#f6f8fa}.truth{fill:#d73a49;opacity:.75}.pdown{fill:#1f6feb}.bdown{fill:#e36209}.opening{fill:#9ecbff}.freeze{fill:#b3e5fc;opacity:.35}',
    '</style>',
    `<rect width="${W}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="20" class="l" font-weight="bold">${esc(p.title)}</text>`,
    ...freeze,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
