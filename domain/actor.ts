/**
 * The downtime actor's decisions as one pure reducer. The workflow (workflows/downtime.ts) waits,
 * reads, calls these functions and performs the actions they return; everything it decides is
 * here, with `now` passed in, so every branch is a row in a table test and the state carried
 * across continue-as-new is one type, `ActorState`.
 *
 * - `openingState`: a new downtime, disabled for bucket A from `now`, with its first page.
 * - `decideLook`: one look at the probe's outcomes (recovery test, probe share, restarts, expiry,
 *   flap hold, when to look next, which outcomes should wake the actor).
 * - `decideEscalation`: severity rises with breadth, traffic, age, acknowledgement and freezes;
 *   an unacknowledged SEV1/SEV2 is paged again.
 * - `requests`: each incident manager's request, with the refusal its update validator raises.
 */
import type { NoticeEvent } from './channels';
import type { ProbeCounts, ProbeDecision, ProbeSettings, OutageOutcomes } from './probe';
import {
  decideRecovery,
  leansToRecovery,
  lessCounted,
  nextLookMs,
  outageRate,
  probeFloor,
  provenOutcomes,
  restartsOnDoubt,
  seenAtRestart,
  strongSuccess,
  successWeight,
  wakesOnOutcome,
  wakesOnSuccess,
  withoutProvenShare,
} from './probe';
import { freezeAdjustedProbe } from './freeze';
import { decideTick, EndReason } from './lifecycle';
import { Scope, scopeLabel } from './scope';
import { Severity, computeSeverity, maxSeverity, raiseSeverity, severityRank } from './severity';

/** What detection saw when it judged the scope failing. */
export interface Evidence {
  at: number;
  /** System-relevant attempts (successes and system failures) over `windowMs`. */
  attempts: number;
  /** The window `attempts` were counted over. */
  windowMs: number;
  successes: number;
  rate: number;
  baseline: number;
  threshold: number;
  trafficShare: number;
  /**
   * Failing on the short window only: the scope's counts over the whole detection window, which
   * the recovery test's H0 uses instead (the short window's are selected on a dip).
   */
  detectionWindow?: { attempts: number; successes: number };
}

/** Timing and policy the actor needs, resolved from config at start so its history is self-contained. */
export interface DowntimePolicy {
  probeIntervalMs: number;
  expiryMs: number;
  minProbeSamples: number;
  probePercent: number;
  maxProbePercent: number;
  /** Share once recovery is proven short of the sample minimum (PROVEN_PROBE_PERCENT). */
  provenProbePercent: number;
  alpha: number;
  beta: number;
  unackedAfterMs: number;
  longAfterMs: number;
  veryLongAfterMs: number;
  repageIntervalMs: number;
  /** Flap guard: how long a reopened downtime's recovery must hold (FLAP_HOLD; 0: not held). */
  flapHoldMs: number;
  /** DETECTION_WINDOW: sizes the probe's floor share by the outage's age. */
  evidenceWindowMs: number;
}

/** What the actor knows of its downtime from the start and never changes. */
export interface ActorFacts {
  downtimeId: string;
  scope: Scope;
  openedAt: number;
  baseline: number;
  threshold: number;
  /** Manual or planned: stays disabled at least until then. */
  until?: number;
  /** Scheduled maintenance: it ends at `until`, whatever the probe says. */
  planned?: boolean;
  /** Flap guard: the downtime reopens one re-enabled shortly before. */
  reopens: boolean;
  evidence?: Evidence;
  policy: DowntimePolicy;
}

export interface Acknowledgement {
  by: string;
  at: number;
  note?: string;
}

/** Why and by whom the actor is closing. */
export interface Closing {
  reason: EndReason;
  by: string;
  supersededBy?: string;
}

/** The actor's whole state: what it decides on, what it saves, and what it carries across continue-as-new. */
export interface ActorState {
  phase: 'probing' | 'resolved';
  severity: Severity;
  /** Manual escalation: severity never below it. */
  severityFloor?: Severity;
  acknowledgement?: Acknowledgement;
  /** Kept disabled until then (an extension, a planned downtime's end). */
  extendedUntil?: number;
  expiresAt: number;
  probePercent: number;
  /** An incident manager's probe share: wins over the evidence's. */
  manualProbePercent?: number;
  pages: number;
  lastPageAt?: number;
  trafficShare: number;
  inFreeze: boolean;
  evidenceCount: number;
  lastProbe?: ProbeDecision;
  /** Where the probe test's current run starts. */
  probeSince: number;
  /** Outcomes of probeSince's counter bucket the run that ended there already counted. */
  probeSeen?: ProbeCounts;
  /** When the probe last proved "still failing". */
  lastFailingAt?: number;
  /** Outcomes measured while failing: detection's evidence, then each run that proved it (the test's H0). */
  outageOutcomes: OutageOutcomes;
  /** Flap guard: the first 'recovered' verdict since the last 'failing' one. */
  recoveredSince?: number;
  /** The record asks the API for a probeSuccess signal. */
  wakeOnProbeSuccess: boolean;
  /** The record asks the API for a probeOutcome signal. */
  wakeOnProbeOutcome: boolean;
  nextLookAt: number;
  closing?: Closing;
  resolvedAt?: number;
}

/** What a look reads: bucket B's outcomes since `probeSince`, the counter bucket holding `now`, and the freeze. */
export interface ProbeRead extends ProbeCounts {
  inFreeze: boolean;
  /** Start of the counter bucket holding `now`. */
  bucketStart: number;
  /** The outcomes in that bucket so far. */
  inBucket: ProbeCounts;
}

export interface Notice {
  key: string;
  downtimeId: string;
  /** The step it tells: which channels hear it (domain/channels.ts). */
  event: NoticeEvent;
  /** The webhook event type. */
  type: 'downtime.started' | 'downtime.updated' | 'downtime.resolved' | 'downtime.scheduled' | 'downtime.cancelled';
  text: string;
  at: number;
}
export interface Page {
  downtimeId: string;
  severity: Severity;
  /** Numbers the pages of one downtime. */
  n: number;
  at: number;
  text: string;
}
export interface TimelineEntry {
  downtimeId: string;
  /** Unique within the downtime: the entry is written once per key. */
  key: string;
  kind: string;
  text: string;
  at: number;
  by?: string;
}

/** What the workflow performs for a decision, in order. */
export type ActorAction = { kind: 'notify'; notice: Notice } | { kind: 'page'; page: Page } | { kind: 'timeline'; entry: TimelineEntry };

export interface ActorDecision {
  state: ActorState;
  actions: ActorAction[];
}

const SEVERITIES: readonly Severity[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];
const pages = (severity: Severity) => severity === 'SEV1' || severity === 'SEV2';

/** The scope's attempts per second when detected: sizes the probe's floor share and its prompt looks. */
export function evidenceRate(f: Pick<ActorFacts, 'evidence'>): number | undefined {
  return f.evidence && f.evidence.windowMs > 0 ? f.evidence.attempts / (f.evidence.windowMs / 1000) : undefined;
}

/**
 * Detection's measurement of the outage: over the whole detection window when it failed on the
 * short one (whose counts are selected on a dip).
 */
export function evidenceOutcomes(f: Pick<ActorFacts, 'evidence'>): OutageOutcomes | undefined {
  const counts = f.evidence?.detectionWindow ?? f.evidence;
  return counts ? { successes: counts.successes, attempts: counts.attempts } : undefined;
}

/**
 * The outage's success rate as measured so far (the recovery test's H0, see `outageRate`):
 * detection's evidence and the probe runs that proved "still failing". Undefined with nothing
 * measured. A recovered downtime keeps it, so that detection can tell a relapse (domain/relapse.ts).
 */
export function measuredOutage(s: Pick<ActorState, 'outageOutcomes'>, f: Pick<ActorFacts, 'evidence' | 'threshold'>): number | undefined {
  const measured = evidenceOutcomes(f);
  return outageRate([...(measured ? [measured] : []), provenOutcomes(s.outageOutcomes, measured)], f.threshold);
}

function severityAt(s: ActorState, f: ActorFacts, now: number, previous?: Severity): Severity {
  const { unackedAfterMs, longAfterMs, veryLongAfterMs } = f.policy;
  return computeSeverity(
    { scope: f.scope, trafficShare: s.trafficShare, openedAt: f.openedAt, now, acknowledged: s.acknowledgement !== undefined, inFreeze: s.inFreeze, floor: s.severityFloor, previous },
    { unackedAfterMs, longAfterMs, veryLongAfterMs },
  );
}

/** A new downtime, disabled for bucket A from `now`: its state and the first page when its severity calls for one. */
export function openingState(f: ActorFacts, now: number): { state: ActorState; page?: Page } {
  const blank: ActorState = {
    phase: 'probing',
    severity: 'SEV4',
    extendedUntil: f.until,
    expiresAt: f.openedAt + f.policy.expiryMs,
    probePercent: f.policy.probePercent,
    pages: 0,
    trafficShare: f.evidence?.trafficShare ?? 0,
    inFreeze: false,
    evidenceCount: 0,
    probeSince: now,
    outageOutcomes: { ...(evidenceOutcomes(f) ?? { successes: 0, attempts: 0 }) },
    wakeOnProbeSuccess: false,
    wakeOnProbeOutcome: false,
    nextLookAt: now + f.policy.probeIntervalMs,
  };
  const severity = severityAt(blank, f, now);
  // Planned maintenance is expected: nobody is paged for it beginning.
  if (f.planned || !pages(severity)) return { state: { ...blank, severity } };
  const page: Page = { downtimeId: f.downtimeId, severity, n: 1, at: now, text: `${scopeLabel(f.scope)} is ${severity}` };
  return { state: { ...blank, severity, pages: 1, lastPageAt: now }, page };
}

/** The probe's settings at this look: doubled caution in a freeze, no proven share while kept disabled. */
export function probeSettings(s: Pick<ActorState, 'inFreeze' | 'extendedUntil'>, policy: DowntimePolicy, now: number): ProbeSettings {
  const settings = freezeAdjustedProbe(
    {
      minSamples: policy.minProbeSamples,
      alpha: policy.alpha,
      beta: policy.beta,
      basePercent: policy.probePercent,
      maxPercent: policy.maxProbePercent,
      provenPercent: policy.provenProbePercent,
    },
    s.inFreeze,
  );
  const keptDisabled = s.extendedUntil !== undefined && now < s.extendedUntil;
  return keptDisabled ? withoutProvenShare(settings) : settings;
}

/**
 * One look at the probe. The sequential test judges the run's outcomes against the outage's
 * measured rate (domain/probe.ts); a run that proves "still failing" restarts on outcomes it has
 * not counted and joins the outage's measurements, and so does a run that leans toward failing
 * once that was proven, where one success is weak evidence (a partial degradation). Then the
 * clock decides (domain/lifecycle.ts decideTick): close as recovered or expired, keep disabled
 * past the expiry while still failing, hold a reopened downtime's recovery. Last, when to look
 * next and which bucket-B outcomes should wake the actor before then.
 */
/** When the actor next looks: at its next probe look, or a planned maintenance's end if sooner. */
export function nextWakeAt(s: ActorState, f: Pick<ActorFacts, 'planned' | 'until'>): number {
  return f.planned && f.until !== undefined ? Math.min(s.nextLookAt, f.until) : s.nextLookAt;
}

/** A planned maintenance whose window is over closes as completed, before any probe verdict. */
export function maintenanceOver(s: ActorState, now: number, f: Pick<ActorFacts, 'planned' | 'until'>): ActorState | undefined {
  if (!f.planned || f.until === undefined || now < f.until || s.closing) return undefined;
  return { ...s, closing: { reason: 'completed', by: 'schedule' } };
}

export function decideLook(s: ActorState, read: ProbeRead, now: number, f: ActorFacts): ActorDecision {
  const { policy } = f;
  const outcome = lessCounted(read, s.probeSeen);
  let probeSince = s.probeSince;
  let probeSeen = s.probeSeen;
  let outageOutcomes = s.outageOutcomes;
  let { lastFailingAt, recoveredSince } = s;
  /** Restarts the test in the bucket of this look, less what the ended runs counted there. */
  const restartRun = (keepSuccesses = false) => {
    const earlier = probeSince === read.bucketStart ? probeSeen : undefined;
    probeSince = read.bucketStart;
    probeSeen = seenAtRestart(read.inBucket, earlier, keepSuccesses);
  };
  /** The ended run's outcomes measured the outage: its rate (H0) counts them. */
  const keepAsOutage = () => {
    outageOutcomes = { successes: outageOutcomes.successes + outcome.successes, attempts: outageOutcomes.attempts + outcome.successes + outcome.failures };
  };

  const inFreeze = read.inFreeze;
  const settings = probeSettings({ inFreeze, extendedUntil: s.extendedUntil }, policy, now);
  const outage = measuredOutage(s, f);
  /** How far one probe success moves the test toward proof against that rate. */
  const weight = successWeight(f.baseline, f.threshold, outage);
  const rate = evidenceRate(f);
  const floorPercent = probeFloor(settings.basePercent, rate, policy.probeIntervalMs / 1000, { ageMs: now - f.openedAt, youngMs: policy.evidenceWindowMs });
  const provenFailing = lastFailingAt !== undefined;
  const doubts = provenFailing && !strongSuccess(weight, settings);
  const decision = decideRecovery(outcome.successes, outcome.failures, f.baseline, f.threshold, settings, { outage, provenFailing, floorPercent, restartsOnDoubt: doubts });
  const probePercent = s.manualProbePercent ?? decision.probePercent;

  if (decision.verdict === 'failing') {
    // Proven "still failing": restart on fresh outcomes (none counted twice), keep what it saw as
    // the outage's rate. Where a success is strong evidence, the recovery may have begun in this
    // bucket after the failures that proved the run: the new run keeps those successes.
    restartRun(strongSuccess(weight, settings));
    lastFailingAt = now;
    keepAsOutage();
    recoveredSince = undefined;
  } else if (decision.verdict === 'recovered') {
    recoveredSince ??= now;
  } else if (doubts && restartsOnDoubt(decision, provenFailing)) {
    // Outcomes that lean toward failing after a proof are the outage's: start again without them.
    restartRun();
    keepAsOutage();
  }
  const holdMs = f.reopens ? policy.flapHoldMs : 0;
  const tick = decideTick({ decision, now, expiresAt: s.expiresAt, extendedUntil: s.extendedUntil, expiryMs: policy.expiryMs, lastFailingAt, holdMs, recoveredSince });
  // Holding a recovery: each look judges fresh outcomes, so a relapse shows within a look or two.
  if (holdMs > 0 && recoveredSince !== undefined && tick.kind === 'continue') restartRun();

  const state: ActorState = { ...s, inFreeze, lastProbe: decision, probePercent, probeSince, probeSeen, outageOutcomes, lastFailingAt, recoveredSince };
  const actions: ActorAction[] = [];
  if (tick.kind === 'close') return { state: { ...state, closing: { reason: tick.reason, by: 'system' } }, actions };
  if (tick.kind === 'extend') {
    state.expiresAt = tick.expiresAt;
    const text = `Expiry reached but the probe shows it still failing: kept disabled until ${new Date(tick.expiresAt).toISOString()}`;
    actions.push({ kind: 'timeline', entry: { downtimeId: f.downtimeId, key: `still-failing:${now}`, kind: 'still-failing', text, at: now } });
  }
  const refute = leansToRecovery(decision) ? { baseline: f.baseline, threshold: f.threshold, outage } : undefined;
  state.nextLookAt = now + nextLookMs({ ...decision, probePercent }, settings.minSamples, rate, policy.probeIntervalMs, refute);
  state.wakeOnProbeSuccess = wakesOnSuccess(decision, weight);
  state.wakeOnProbeOutcome = wakesOnOutcome(decision);
  return { state, actions };
}

/** Did a probe signal that came since the last look ask for a look now? */
export function wokenBy(s: Pick<ActorState, 'wakeOnProbeSuccess' | 'wakeOnProbeOutcome'>, signalled: { success: boolean; outcome: boolean }): boolean {
  return (s.wakeOnProbeSuccess && signalled.success) || (s.wakeOnProbeOutcome && signalled.outcome);
}

/** Raises severity when its inputs say so, telling ops and paging on the way up; re-pages an unacknowledged SEV1/SEV2. */
export function decideEscalation(s: ActorState, now: number, f: ActorFacts): ActorDecision {
  // Planned maintenance does not escalate with time or silence; an incident manager may still raise it (and page).
  const raisedByHand = s.severityFloor !== undefined && severityRank(s.severityFloor) < severityRank(s.severity) ? s.severityFloor : s.severity;
  const next = f.planned ? raisedByHand : severityAt(s, f, now, s.severity);
  const label = scopeLabel(f.scope);
  const page = (severity: Severity, text: string): ActorDecision => {
    const n = s.pages + 1;
    const state = { ...s, severity, pages: n, lastPageAt: now };
    return { state, actions: [{ kind: 'page', page: { downtimeId: f.downtimeId, severity, n, at: now, text } }] };
  };
  if (severityRank(next) < severityRank(s.severity)) {
    const notice: ActorAction = { kind: 'notify', notice: { key: `${f.downtimeId}:severity:${next}`, downtimeId: f.downtimeId, event: 'escalated', type: 'downtime.updated', text: `${label} escalated ${s.severity} → ${next}`, at: now } };
    if (!pages(next)) return { state: { ...s, severity: next }, actions: [notice] };
    const paged = page(next, `${label} is ${next}`);
    return { state: paged.state, actions: [notice, ...paged.actions] };
  }
  const repage = pages(s.severity) && !s.acknowledgement && s.lastPageAt !== undefined && now - s.lastPageAt >= f.policy.repageIntervalMs;
  return repage ? page(s.severity, `${label} is still ${s.severity} and unacknowledged`) : { state: s, actions: [] };
}

/** Fresh detection evidence: counted, and its traffic share feeds the next severity. */
export function withEvidence(s: ActorState, trafficShare: number): ActorState {
  return { ...s, evidenceCount: s.evidenceCount + 1, trafficShare: Math.max(s.trafficShare, trafficShare) };
}

/** A broader downtime covers this one: close as superseded, unless already closing. */
export function supersededState(s: ActorState, byDowntimeId: string): ActorState {
  return s.closing || s.phase === 'resolved' ? s : { ...s, closing: { reason: 'superseded', by: 'detection', supersededBy: byDowntimeId } };
}

export function resolvedState(s: ActorState, at: number): ActorState {
  return { ...s, phase: 'resolved', resolvedAt: at };
}

/** What the record holds of the live state (the API and the checkout snapshot read it). */
export function persisted(s: ActorState) {
  const { severity, probePercent, expiresAt, extendedUntil, acknowledgement, lastProbe, wakeOnProbeSuccess, wakeOnProbeOutcome } = s;
  return { severity, probePercent, expiresAt, extendedUntil, acknowledgement, lastProbe, wakeOnProbeSuccess, wakeOnProbeOutcome };
}

/** One line for the Web UI's workflow details. */
export function actorDetails(s: ActorState, scope: Scope): string {
  const probe = s.lastProbe ? `, probe ${s.lastProbe.successes}/${s.lastProbe.samples} ok (${s.lastProbe.verdict})` : '';
  const ack = s.acknowledgement ? `, acknowledged by ${s.acknowledgement.by}` : ', not acknowledged';
  const expires = new Date(Math.max(s.expiresAt, s.extendedUntil ?? 0)).toISOString();
  return `**${s.severity}** ${scopeLabel(scope)} — ${s.phase}${probe}, probe share ${s.probePercent}%, expires ${expires}${ack}`;
}

// --- Incident managers' requests -------------------------------------------------------------

export interface Actor {
  by: string;
  reason?: string;
}
export interface AcknowledgeRequest extends Actor {
  note?: string;
}
export type ResolveRequest = Actor;
export interface ExtendRequest extends Actor {
  /** Epoch ms: keep disabled at least until then. */
  until: number;
}
export interface EscalateRequest extends Actor {
  /** Raise to at least this severity; one step up when absent. */
  severity?: Severity;
}
export interface ProbePercentRequest extends Actor {
  percent: number;
}

/**
 * Why a request is refused: the downtime is closed, or its state refuses this request (both 409
 * at the API), or a field of the request is invalid (400, naming `field`).
 */
export type Refusal = { kind: 'closed' | 'conflict'; message: string } | { kind: 'invalid'; field: string; message: string };

/** One request: when it is refused (the update's validator), and what it does. */
export interface RequestRule<R> {
  refuse(s: ActorState, req: R, now: number, f: Pick<ActorFacts, 'downtimeId'>): Refusal | undefined;
  apply(s: ActorState, req: R, now: number, f: Pick<ActorFacts, 'downtimeId'>): ActorDecision;
}

const invalid = (field: string, detail: string): Refusal => ({ kind: 'invalid', field, message: `${field}: ${detail}` });

/** Refusals every request shares: who is acting, and a downtime still open. */
function refuseAny(s: ActorState, req: Actor | undefined, f: Pick<ActorFacts, 'downtimeId'>): Refusal | undefined {
  if (!req || typeof req.by !== 'string' || req.by.trim() === '') return invalid('by', 'who is acting is required');
  if (s.phase === 'resolved' || s.closing) return { kind: 'closed', message: `downtime ${f.downtimeId} is already ${s.phase === 'resolved' ? 'resolved' : 'closing'}` };
  return undefined;
}

const entry = (f: Pick<ActorFacts, 'downtimeId'>, key: string, kind: string, text: string, at: number, by: string): ActorAction => ({
  kind: 'timeline',
  entry: { downtimeId: f.downtimeId, key, kind, text, at, by },
});
const because = (why: string | undefined) => (why ? `: ${why}` : '');

export const downtimeRequests: {
  acknowledge: RequestRule<AcknowledgeRequest>;
  resolve: RequestRule<ResolveRequest>;
  extend: RequestRule<ExtendRequest>;
  escalate: RequestRule<EscalateRequest>;
  setProbePercent: RequestRule<ProbePercentRequest>;
} = {
  acknowledge: {
    refuse: (s, req, _now, f) => refuseAny(s, req, f) ?? (s.acknowledgement ? { kind: 'conflict', message: `already acknowledged by ${s.acknowledgement.by}` } : undefined),
    apply: (s, req, now, f) => {
      const text = `Acknowledged by ${req.by}${because(req.note)}`;
      return {
        state: { ...s, acknowledgement: { by: req.by, at: now, note: req.note } },
        actions: [
          entry(f, `ack:${now}`, 'acknowledged', text, now, req.by),
          { kind: 'notify', notice: { key: `${f.downtimeId}:acknowledged`, downtimeId: f.downtimeId, event: 'acknowledged', type: 'downtime.updated', text, at: now } },
        ],
      };
    },
  },
  resolve: {
    refuse: (s, req, _now, f) => refuseAny(s, req, f),
    apply: (s, req) => ({ state: { ...s, closing: { reason: 'manual', by: req.by } }, actions: [] }),
  },
  extend: {
    refuse: (s, req, now, f) => {
      const any = refuseAny(s, req, f);
      if (any) return any;
      if (typeof req.until !== 'number' || !Number.isFinite(req.until)) return invalid('until', 'a time is required');
      return req.until <= now ? invalid('until', 'must be in the future') : undefined;
    },
    apply: (s, req, now, f) => ({
      state: { ...s, extendedUntil: req.until },
      actions: [entry(f, `extend:${now}`, 'extended', `Kept disabled until ${new Date(req.until).toISOString()} by ${req.by}${because(req.reason)}`, now, req.by)],
    }),
  },
  escalate: {
    refuse: (s, req, _now, f) => {
      const any = refuseAny(s, req, f);
      if (any) return any;
      if (req.severity !== undefined && !SEVERITIES.includes(req.severity)) return invalid('severity', 'expected SEV1, SEV2, SEV3 or SEV4');
      // The downtime's severity, not the request, refuses these: a conflict with its state.
      if (req.severity !== undefined && severityRank(req.severity) >= severityRank(s.severity)) return { kind: 'conflict', message: `already ${s.severity}; escalation must raise it` };
      return req.severity === undefined && s.severity === 'SEV1' ? { kind: 'conflict', message: 'already SEV1, the highest severity' } : undefined;
    },
    apply: (s, req, now, f) => {
      const target = req.severity ?? raiseSeverity(s.severity, 1);
      return {
        state: { ...s, severityFloor: s.severityFloor ? maxSeverity(s.severityFloor, target) : target },
        actions: [entry(f, `escalate:${now}`, 'escalated', `Escalated to ${target} by ${req.by}${because(req.reason)}`, now, req.by)],
      };
    },
  },
  setProbePercent: {
    refuse: (s, req, _now, f) =>
      refuseAny(s, req, f) ?? (typeof req.percent !== 'number' || !(req.percent > 0 && req.percent < 100) ? invalid('percent', 'expected a number above 0 and below 100') : undefined),
    apply: (s, req, now, f) => ({
      state: { ...s, manualProbePercent: req.percent, probePercent: req.percent },
      actions: [entry(f, `probe:${now}`, 'probe-share', `Probe share set to ${req.percent}% by ${req.by}`, now, req.by)],
    }),
  },
};
