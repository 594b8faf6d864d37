/**
 * The downtime actor: one durable workflow per open downtime of a scope. It records the
 * downtime and its incident, notifies, alerts the partner, disables the scope for bucket A,
 * probes bucket B every PROBE_INTERVAL, escalates as severity rises, takes incident managers'
 * updates, and re-enables on proven recovery, on expiry without enough evidence, manually, or
 * when a broader downtime supersedes it.
 */
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  EndReason,
  ProbeDecision,
  Severity,
  computeSeverity,
  decideRecovery,
  decideTick,
  freezeAdjustedProbe,
  raiseSeverity,
  scopeLabel,
  severityRank,
  maxSeverity,
  outageRate,
  provenOutcomes,
  lessCounted,
  nextLookMs,
  leansToRecovery,
  probeFloor,
  restartsOnDoubt,
  seenAtRestart,
  strongSuccess,
  successWeight,
  wakesOnSuccess,
  wakesOnOutcome,
  WAKING_SUCCESS_FRACTION_LOOKS_ON_OUTCOME,
  withoutProvenShare,
} from '../domain';
import {
  Acknowledgement,
  Actor,
  CarriedState,
  DOWNTIME_CLOSED,
  DowntimeInput,
  DowntimeResult,
  DowntimeView,
  INVALID_REQUEST,
  SA,
  acknowledgeUpdate,
  escalateUpdate,
  evidenceSignal,
  extendUpdate,
  probeSuccessSignal,
  probeOutcomeSignal,
  resolveUpdate,
  setProbePercentUpdate,
  stateQuery,
  supersedeSignal,
} from '../common/definitions';

/** Patch: a probe tick that changed none of the persisted state skips saveDowntimeState. */
export const SKIP_UNCHANGED_SAVES = 'skip-unchanged-saves';

/**
 * Patch: recovery judged on sharper evidence. The test's H0 is the outage's measured rate
 * (domain/probe.ts), a restarted test starts at the next counter bucket, the quarter probe share
 * holds once "still failing" was proven, and a reopened downtime (flap guard) holds a recovery
 * for `flapHoldMs` when its policy has one (FLAP_HOLD; domain/lifecycle.ts).
 */
export const RECOVERY_EVIDENCE = 'recovery-evidence';

/** Patch: disable right after recording, then notify, alert and page together. */
export const DISABLE_BEFORE_NOTIFYING = 'disable-before-notifying';

/**
 * Patch: the start runs as local activities in the first workflow task: one records the downtime
 * already disabled (no disableScope update, no activity-task round trip through the server before
 * bucket A stops seeing the scope), then notify, alert and page go out together.
 */
export const START_STEPS_LOCAL = 'start-steps-local';

/**
 * Patch: the whole start is one local activity, openDowntime: the record already disabled, then
 * the incident, the timeline, the notification, the partner alert and the page written side by
 * side. One local activity instead of three; with 1,000 downtimes opening at once the three cost
 * about a third of the time until all were disabled (bench/actors.ts).
 */
export const START_IN_ONE_STEP = 'start-in-one-step';

/**
 * Patch: while the probe leans toward recovery, the next look comes as soon as the widened share
 * should have brought the outcomes the test lacks (domain/probe.ts nextLookMs), not a whole
 * PROBE_INTERVAL later: a healed route is hidden from bucket A that much less.
 */
export const PROMPT_LOOKS = 'prompt-looks';

/**
 * Patch: a restarted probe test starts in the counter bucket holding the look that restarted it,
 * less the outcomes of that bucket the ended run counted, instead of at the next bucket. Before,
 * the rest of that bucket was never counted: up to a bucket of recovery evidence thrown away, and
 * the next look saw almost nothing.
 */
export const EXACT_RESTARTS = 'exact-restarts';

/**
 * Patch: when one probe success would be strong evidence of recovery and the test does not lean
 * toward it yet (domain/probe.ts wakesOnSuccess), the record asks the API for a probeSuccess
 * signal, and the next look comes when it arrives instead of up to a PROBE_INTERVAL later.
 */
export const LOOK_ON_SUCCESS = 'look-on-success';

/**
 * Patch: the outage's rate (H0) takes detection's evidence and the probe's proven-failing runs as
 * two measurements, pooled when they agree and the lower bound when they do not (domain/probe.ts
 * outageRate). Pooled regardless, a detection window of mostly healthy traffic held a hard
 * outage's H0 near 60%.
 */
export const OUTAGE_MEASURES_APART = 'outage-measures-apart';

/**
 * Patch: the probe's floor share falls as the outage ages past DETECTION_WINDOW, from one probe
 * outcome per look to one per three (domain/probe.ts probeFloor): a long outage of a quiet bank
 * cost more payments through its probe than the baseline's blanket disable did.
 */
export const FLOOR_BY_AGE = 'floor-by-age';

/**
 * Patch: during a hard outage, a test restarted by "still failing" keeps the successes of its
 * bucket when they are all the ended run saw there (domain/probe.ts seenAtRestart): the first
 * success after a UPI outage used to be spent in the run its last failures proved failing.
 */
export const KEEP_RESTART_SUCCESSES = 'keep-restart-successes';

/**
 * Patch: once the probe has proven "still failing", a look whose run leans toward failing restarts
 * the test too, and recovery needs a raised bound (domain/probe.ts restartsOnDoubt): a partial
 * degradation's recovery waited behind outage outcomes still in the run.
 */
export const RESTART_ON_DOUBT = 'restart-on-doubt';

/**
 * Patch: the restart on doubt only where one success is weak evidence (domain/probe.ts
 * restartsOnDoubt): during a hard outage a run restarted at zero leaned hard toward recovery on
 * each of the outage's rare successes and widened the probe share to its maximum for a look.
 */
export const DOUBT_ONLY_WHEN_WEAK = 'doubt-only-when-weak';

/**
 * Patch: while the probe leans toward recovery, the next look also comes no later than when the
 * failures that would undo the lean should have arrived if the scope is still failing
 * (domain/probe.ts nextLookMs with `refute`): during a hard outage one of its own successes
 * widened the share to its maximum until a look a whole interval later, each widened attempt a
 * failed payment, where two failures a fraction of a second later already undo it.
 */
export const LOOK_TO_REFUTE = 'look-to-refute';

/**
 * Patch: while the probe leans toward recovery, the record asks the API for a probeOutcome signal
 * and the next bucket-B outcome brings the next look (domain/probe.ts wakesOnOutcome); outside a
 * lean, a success wakes it when it carries a quarter of the way to proof instead of half
 * (WAKING_SUCCESS_FRACTION_LOOKS_ON_OUTCOME). The prompt looks' sub-second timers fired after
 * about a second, and on the flapping route a success after an outage weighed a third of the way
 * to proof and woke nothing.
 */
export const LOOK_ON_OUTCOME = 'look-on-outcome';

/** Timeout and retry of every step, whether it runs as a task or inside the workflow task. */
const STEP_OPTIONS: wf.ActivityOptions & wf.LocalActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: ['ScopeError'] },
};

const acts = wf.proxyActivities<Activities>(STEP_OPTIONS);

/** Steps run in the workflow task itself (short, idempotent database writes): no task round trips. */
const local = wf.proxyLocalActivities<Activities>(STEP_OPTIONS);

/** A run continues as new well before its history gets heavy (a 24-hour downtime stays small). */
const MAX_EVENTS_PER_RUN = 1_000;

function invalid(message: string): never {
  throw wf.ApplicationFailure.create({ type: INVALID_REQUEST, message, nonRetryable: true });
}

function requireActor(req: Actor | undefined): void {
  if (!req || typeof req.by !== 'string' || req.by.trim() === '') invalid('by: who is acting is required');
}

export async function downtimeWorkflow(input: DowntimeInput): Promise<DowntimeResult> {
  const { policy } = input;
  const carried = input.carried;
  const settingsOf = (inFreeze: boolean) =>
    freezeAdjustedProbe(
      {
        minSamples: policy.minProbeSamples,
        alpha: policy.alpha,
        beta: policy.beta,
        basePercent: policy.probePercent,
        maxPercent: policy.maxProbePercent,
        // Downtimes started before PROVEN_PROBE_PERCENT keep the maximum (same decisions on replay).
        ...(policy.provenProbePercent !== undefined ? { provenPercent: policy.provenProbePercent } : {}),
      },
      inFreeze,
    );
  const severitySettings = { unackedAfterMs: policy.unackedAfterMs, longAfterMs: policy.longAfterMs, veryLongAfterMs: policy.veryLongAfterMs };

  let trafficShare = carried?.trafficShare ?? input.evidence?.trafficShare ?? 0;
  let inFreeze = false;
  let acknowledgement: Acknowledgement | undefined = carried?.acknowledgement;
  let severityFloor: Severity | undefined = carried?.severityFloor;
  const severityNow = (now: number, previous?: Severity): Severity =>
    computeSeverity(
      { scope: input.scope, trafficShare, openedAt: input.openedAt, now, acknowledged: acknowledgement !== undefined, inFreeze, floor: severityFloor, previous },
      severitySettings,
    );

  let severity: Severity = carried?.severity ?? severityNow(Date.now());
  let expiresAt = carried?.expiresAt ?? input.openedAt + policy.expiryMs;
  let extendedUntil = carried?.extendedUntil ?? input.until;
  let probePercent = carried?.probePercent ?? policy.probePercent;
  let manualProbePercent = carried?.manualProbePercent;
  let pages = carried?.pages ?? 0;
  let lastPageAt = carried?.lastPageAt;
  let evidenceCount = carried?.evidenceCount ?? 0;
  let lastProbe: ProbeDecision | undefined = carried?.lastProbe;
  let probeSince = carried?.probeSince ?? input.openedAt;
  let lastFailingAt = carried?.lastFailingAt;
  /** Flap guard: the first 'recovered' verdict since the last 'failing' one. */
  let recoveredSince = carried?.recoveredSince;
  /** What the run that ended in probeSince's counter bucket already counted there (EXACT_RESTARTS). */
  let probeSeen = carried?.probeSeen;
  /** The record asks the API for a probeSuccess signal (LOOK_ON_SUCCESS); undefined before the patch. */
  let wakeOnSuccess = carried?.wakeOnProbeSuccess;
  /** A probeSuccess signal came since the last look. */
  let successSignalled = false;
  /** The record asks the API for a probeOutcome signal (LOOK_ON_OUTCOME); undefined before the patch. */
  let wakeOnOutcome = carried?.wakeOnProbeOutcome;
  /** A probeOutcome signal came since the last look. */
  let outcomeSignalled = false;
  /** The scope's attempts per second when detected, which sizes the probe's floor share and prompt looks. */
  const evidenceWindowMs = input.evidence?.windowMs ?? policy.evidenceWindowMs;
  const evidenceRate = input.evidence && evidenceWindowMs ? input.evidence.attempts / (evidenceWindowMs / 1000) : undefined;
  /**
   * Outcomes measured while failing: the detection evidence (over the whole detection window when
   * it failed on the short one, whose counts are selected on a dip), then each probe run that
   * proved "still failing".
   */
  const evidenceCounts = input.evidence?.detectionWindow ?? input.evidence;
  const evidenceOutcomes = evidenceCounts ? { successes: evidenceCounts.successes, attempts: evidenceCounts.attempts } : undefined;
  const outageOutcomes = carried?.outageOutcomes ?? { ...(evidenceOutcomes ?? { successes: 0, attempts: 0 }) };
  let phase: DowntimeView['phase'] = carried?.startedRecorded ? 'probing' : 'disabling';
  let closeRequest: { reason: EndReason; by: string; supersededBy?: string; resolvedAt?: number } | undefined;
  let changed = false;

  const view = (): DowntimeView => ({
    downtimeId: input.downtimeId,
    scope: input.scope,
    scopeKey: input.scopeKey,
    origin: input.origin,
    status: phase === 'resolved' ? 'resolved' : 'open',
    phase,
    severity,
    acknowledgement,
    openedAt: input.openedAt,
    expiresAt,
    extendedUntil,
    probePercent,
    lastProbe,
    evidenceCount,
    pages,
    endReason: closeRequest?.reason,
    resolvedAt: closeRequest?.resolvedAt,
  });

  const describe = () =>
    wf.setCurrentDetails(
      `**${severity}** ${scopeLabel(input.scope)} — ${phase}` +
        (lastProbe ? `, probe ${lastProbe.successes}/${lastProbe.samples} ok (${lastProbe.verdict})` : '') +
        `, probe share ${probePercent}%, expires ${new Date(Math.max(expiresAt, extendedUntil ?? 0)).toISOString()}` +
        (acknowledgement ? `, acknowledged by ${acknowledgement.by}` : ', not acknowledged'),
    );
  const publish = () => {
    wf.upsertSearchAttributes([
      { key: SA.severity, value: severity },
      { key: SA.state, value: phase === 'resolved' ? 'resolved' : 'open' },
    ]);
    describe();
  };

  const assertOpen = () => {
    if (phase === 'resolved' || closeRequest) {
      throw wf.ApplicationFailure.create({ type: DOWNTIME_CLOSED, message: `downtime ${input.downtimeId} is already ${phase === 'resolved' ? 'resolved' : 'closing'}`, nonRetryable: true });
    }
  };

  wf.setHandler(stateQuery, view);
  // Fresh evidence only feeds the next probe tick's severity: detection signals every cycle, and
  // waking for each would fill the history with saves that change nothing.
  wf.setHandler(evidenceSignal, (ev) => {
    evidenceCount += 1;
    trafficShare = Math.max(trafficShare, ev.trafficShare);
  });
  wf.setHandler(probeSuccessSignal, () => {
    successSignalled = true;
  });
  wf.setHandler(probeOutcomeSignal, () => {
    outcomeSignalled = true;
  });
  wf.setHandler(supersedeSignal, (s) => {
    if (!closeRequest && phase !== 'resolved') closeRequest = { reason: 'superseded', by: 'detection', supersededBy: s.byDowntimeId };
  });

  wf.setHandler(
    acknowledgeUpdate,
    async (req) => {
      acknowledgement = { by: req.by, at: Date.now(), note: req.note };
      await acts.recordTimeline({ downtimeId: input.downtimeId, key: `ack:${acknowledgement.at}`, kind: 'acknowledged', text: `Acknowledged by ${req.by}${req.note ? `: ${req.note}` : ''}`, at: acknowledgement.at, by: req.by });
      changed = true;
      return view();
    },
    {
      validator: (req) => {
        requireActor(req);
        assertOpen();
        if (acknowledgement) invalid(`already acknowledged by ${acknowledgement.by}`);
      },
    },
  );

  wf.setHandler(
    resolveUpdate,
    async (req) => {
      closeRequest = { reason: 'manual', by: req.by };
      await wf.condition(() => phase === 'resolved');
      return view();
    },
    { validator: (req) => { requireActor(req); assertOpen(); } },
  );

  wf.setHandler(
    extendUpdate,
    async (req) => {
      extendedUntil = req.until;
      const at = Date.now();
      await acts.recordTimeline({ downtimeId: input.downtimeId, key: `extend:${at}`, kind: 'extended', text: `Kept disabled until ${new Date(req.until).toISOString()} by ${req.by}${req.reason ? `: ${req.reason}` : ''}`, at, by: req.by });
      changed = true;
      return view();
    },
    {
      validator: (req) => {
        requireActor(req);
        assertOpen();
        if (typeof req.until !== 'number' || !Number.isFinite(req.until)) invalid('until: a time is required');
        if (req.until <= Date.now()) invalid('until: must be in the future');
      },
    },
  );

  wf.setHandler(
    escalateUpdate,
    async (req) => {
      const target = req.severity ?? raiseSeverity(severity, 1);
      severityFloor = severityFloor ? maxSeverity(severityFloor, target) : target;
      const at = Date.now();
      await acts.recordTimeline({ downtimeId: input.downtimeId, key: `escalate:${at}`, kind: 'escalated', text: `Escalated to ${target} by ${req.by}${req.reason ? `: ${req.reason}` : ''}`, at, by: req.by });
      changed = true;
      return view();
    },
    {
      validator: (req) => {
        requireActor(req);
        assertOpen();
        if (req.severity !== undefined && !['SEV1', 'SEV2', 'SEV3', 'SEV4'].includes(req.severity)) invalid('severity: expected SEV1, SEV2, SEV3 or SEV4');
        if (req.severity !== undefined && severityRank(req.severity) >= severityRank(severity)) invalid(`severity: already ${severity}; escalation must raise it`);
        if (req.severity === undefined && severity === 'SEV1') invalid('severity: already SEV1');
      },
    },
  );

  wf.setHandler(
    setProbePercentUpdate,
    async (req) => {
      manualProbePercent = req.percent;
      probePercent = req.percent;
      const at = Date.now();
      await acts.recordTimeline({ downtimeId: input.downtimeId, key: `probe:${at}`, kind: 'probe-share', text: `Probe share set to ${req.percent}% by ${req.by}`, at, by: req.by });
      changed = true;
      return view();
    },
    {
      validator: (req) => {
        requireActor(req);
        assertOpen();
        if (typeof req.percent !== 'number' || !(req.percent > 0 && req.percent < 100)) invalid('percent: expected a number above 0 and below 100');
      },
    },
  );

  /** The state last persisted, so a probe tick that changed nothing writes nothing. */
  let savedState: string | undefined;
  const save = async () => {
    const state = { severity, probePercent, expiresAt, extendedUntil, acknowledgement, lastProbe, ...(wakeOnSuccess !== undefined ? { wakeOnProbeSuccess: wakeOnSuccess } : {}), ...(wakeOnOutcome !== undefined ? { wakeOnProbeOutcome: wakeOnOutcome } : {}) };
    const key = wf.patched(SKIP_UNCHANGED_SAVES) ? JSON.stringify(state) : undefined;
    if (key !== undefined && key === savedState) return;
    await acts.saveDowntimeState({ downtimeId: input.downtimeId, at: Date.now(), ...state });
    savedState = key;
  };

  /** Raises severity when the inputs say so; notifies and pages on the way up; re-pages the unacknowledged. */
  const escalateIfNeeded = async (now: number) => {
    const next = severityNow(now, severity);
    if (severityRank(next) < severityRank(severity)) {
      const from = severity;
      severity = next;
      await acts.notify({ key: `${input.downtimeId}:severity:${next}`, downtimeId: input.downtimeId, type: 'downtime.updated', text: `${scopeLabel(input.scope)} escalated ${from} → ${next}`, at: now, data: { ...view() } });
      changed = true;
      if (next === 'SEV1' || next === 'SEV2') {
        pages += 1;
        lastPageAt = now;
        await acts.page({ downtimeId: input.downtimeId, severity: next, n: pages, at: now, text: `${scopeLabel(input.scope)} is ${next}` });
      }
    } else if (
      (severity === 'SEV1' || severity === 'SEV2') &&
      !acknowledgement &&
      lastPageAt !== undefined &&
      now - lastPageAt >= policy.repageIntervalMs
    ) {
      pages += 1;
      lastPageAt = now;
      await acts.page({ downtimeId: input.downtimeId, severity, n: pages, at: now, text: `${scopeLabel(input.scope)} is still ${severity} and unacknowledged` });
      changed = true;
    }
  };

  // 1-2. Record, open the incident, disable for bucket A, notify, alert the partner.
  const startedNotice = () => ({
    key: `${input.downtimeId}:started`,
    downtimeId: input.downtimeId,
    type: 'downtime.started' as const,
    text: `${scopeLabel(input.scope)} is down (${severity}): ${input.reason}`,
    at: input.openedAt,
    data: { ...view() },
  });
  const partnerAlert = () => ({ downtimeId: input.downtimeId, scope: input.scope, at: input.openedAt });
  /** The first page when the severity calls for one (counted in `pages`), else undefined. */
  const firstPage = (at: number) => {
    if (severity !== 'SEV1' && severity !== 'SEV2') return undefined;
    pages += 1;
    lastPageAt = at;
    return { downtimeId: input.downtimeId, severity, n: pages, at, text: `${scopeLabel(input.scope)} is ${severity}` };
  };
  const startsInOneStep = !carried?.startedRecorded && wf.patched(START_IN_ONE_STEP);
  const startsLocally = !carried?.startedRecorded && !startsInOneStep && wf.patched(START_STEPS_LOCAL);
  if (startsInOneStep) {
    // Recorded already disabled, everything else alongside, in this workflow task.
    const disabledAt = Date.now();
    probeSince = disabledAt;
    phase = 'probing';
    publish();
    const page = firstPage(disabledAt);
    await local.openDowntime(input, severity, expiresAt, disabledAt, { notify: startedNotice(), partner: partnerAlert(), page });
  } else if (startsLocally || (!carried?.startedRecorded && wf.patched(DISABLE_BEFORE_NOTIFYING))) {
    // Histories from before START_IN_ONE_STEP. Disabling comes right after the record: every
    // moment before it is checkouts failing. The notification, the partner alert and the page
    // then go out together.
    const steps = startsLocally ? local : acts;
    let disabledAt: number;
    if (startsLocally) {
      // Recorded already disabled, in this workflow task.
      disabledAt = Date.now();
      await local.recordDowntime(input, severity, expiresAt, disabledAt);
    } else {
      // Histories from before START_STEPS_LOCAL: record, then disable, as two activities.
      await acts.recordDowntime(input, severity, expiresAt);
      disabledAt = Date.now();
      await acts.disableScope(input.downtimeId, disabledAt);
    }
    probeSince = disabledAt;
    phase = 'probing';
    publish();
    const page = firstPage(disabledAt);
    await Promise.all([steps.notify(startedNotice()), steps.alertPartner(partnerAlert()), page ? steps.page(page) : undefined]);
  } else if (!carried?.startedRecorded) {
    // Histories from before DISABLE_BEFORE_NOTIFYING: notified first, then disabled.
    await acts.recordDowntime(input, severity, expiresAt);
    publish();
    await acts.notify(startedNotice());
    await acts.alertPartner(partnerAlert());
    const disabledAt = Date.now();
    await acts.disableScope(input.downtimeId, disabledAt);
    probeSince = disabledAt;
    phase = 'probing';
    const page = firstPage(disabledAt);
    if (page) await acts.page(page);
  }
  // A local start published already, in the same workflow task: nothing has changed since.
  if (!startsLocally && !startsInOneStep) publish();

  // 3-5. Probe, wait for sample size or expiry, escalate.
  let nextProbeAt = Date.now() + policy.probeIntervalMs;
  /** A probe success or outcome the record asked for: look now. */
  const woken = () => (wakeOnSuccess === true && successSignalled) || (wakeOnOutcome === true && outcomeSignalled);
  while (!closeRequest) {
    await wf.condition(() => closeRequest !== undefined || changed || woken(), Math.max(1, nextProbeAt - Date.now()));
    if (closeRequest) break;
    const now = Date.now();
    if (changed && now < nextProbeAt && !woken()) {
      changed = false;
      await escalateIfNeeded(now);
      await save();
      publish();
      continue;
    }
    nextProbeAt = now + policy.probeIntervalMs;
    successSignalled = false;
    outcomeSignalled = false;
    const read = await acts.readProbe({ scope: input.scope, since: probeSince, now });
    const exact = wf.patched(EXACT_RESTARTS);
    // Less what the run that ended in probeSince's bucket already counted there.
    const outcome = exact ? lessCounted(read, probeSeen) : read;
    /** Restarts the test on outcomes it has not counted. */
    const restartRun = (before: number, keepSuccesses = false) => {
      if (exact && read.bucketStart !== undefined && read.inBucket) {
        const earlier = probeSince === read.bucketStart ? probeSeen : undefined;
        probeSince = read.bucketStart;
        probeSeen = seenAtRestart(read.inBucket, earlier, keepSuccesses);
      } else {
        probeSince = before;
        probeSeen = undefined;
      }
    };
    /** The ended run's outcomes measured the outage: its rate (H0) counts them. */
    const keepAsOutage = () => {
      outageOutcomes.successes += outcome.successes;
      outageOutcomes.attempts += outcome.successes + outcome.failures;
    };
    inFreeze = outcome.inFreeze;
    // Kept disabled until a time by an operator (or a planned downtime): no proven share before it.
    const keptDisabled = extendedUntil !== undefined && now < extendedUntil;
    const settings = keptDisabled ? withoutProvenShare(settingsOf(inFreeze)) : settingsOf(inFreeze);
    const sharper = wf.patched(RECOVERY_EVIDENCE);
    /** The outage's measurements: evidence and proven runs apart (OUTAGE_MEASURES_APART), or pooled as before. */
    const measurements = () => (wf.patched(OUTAGE_MEASURES_APART) ? [...(evidenceOutcomes ? [evidenceOutcomes] : []), provenOutcomes(outageOutcomes, evidenceOutcomes)] : [outageOutcomes]);
    const outage = sharper ? outageRate(measurements(), input.threshold) : undefined;
    /** How far one probe success moves the test toward proof against that rate. */
    const weight = successWeight(input.baseline, input.threshold, outage);
    // Runs started before policy.evidenceWindowMs existed keep the quarter share (same decisions on replay).
    const age = policy.evidenceWindowMs && wf.patched(FLOOR_BY_AGE) ? { ageMs: now - input.openedAt, youngMs: policy.evidenceWindowMs } : undefined;
    const floorPercent = policy.evidenceWindowMs ? probeFloor(settings.basePercent, evidenceRate, policy.probeIntervalMs / 1000, age) : undefined;
    const provenFailing = lastFailingAt !== undefined;
    // Asked only once "still failing" is proven, so a downtime that never proves it records no
    // marker. Where a success is strong evidence, runs from before DOUBT_ONLY_WHEN_WEAK still restart on doubt.
    const doubts =
      sharper && provenFailing && wf.patched(RESTART_ON_DOUBT) && (!strongSuccess(weight, settings) || !wf.patched(DOUBT_ONLY_WHEN_WEAK));
    const decision = decideRecovery(
      outcome.successes,
      outcome.failures,
      input.baseline,
      input.threshold,
      settings,
      sharper ? { outage, provenFailing, floorPercent, restartsOnDoubt: doubts } : {},
    );
    lastProbe = decision;
    probePercent = manualProbePercent ?? decision.probePercent;
    if (decision.verdict === 'failing') {
      // The sequential test concluded "still failing": restart it on fresh outcomes (none counted
      // twice), and keep what it saw as the outage's rate.
      const keepSuccesses = sharper && wakesOnSuccess(decision, weight) && wf.patched(KEEP_RESTART_SUCCESSES);
      restartRun(sharper ? (outcome.nextSince ?? now) : now, keepSuccesses);
      lastFailingAt = now;
      keepAsOutage();
      recoveredSince = undefined;
    } else if (decision.verdict === 'recovered' && sharper) {
      recoveredSince ??= now;
    } else if (doubts && restartsOnDoubt(decision, provenFailing)) {
      // Outcomes that lean toward failing after a proof are the outage's: start again without
      // them, and keep them as the outage's rate, as every run was kept before (a hard outage's
      // rate would stay at its first proof's wide bound, and its successes weigh too little to wake).
      restartRun(outcome.nextSince ?? now);
      keepAsOutage();
    }
    const holdMs = sharper && input.reopensId !== undefined ? (policy.flapHoldMs ?? 0) : 0;
    const tick = decideTick({ decision, now, expiresAt, extendedUntil, expiryMs: policy.expiryMs, lastFailingAt, holdMs, recoveredSince });
    if (holdMs > 0 && recoveredSince !== undefined && tick.kind === 'continue') {
      // Holding a recovery: each look judges fresh outcomes, so a relapse shows within a look or two.
      restartRun(outcome.nextSince ?? now);
    }
    if (tick.kind === 'extend') {
      expiresAt = tick.expiresAt;
      await acts.recordTimeline({ downtimeId: input.downtimeId, key: `still-failing:${now}`, kind: 'still-failing', text: `Expiry reached but the probe shows it still failing: kept disabled until ${new Date(expiresAt).toISOString()}`, at: now });
    }
    if (tick.kind === 'close') {
      closeRequest = { reason: tick.reason, by: 'system' };
      break;
    }
    if (wf.patched(PROMPT_LOOKS)) {
      const refute = sharper && leansToRecovery(decision) && wf.patched(LOOK_TO_REFUTE) ? { baseline: input.baseline, threshold: input.threshold, outage } : undefined;
      nextProbeAt = now + nextLookMs({ ...decision, probePercent }, settings.minSamples, evidenceRate, policy.probeIntervalMs, refute);
    }
    if (sharper && wf.patched(LOOK_ON_SUCCESS)) {
      if (wf.patched(LOOK_ON_OUTCOME)) {
        wakeOnSuccess = wakesOnSuccess(decision, weight, WAKING_SUCCESS_FRACTION_LOOKS_ON_OUTCOME);
        wakeOnOutcome = wakesOnOutcome(decision);
      } else {
        wakeOnSuccess = wakesOnSuccess(decision, weight);
      }
    }
    await escalateIfNeeded(now);
    changed = false;
    await save();
    publish();

    const info = wf.workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > MAX_EVENTS_PER_RUN) {
      await wf.condition(wf.allHandlersFinished);
      if (closeRequest) break;
      const state: CarriedState = {
        severity, severityFloor, acknowledgement, extendedUntil, probePercent, manualProbePercent, expiresAt,
        pages, lastPageAt, trafficShare, evidenceCount, lastProbe, probeSince, probeSeen, lastFailingAt, outageOutcomes, recoveredSince, wakeOnProbeSuccess: wakeOnSuccess, wakeOnProbeOutcome: wakeOnOutcome, startedRecorded: true,
      };
      await wf.continueAsNew<typeof downtimeWorkflow>({ ...input, carried: state });
    }
  }

  // 7. Re-enable and close.
  const close = closeRequest;
  const at = Date.now();
  await acts.closeDowntime({ downtimeId: input.downtimeId, endReason: close.reason, at, by: close.by, supersededBy: close.supersededBy, severity, lastProbe });
  close.resolvedAt = at;
  phase = 'resolved';
  publish();
  await acts.notify({ key: `${input.downtimeId}:resolved`, downtimeId: input.downtimeId, type: 'downtime.resolved', text: `${scopeLabel(input.scope)} re-enabled (${close.reason})`, at, data: { ...view() } });
  await acts.recordRecurrence({ downtimeId: input.downtimeId, scope: input.scope, scopeKey: input.scopeKey, at });
  await wf.condition(wf.allHandlersFinished);
  return { downtimeId: input.downtimeId, endReason: close.reason, resolvedAt: at, severity };
}
