/**
 * The distribution report over generated worlds: for every metric, p10/p50/p90 over the worlds
 * for each policy (the product in-process, the naive policy, the oracle, and the product on a real
 * stack where it ran), overall and by outage shape; the product's and the naive policy's distance
 * from the oracle, and the real stack's from the in-process product on the same worlds; how often
 * the product is worse than the naive policy; and the worst worlds by seed, to replay each. Pure
 * functions over the worlds' figures; sim/generated.ts runs the worlds and writes the files.
 */
import type { PolicyFigures } from './metrics';

/** `product`: the product's decisions in-process (sim/model.ts); `stack`: the product on a real stack. */
export type PolicyName = 'product' | 'naive' | 'oracle' | 'stack';
export const POLICIES: PolicyName[] = ['product', 'naive', 'oracle', 'stack'];

/** What one generated world gave, per policy (the stack only where it was run). */
export interface WorldResult {
  seed: number;
  name: string;
  description: string;
  /** Each outage's shape (the generator's label), in the scenario's order. */
  shapes: string[];
  policies: Partial<Record<PolicyName, PolicyFigures>>;
}

/** One per-outage or per-world figure of a policy; null where it does not apply (no outage, never detected). */
interface Metric {
  key: string;
  label: string;
  unit: string;
  /** Per outage (with its shape) or per world ('quiet' or 'outages'). */
  per: 'outage' | 'world';
  /** Higher is better. */
  higherBetter: boolean;
  value(p: PolicyFigures, outage: number): number | null;
}

export const METRICS: Metric[] = [
  { key: 'avoided', label: 'failures avoided', unit: '%', per: 'outage', higherBetter: true, value: (p, k) => p.outages[k]?.avoided.pct ?? null },
  { key: 'detection', label: 'detection delay', unit: 's', per: 'outage', higherBetter: false, value: (p, k) => p.outages[k]?.detectionDelaySec ?? null },
  { key: 'reEnable', label: 're-enable delay', unit: 's', per: 'outage', higherBetter: false, value: (p, k) => p.outages[k]?.reEnableDelaySec ?? null },
  { key: 'downtimesPerOutage', label: 'downtimes per real outage', unit: '', per: 'outage', higherBetter: false, value: (p, k) => p.outages[k]?.downtimes.length ?? null },
  { key: 'collateral', label: 'collateral (healthy checkouts that lost their method)', unit: '%', per: 'world', higherBetter: false, value: (p) => p.collateral.pct },
  { key: 'falseDowntimes', label: 'false downtimes', unit: '', per: 'world', higherBetter: false, value: (p) => p.falseDowntimes },
];

/** The q-quantile (0..1) of `xs` by linear interpolation; null for none. */
export function quantile(xs: readonly number[], q: number): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

interface Sample {
  seed: number;
  group: string;
  value: number;
}

/** Every value of `metric` for `policy`, with the group it falls in (the outage's shape, or quiet/outages per world). */
function samples(worlds: readonly WorldResult[], metric: Metric, policy: PolicyName): Sample[] {
  const out: Sample[] = [];
  for (const w of worlds) {
    const p = w.policies[policy];
    if (!p) continue;
    if (metric.per === 'world') {
      const v = metric.value(p, 0);
      if (v !== null) out.push({ seed: w.seed, group: w.shapes.length ? 'with outages' : 'quiet', value: v });
      continue;
    }
    w.shapes.forEach((shape, k) => {
      const v = metric.value(p, k);
      if (v !== null) out.push({ seed: w.seed, group: shape, value: v });
    });
  }
  return out;
}

/** `value(product) - value(other)` per outage or world where both have a value. */
function paired(worlds: readonly WorldResult[], metric: Metric, policy: PolicyName, other: PolicyName): Sample[] {
  const out: Sample[] = [];
  for (const w of worlds) {
    const [a, b] = [w.policies[policy], w.policies[other]];
    if (!a || !b) continue;
    const keys = metric.per === 'world' ? [0] : w.shapes.map((_, k) => k);
    for (const k of keys) {
      const [x, y] = [metric.value(a, k), metric.value(b, k)];
      if (x !== null && y !== null) out.push({ seed: w.seed, group: metric.per === 'world' ? (w.shapes.length ? 'with outages' : 'quiet') : w.shapes[k]!, value: x - y });
    }
  }
  return out;
}

const fmt = (x: number | null, unit: string) => (x === null ? '–' : `${Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1)}${unit}`);
const triple = (xs: number[], unit: string) => (xs.length ? `${fmt(quantile(xs, 0.1), unit)} / ${fmt(quantile(xs, 0.5), unit)} / ${fmt(quantile(xs, 0.9), unit)} (${xs.length})` : '–');

/** The tables, as markdown: per metric, each policy's p10/p50/p90 overall and by group, and the distances. */
export function distributionMarkdown(worlds: readonly WorldResult[]): string {
  const lines: string[] = [];
  const ran = POLICIES.filter((p) => worlds.some((w) => w.policies[p]));
  const stacked = worlds.filter((w) => w.policies.stack).length;
  lines.push(
    `Worlds: ${worlds.length} (${worlds.filter((w) => w.shapes.length === 0).length} quiet). \`product\` is the product's decisions in-process (sim/model.ts)${stacked ? `; \`stack\` the product on a real stack, on ${stacked} of the worlds, and \`stack − product\` how far the in-process product is from it there` : ''}. Each cell: p10 / p50 / p90 (number of values).`,
    '',
  );
  for (const m of METRICS) {
    const per = ran.map((p) => samples(worlds, m, p));
    const groups = [...new Set(per.flatMap((s) => s.map((x) => x.group)))].sort();
    lines.push(`### ${m.label}${m.unit ? ` (${m.unit})` : ''}`, '');
    const distances: [string, Sample[]][] = [];
    if (ran.includes('product') && ran.includes('oracle')) distances.push(['product − oracle', paired(worlds, m, 'product', 'oracle')]);
    if (ran.includes('naive') && ran.includes('oracle')) distances.push(['naive − oracle', paired(worlds, m, 'naive', 'oracle')]);
    if (ran.includes('stack') && ran.includes('product')) distances.push(['stack − product', paired(worlds, m, 'stack', 'product')]);
    lines.push(`| ${m.per === 'outage' ? 'outage shape' : 'worlds'} | ${[...ran, ...distances.map(([d]) => d)].join(' | ')} |`);
    lines.push(`|---|${[...ran, ...distances].map(() => '---|').join('')}`);
    for (const g of ['all', ...groups]) {
      const pick = (s: Sample[]) => s.filter((x) => g === 'all' || x.group === g).map((x) => x.value);
      lines.push(`| ${g} | ${[...per.map((s) => triple(pick(s), m.unit)), ...distances.map(([, s]) => triple(pick(s), m.unit))].join(' | ')} |`);
    }
    if (ran.includes('product') && ran.includes('naive')) {
      const d = paired(worlds, m, 'product', 'naive');
      const worse = d.filter((x) => (m.higherBetter ? x.value < 0 : x.value > 0));
      const worlds_ = new Set(d.map((x) => x.seed)).size;
      const worseWorlds = new Set(worse.map((x) => x.seed)).size;
      lines.push('', `Product worse than the naive policy in ${worseWorlds} of ${worlds_} worlds (${worlds_ ? ((100 * worseWorlds) / worlds_).toFixed(0) : '–'}%).`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * Where each policy's failed attempts and collateral went, summed over the worlds: the failed
 * attempts through failing routes during outages (as a share of the no-handling ones) before the
 * first covering downtime, as bucket-B probes after it, and otherwise (through a route the
 * downtime did not cover); the hidden healthy checkouts (as a share of all healthy ones) while
 * another route of the method was failing, after an outage on its routes had ended, and with no
 * outage on its routes yet.
 */
export function lossesMarkdown(worlds: readonly WorldResult[]): string {
  const pct = (x: number, of: number) => (of > 0 ? `${((100 * x) / of).toFixed(2)}%` : '–');
  const lines = [
    '| policy | failed attempts: before detection | as probes | otherwise | collateral: a route of the method failing | after its outage | no outage on it yet |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const policy of POLICIES) {
    const figures = worlds.flatMap((w) => (w.policies[policy] ? [w.policies[policy]!] : []));
    if (figures.length === 0) continue;
    const sum = (f: (p: PolicyFigures) => number) => figures.reduce((n, p) => n + f(p), 0);
    const noHandling = sum((p) => p.outages.reduce((n, o) => n + o.avoided.noHandling, 0));
    const lost = (k: 'beforeDetection' | 'probe' | 'other') => sum((p) => p.outages.reduce((n, o) => n + o.lost[k], 0));
    const healthy = sum((p) => p.collateral.healthyCheckouts);
    const cause = (k: 'routeFailing' | 'afterOutage' | 'untouched') => sum((p) => p.collateral.causes[k]);
    lines.push(
      `| ${policy} | ${pct(lost('beforeDetection'), noHandling)} | ${pct(lost('probe'), noHandling)} | ${pct(lost('other'), noHandling)} | ${pct(cause('routeFailing'), healthy)} | ${pct(cause('afterOutage'), healthy)} | ${pct(cause('untouched'), healthy)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The worst worlds for `policy` (the product where it ran, else the naive policy): by failures
 * avoided short of the oracle's, then by collateral; each with its seed to replay.
 */
export function worstWorlds(worlds: readonly WorldResult[], limit = 10): { seed: number; policy: PolicyName; description: string; shortOfOracle: number; collateralPct: number }[] {
  const rows = worlds.flatMap((w) => {
    const policy: PolicyName | undefined = w.policies.product ? 'product' : w.policies.naive ? 'naive' : undefined;
    const p = policy ? w.policies[policy] : undefined;
    const o = w.policies.oracle;
    if (!policy || !p || !o) return [];
    const gaps = w.shapes.map((_, k) => (o.outages[k]?.avoided.pct ?? 0) - (p.outages[k]?.avoided.pct ?? 0));
    return [{ seed: w.seed, policy, description: w.description, shortOfOracle: gaps.length ? Math.max(...gaps) : 0, collateralPct: p.collateral.pct }];
  });
  return rows.sort((a, b) => b.shortOfOracle - a.shortOfOracle || b.collateralPct - a.collateralPct).slice(0, limit);
}

/** Box plots (p10, p25, p50, p75, p90) of each per-outage metric for each policy that ran. */
export function distributionSvg(worlds: readonly WorldResult[]): string {
  const ran = POLICIES.filter((p) => worlds.some((w) => w.policies[p]));
  const colors: Record<PolicyName, string> = { product: '#1f77b4', naive: '#d62728', oracle: '#2ca02c', stack: '#9467bd' };
  const panelW = 260;
  const panelH = 220;
  const panels = METRICS.filter((m) => m.key !== 'downtimesPerOutage');
  const width = panels.length * panelW + 20;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${panelH + 60}" font-family="sans-serif" font-size="11">`];
  out.push(`<text x="10" y="16" font-size="13">Generated worlds: ${worlds.length}; boxes p25–p75, whiskers p10–p90, line the median. ${ran.map((p) => `<tspan fill="${colors[p]}">■ ${p}</tspan>`).join(' ')}</text>`);
  panels.forEach((m, i) => {
    const x0 = 10 + i * panelW;
    const per = ran.map((p) => samples(worlds, m, p).map((s) => s.value));
    const all = per.flat();
    const top = Math.max(1e-9, quantile(all, 0.95) ?? 1);
    const y = (v: number) => 40 + panelH - 30 - (Math.min(v, top) / top) * (panelH - 40);
    out.push(`<text x="${x0}" y="34">${m.label.split(' (')[0]}${m.unit ? ` (${m.unit})` : ''}</text>`);
    out.push(`<line x1="${x0 + 30}" y1="${y(0)}" x2="${x0 + panelW - 20}" y2="${y(0)}" stroke="#999"/>`);
    out.push(`<text x="${x0}" y="${y(top) + 4}">${fmt(top, '')}</text><text x="${x0}" y="${y(0) + 4}">0</text>`);
    per.forEach((xs, j) => {
      if (xs.length === 0) return;
      const [p10, p25, p50, p75, p90] = [0.1, 0.25, 0.5, 0.75, 0.9].map((q) => quantile(xs, q)!) as [number, number, number, number, number];
      const cx = x0 + 50 + j * 60;
      const c = colors[ran[j]!];
      out.push(`<line x1="${cx}" y1="${y(p10)}" x2="${cx}" y2="${y(p90)}" stroke="${c}"/>`);
      out.push(`<rect x="${cx - 15}" y="${y(p75)}" width="30" height="${Math.max(1, y(p25) - y(p75))}" fill="${c}" fill-opacity="0.3" stroke="${c}"/>`);
      out.push(`<line x1="${cx - 15}" y1="${y(p50)}" x2="${cx + 15}" y2="${y(p50)}" stroke="${c}" stroke-width="2"/>`);
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
