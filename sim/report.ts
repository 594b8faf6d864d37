/**
 * The per-scenario report (JSON), the judgement against the issue's targets, and the summary
 * table (printed and as markdown). Product and baseline are measured by the same functions on
 * the same checkouts; every judgement carries both figures and, when it cannot be judged, why.
 */
import type { LoopHealth, ProbeTrace } from './closed-loop';
import { OutageFigures, PolicyFigures, ProbeSufficiency } from './metrics';
import { BASELINE_POLICY, KNOBS, PROFILE_ENV, ProfileNumbers } from './profile';
import type { Scenario } from './scenario';

export interface Judgement {
  what: string;
  outage?: number;
  target: string;
  product: string;
  baseline?: string;
  /** null: not applicable (see why). */
  met: boolean | null;
  why?: string;
}

export interface OutageReport {
  outage: number;
  label: string;
  scope: Scenario['outages'][number]['scope'];
  startSec: number;
  endSec: number;
  successRate: number;
  judged: boolean;
  inFreeze: boolean;
  product: OutageFigures;
  baseline: OutageFigures;
  probe: ProbeSufficiency;
}

export interface ScenarioReport {
  scenario: string;
  description?: string;
  mode: 'short' | 'full';
  generatedAt: string;
  /** The commit the run's code was at (absent in reports from before it was recorded). */
  commit?: string;
  wallClockSec: number;
  world: {
    durationSec: number;
    checkoutsPerSec: number;
    users: number;
    seed: number;
    backfillSec: number;
    outages: Scenario['outages'];
    freezeWindows: Scenario['freezeWindows'];
    userErrorBursts: Scenario['userErrorBursts'];
  };
  profile: { env: Record<string, string>; knobs: typeof KNOBS; numbers: ProfileNumbers; baselinePolicy: typeof BASELINE_POLICY };
  totals: {
    checkouts: number;
    noHandling: { attempts: number; successes: number; successPct: number };
    product: { attempts: number; successes: number; successPct: number; noOption: number };
    baseline: { attempts: number; successes: number; successPct: number; noOption: number };
  };
  collateral: { product: PolicyFigures['collateral']; baseline: PolicyFigures['collateral'] };
  falseDowntimes: { product: number; baseline: number };
  outages: OutageReport[];
  downtimes: { product: PolicyFigures['downtimes']; baseline: PolicyFigures['downtimes'] };
  endReasons: { product: Record<string, number>; baseline: Record<string, number> };
  judgements: Judgement[];
  met: number;
  missed: number;
  notApplicable: number;
  health: LoopHealth;
  /** The product's probes as the operator polled them (share, verdict, samples, llr). */
  probeTrace: ProbeTrace[];
  notes: string[];
}

const f1 = (x: number | null | undefined, unit = '') => (x === null || x === undefined ? '–' : `${x.toFixed(1)}${unit}`);
const f2 = (x: number, unit = '') => `${x.toFixed(2)}${unit}`;

/** Lower is better; null (never happened / not measurable) loses to any number. */
const noWorse = (p: number | null, b: number | null): boolean => (p === null ? b === null : b === null || p <= b + 1e-9);

function tally(downtimes: PolicyFigures['downtimes']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of downtimes) {
    const k = d.endReason ?? 'open at the end';
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

export function judge(
  scenario: Scenario,
  outages: OutageReport[],
  product: PolicyFigures,
  baseline: PolicyFigures,
  p: ProfileNumbers,
): Judgement[] {
  const out: Judgement[] = [];
  const detectionTarget = p.detectionIntervalSec + p.detectionWindowSec;
  const reEnableTarget = 3 * p.probeIntervalSec;
  for (const o of outages) {
    const tag = `${o.label} (${o.startSec.toFixed(0)}–${o.endSec.toFixed(0)} s)`;
    if (!o.judged) {
      out.push({
        what: 'targets',
        outage: o.outage,
        target: `outage longer than 3 detection windows (${3 * p.detectionWindowSec} s)`,
        product: `${(o.endSec - o.startSec).toFixed(0)} s`,
        met: null,
        why: `${tag} is too short to be judged; its figures are reported`,
      });
      continue;
    }
    const pa = o.product.avoided.pct;
    const ba = o.baseline.avoided.pct;
    out.push({ what: 'failures avoided', outage: o.outage, target: '≥ 85%', product: f1(pa, '%'), baseline: f1(ba, '%'), met: pa !== null && pa >= 85 });
    const pf = o.product.avoidedWithFailover;
    if (pf.noHandling > 0) {
      out.push({
        what: 'failures avoided where a healthy gateway exists',
        outage: o.outage,
        target: '≥ 97%',
        product: f1(pf.pct, '%'),
        baseline: f1(o.baseline.avoidedWithFailover.pct, '%'),
        met: pf.pct !== null && pf.pct >= 97,
      });
    }
    const pd = o.product.detectionDelaySec;
    out.push({
      what: 'detection delay',
      outage: o.outage,
      target: `≤ ${detectionTarget} s`,
      product: f1(pd, ' s'),
      baseline: f1(o.baseline.detectionDelaySec, ' s'),
      met: pd !== null && pd <= detectionTarget,
    });
    const pr = o.product.reEnableDelaySec;
    const probeWhy = `probe traffic: ${o.probe.samplesPerSec.toFixed(1)} samples/s at ${p.probePercent}% → ${o.probe.expectedInTarget.toFixed(0)} in ${reEnableTarget} s, the test needs ~${o.probe.needed.toFixed(0)}`;
    out.push({
      what: 're-enable delay',
      outage: o.outage,
      target: `≤ ${reEnableTarget} s when probe traffic suffices`,
      product: pr === null ? `– (${o.product.reEnableNote ?? 'n/a'})` : f1(pr, ' s'),
      baseline: o.baseline.reEnableDelaySec === null ? `– (${o.baseline.reEnableNote ?? 'n/a'})` : f1(o.baseline.reEnableDelaySec, ' s'),
      met: o.probe.sufficed ? pr !== null && pr <= reEnableTarget : null,
      why: o.probe.sufficed ? probeWhy : `not judged: ${probeWhy}`,
    });
    const better: string[] = [];
    if (!(pa !== null && (ba === null || pa >= ba))) better.push('failures avoided');
    if (!noWorse(pd, o.baseline.detectionDelaySec)) better.push('detection delay');
    if (!noWorse(pr, o.baseline.reEnableDelaySec)) better.push('re-enable delay');
    if (o.product.collateral > o.baseline.collateral) better.push('collateral');
    out.push({
      what: 'no worse than the baseline',
      outage: o.outage,
      target: 'avoided, detection, re-enable, collateral',
      product: better.length ? `worse on ${better.join(', ')}` : 'as good or better on all',
      met: better.length === 0,
    });
  }
  const pc = product.collateral.pct;
  const bc = baseline.collateral.pct;
  out.push({ what: 'collateral', target: '≤ 0.5% of healthy checkouts', product: f2(pc, '%'), baseline: f2(bc, '%'), met: pc <= 0.5 });
  out.push({ what: 'collateral vs baseline', target: 'no worse than the baseline', product: f2(pc, '%'), baseline: f2(bc, '%'), met: pc <= bc + 1e-9 });
  if (scenario.outages.length === 0) {
    out.push({ what: 'false downtimes (quiet day)', target: '0', product: String(product.falseDowntimes), baseline: String(baseline.falseDowntimes), met: product.falseDowntimes === 0 });
  } else {
    out.push({
      what: 'false downtimes',
      target: 'no more than the baseline',
      product: String(product.falseDowntimes),
      baseline: String(baseline.falseDowntimes),
      met: product.falseDowntimes <= baseline.falseDowntimes,
    });
  }
  return out;
}

export function buildReport(p: {
  scenario: Scenario;
  mode: 'short' | 'full';
  wallClockSec: number;
  backfillSec: number;
  profile: ProfileNumbers;
  product: PolicyFigures;
  baseline: PolicyFigures;
  noHandling: { attempts: number; successes: number };
  probe: ProbeSufficiency[];
  inFreeze: boolean[];
  health: LoopHealth;
  probeTrace: ProbeTrace[];
  notes: string[];
}): ScenarioReport {
  const s = p.scenario;
  const outages: OutageReport[] = s.outages.map((o, k) => ({
    outage: k,
    label: p.product.outages[k]!.label,
    scope: o.scope,
    startSec: o.startSec,
    endSec: o.endSec,
    successRate: o.successRate,
    judged: p.product.outages[k]!.judged,
    inFreeze: p.inFreeze[k]!,
    product: p.product.outages[k]!,
    baseline: p.baseline.outages[k]!,
    probe: p.probe[k]!,
  }));
  const judgements = judge(s, outages, p.product, p.baseline, p.profile);
  const pctOf = (a: number, b: number) => (b > 0 ? (100 * a) / b : 0);
  return {
    scenario: s.name,
    description: s.description,
    mode: p.mode,
    generatedAt: new Date().toISOString(),
    wallClockSec: p.wallClockSec,
    world: {
      durationSec: s.durationSec,
      checkoutsPerSec: s.checkoutsPerSec,
      users: s.users,
      seed: s.seed,
      backfillSec: p.backfillSec,
      outages: s.outages,
      freezeWindows: s.freezeWindows,
      userErrorBursts: s.userErrorBursts,
    },
    profile: { env: PROFILE_ENV, knobs: KNOBS, numbers: p.profile, baselinePolicy: BASELINE_POLICY },
    totals: {
      checkouts: p.product.checkouts,
      noHandling: { ...p.noHandling, successPct: pctOf(p.noHandling.successes, p.noHandling.attempts) },
      product: { attempts: p.product.attempts, successes: p.product.successes, successPct: pctOf(p.product.successes, p.product.attempts), noOption: p.product.noOption },
      baseline: { attempts: p.baseline.attempts, successes: p.baseline.successes, successPct: pctOf(p.baseline.successes, p.baseline.attempts), noOption: p.baseline.noOption },
    },
    collateral: { product: p.product.collateral, baseline: p.baseline.collateral },
    falseDowntimes: { product: p.product.falseDowntimes, baseline: p.baseline.falseDowntimes },
    outages,
    downtimes: { product: p.product.downtimes, baseline: p.baseline.downtimes },
    endReasons: { product: tally(p.product.downtimes), baseline: tally(p.baseline.downtimes) },
    judgements,
    met: judgements.filter((j) => j.met === true).length,
    missed: judgements.filter((j) => j.met === false).length,
    notApplicable: judgements.filter((j) => j.met === null).length,
    health: p.health,
    probeTrace: p.probeTrace,
    notes: p.notes,
  };
}

/** One line per scenario: product / baseline for each figure, over the judged outages (all outages when none is judged). */
export interface SummaryRow {
  scenario: string;
  avoided: [number | null, number | null];
  collateral: [number, number];
  detection: [number | null, number | null];
  reEnable: [number | null, number | null];
  falseDowntimes: [number, number];
  met: number;
  judged: number;
  /** When the run was made, and at which commit when recorded. */
  run: string;
}

function worst(values: (number | null)[]): number | null {
  const defined = values.filter((v): v is number => v !== null);
  if (defined.length === 0) return null;
  return values.some((v) => v === null) ? null : Math.max(...defined);
}

export function summaryRow(r: ScenarioReport): SummaryRow {
  const picked = r.outages.some((o) => o.judged) ? r.outages.filter((o) => o.judged) : r.outages;
  const avoided = (side: 'product' | 'baseline') => {
    const noHandling = picked.reduce((n, o) => n + o[side].avoided.noHandling, 0);
    const policy = picked.reduce((n, o) => n + o[side].avoided.policy, 0);
    return noHandling > 0 ? 100 * (1 - policy / noHandling) : null;
  };
  const detections = (side: 'product' | 'baseline') => worst(picked.map((o) => o[side].detectionDelaySec));
  const reEnables = (side: 'product' | 'baseline') => {
    const flaps = picked.filter((o) => !(o[side].reEnableNote ?? '').includes('flap'));
    return worst(flaps.map((o) => o[side].reEnableDelaySec));
  };
  return {
    scenario: r.scenario,
    avoided: [avoided('product'), avoided('baseline')],
    collateral: [r.collateral.product.pct, r.collateral.baseline.pct],
    detection: [detections('product'), detections('baseline')],
    reEnable: [reEnables('product'), reEnables('baseline')],
    falseDowntimes: [r.falseDowntimes.product, r.falseDowntimes.baseline],
    met: r.met,
    judged: r.met + r.missed,
    run: [r.generatedAt?.slice(0, 16), r.commit].filter(Boolean).join(', '),
  };
}

const HEADERS = ['scenario', 'avoided % (P / B)', 'collateral % (P / B)', 'detection s (P / B)', 're-enable s (P / B)', 'false downtimes (P / B)', 'targets met'];

function cells(row: SummaryRow): string[] {
  const pair = (a: string, b: string) => `${a} / ${b}`;
  return [
    row.scenario,
    pair(f1(row.avoided[0]), f1(row.avoided[1])),
    pair(f2(row.collateral[0]), f2(row.collateral[1])),
    pair(f1(row.detection[0]), f1(row.detection[1])),
    pair(f1(row.reEnable[0]), f1(row.reEnable[1])),
    pair(String(row.falseDowntimes[0]), String(row.falseDowntimes[1])),
    `${row.met}/${row.judged}`,
  ];
}

export function summaryTable(rows: SummaryRow[]): string {
  const table = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

/** One line per missed target, with both figures and, where known, why. */
export function missedLines(r: ScenarioReport): string[] {
  return r.judgements
    .filter((j) => j.met === false)
    .map(
      (j) =>
        `${r.scenario}: missed ${j.what}${j.outage !== undefined ? ` (outage ${j.outage + 1})` : ''}: ${j.product} (target ${j.target}${j.baseline ? `; baseline ${j.baseline}` : ''})${j.why ? ` — ${j.why}` : ''}`,
    );
}

export function summaryMarkdown(rows: SummaryRow[], mode: 'short' | 'full'): string {
  const lines = [
    `Product (P) against the baseline policy (B) on the same traffic, ${mode} runs. Figures over the outages longer than three detection windows (all outages where none is); delays are the worst outage's; "–" is never (not detected, or not re-enabled before the run ended or the route failed again).`,
    '',
    `| ${[...HEADERS, 'run (date, commit)'].join(' | ')} |`,
    `|${[...HEADERS, ''].map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${[...cells(r), r.run].join(' | ')} |`),
    '',
  ];
  return lines.join('\n');
}
