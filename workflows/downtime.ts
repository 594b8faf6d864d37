/**
 * The downtime actor: one durable workflow per open downtime of a scope. It orchestrates; every
 * decision is domain/actor.ts's. It opens the downtime already disabled for bucket A (record,
 * incident, notice, partner alert, page), then waits for the next look, a probe signal the record
 * asked for, or an incident manager's request; reads the probe, decides, performs, saves; and
 * closes on proven recovery, on expiry without enough evidence, manually, or when a broader
 * downtime supersedes it.
 */
import * as wf from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../activities';
import {
  ActorAction,
  ActorState,
  Refusal,
  RequestRule,
  actorDetails,
  decideEscalation,
  decideLook,
  downtimeRequests,
  maintenanceOver,
  measuredOutage,
  nextWakeAt,
  openingState,
  persisted,
  resolvedState,
  scopeLabel,
  supersededState,
  withEvidence,
  wokenBy,
} from '../domain';
import {
  DowntimeInput,
  DowntimeResult,
  DowntimeView,
  REQUEST_REFUSED,
  SA,
  acknowledgeUpdate,
  actorFacts,
  cancelUpdate,
  escalateUpdate,
  evidenceSignal,
  extendUpdate,
  probeOutcomeSignal,
  probeSuccessSignal,
  resolveUpdate,
  setProbePercentUpdate,
  stateQuery,
  supersedeSignal,
} from '../common/definitions';

/**
 * Every step runs inside the workflow task, as a local activity: each is a few keyed writes or
 * reads, well under the task's timeout. The start hides the scope from bucket A without a round
 * trip through the server; a look costs the server one workflow task and a marker or two instead
 * of activity tasks and a workflow task per step; and a wave of actors escalating or closing at
 * once (an outage of a thousand scopes) neither queues behind the worker's activity slots nor
 * doubles the server's work. Retries with backoff; a step failing past a minute waits on a timer.
 */
const steps = wf.proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: ['ScopeError'] },
});

/** A run continues as new well before its history gets heavy (a 24-hour downtime stays small). */
const MAX_EVENTS_PER_RUN = 1_000;

/** An incident manager's request refused by an update's validator: the API answers 409 or 400 from its details. */
const refused = (refusal: Refusal) => wf.ApplicationFailure.create({ type: REQUEST_REFUSED, message: refusal.message, details: [refusal], nonRetryable: true });

export async function downtimeWorkflow(scheduledInput: DowntimeInput): Promise<DowntimeResult> {
  // 0. Scheduled maintenance: recorded and announced now, begun at `startsAt` (or at once when
  // detection finds the scope failing first), or called off before.
  const scheduled = !scheduledInput.carried && scheduledInput.startsAt !== undefined && scheduledInput.startsAt > Date.now();
  let waiting = scheduled;
  let cancelled: { by: string; reason?: string; at: number } | undefined;
  let startEarly = false;
  let input = scheduled ? { ...scheduledInput, openedAt: scheduledInput.startsAt! } : scheduledInput;
  let facts = actorFacts(input);
  let opening = input.carried ? undefined : openingState(facts, Math.max(Date.now(), input.openedAt));
  let s: ActorState = input.carried ?? opening!.state;
  /** An incident manager changed something since the last save. */
  let changed = false;
  /** Probe signals since the last look. */
  const signalled = { success: false, outcome: false };

  const view = (): DowntimeView => ({
    downtimeId: input.downtimeId,
    scope: input.scope,
    scopeKey: input.scopeKey,
    origin: input.origin,
    status: cancelled ? 'cancelled' : waiting ? 'scheduled' : s.phase === 'resolved' ? 'resolved' : 'open',
    phase: waiting ? 'scheduled' : s.phase,
    startsAt: input.startsAt,
    severity: s.severity,
    acknowledgement: s.acknowledgement,
    openedAt: input.openedAt,
    expiresAt: s.expiresAt,
    extendedUntil: s.extendedUntil,
    probePercent: s.probePercent,
    lastProbe: s.lastProbe,
    evidenceCount: s.evidenceCount,
    pages: s.pages,
    endReason: s.closing?.reason,
    resolvedAt: s.resolvedAt,
  });
  /** Severity and state for the Web UI's filters. An upsert is an event and a visibility write, so one that would change nothing (most looks; the start set them already) is left out. */
  const publish = () => {
    const state = cancelled ? 'cancelled' : waiting ? 'scheduled' : s.phase === 'resolved' ? 'resolved' : 'open';
    const current = wf.workflowInfo().typedSearchAttributes;
    if (current.get(SA.severity) !== s.severity || current.get(SA.state) !== state) {
      wf.upsertSearchAttributes([
        { key: SA.severity, value: s.severity },
        { key: SA.state, value: state },
      ]);
    }
    wf.setCurrentDetails(actorDetails(s, input.scope));
  };
  const perform = async (actions: ActorAction[]) => {
    if (actions.length === 0) return;
    await steps.announce(actions.map((a) => (a.kind === 'notify' ? { kind: 'notify', notice: { ...a.notice, data: { ...view() } } } : a)));
  };

  wf.setHandler(stateQuery, view);
  // Fresh evidence only feeds the next look's severity: detection signals every cycle, and
  // waking for each would fill the history with saves that change nothing.
  wf.setHandler(evidenceSignal, (ev) => {
    // Detection finds a scope under scheduled maintenance failing: the maintenance begins now.
    if (waiting) startEarly = true;
    s = withEvidence(s, ev.trafficShare);
  });
  wf.setHandler(probeSuccessSignal, () => {
    signalled.success = true;
  });
  wf.setHandler(probeOutcomeSignal, () => {
    signalled.outcome = true;
  });
  wf.setHandler(supersedeSignal, (sig) => {
    s = supersededState(s, sig.byDowntimeId);
  });

  /** An incident manager's request: refused by its validator before it touches history, or applied and performed. */
  const takeRequests = <R>(update: UpdateDefinition<DowntimeView, [R]>, rule: RequestRule<R>) =>
    wf.setHandler(
      update,
      async (req) => {
        const decided = rule.apply(s, req, Date.now(), facts);
        s = decided.state;
        await perform(decided.actions);
        if (s.closing) await wf.condition(() => s.phase === 'resolved');
        else changed = true;
        return view();
      },
      {
        validator: (req) => {
          if (waiting || cancelled) throw refused({ kind: 'conflict', message: `downtime ${input.downtimeId} is scheduled maintenance that has not begun; cancel it instead` });
          const refusal = rule.refuse(s, req, Date.now(), facts);
          if (refusal) throw refused(refusal);
        },
      },
    );
  takeRequests(acknowledgeUpdate, downtimeRequests.acknowledge);
  takeRequests(resolveUpdate, downtimeRequests.resolve);
  takeRequests(extendUpdate, downtimeRequests.extend);
  takeRequests(escalateUpdate, downtimeRequests.escalate);
  takeRequests(setProbePercentUpdate, downtimeRequests.setProbePercent);
  wf.setHandler(
    cancelUpdate,
    async (req) => {
      cancelled = { by: req.by, reason: req.reason, at: Date.now() };
      await wf.condition(() => !waiting);
      return view();
    },
    {
      validator: (req) => {
        if (!req || typeof req.by !== 'string' || req.by.trim() === '') throw refused({ kind: 'invalid', field: 'by', message: 'by: who is acting is required' });
        if (!waiting || cancelled) throw refused({ kind: 'conflict', message: `downtime ${input.downtimeId} is not scheduled maintenance waiting to begin; resolve it instead` });
      },
    },
  );

  /**
   * The state last saved, so a look that changed nothing writes nothing; and its incident's and
   * checkout's parts: most looks change only the probe's figures, which neither reads.
   */
  let saved: { all: string; incident: string; checkout: string } | undefined;
  const save = async () => {
    const state = persisted(s);
    const now = { all: JSON.stringify(state), incident: JSON.stringify([state.severity, state.acknowledgement]), checkout: JSON.stringify([state.severity, state.probePercent, state.wakeOnProbeSuccess, state.wakeOnProbeOutcome]) };
    if (now.all === saved?.all) return;
    await steps.saveDowntimeState({ downtimeId: input.downtimeId, at: Date.now(), ...state, changed: { incident: now.incident !== saved?.incident, checkout: now.checkout !== saved?.checkout } });
    saved = now;
  };
  const escalate = async (now: number) => {
    const decided = decideEscalation(s, now, facts);
    s = decided.state;
    await perform(decided.actions);
  };

  publish();
  if (scheduled) {
    const label = scopeLabel(input.scope);
    await steps.scheduleDowntime(scheduledInput, { key: `${input.downtimeId}:scheduled`, downtimeId: input.downtimeId, event: 'scheduled', type: 'downtime.scheduled', text: `Maintenance of ${label} scheduled from ${new Date(input.startsAt!).toISOString()}${input.until ? ` to ${new Date(input.until).toISOString()}` : ''}: ${input.reason}`, at: scheduledInput.openedAt, data: { ...view() } });
    await wf.condition(() => cancelled !== undefined || startEarly, Math.max(1, input.startsAt! - Date.now()));
    if (cancelled) {
      const c = cancelled;
      await steps.cancelScheduled({ downtimeId: input.downtimeId, at: c.at, by: c.by, reason: c.reason }, { key: `${input.downtimeId}:cancelled`, downtimeId: input.downtimeId, event: 'cancelled', type: 'downtime.cancelled', text: `Maintenance of ${label} cancelled by ${c.by}${c.reason ? `: ${c.reason}` : ''}`, at: c.at, data: { ...view(), status: 'cancelled' } });
      waiting = false;
      publish();
      await wf.condition(wf.allHandlersFinished);
      return { downtimeId: input.downtimeId, endReason: 'cancelled', resolvedAt: c.at, severity: s.severity };
    }
    // It begins now: its clock (expiry, probe looks) starts here, not when it was scheduled.
    input = { ...scheduledInput, openedAt: Date.now() };
    facts = actorFacts(input);
    opening = openingState(facts, Date.now());
    s = opening.state;
    waiting = false;
    publish();
  }

  // 1-2. Open: recorded already disabled for bucket A, then the incident, the notice, the partner alert and the page.
  if (opening) {
    const at = s.probeSince;
    const notify = { key: `${input.downtimeId}:started`, downtimeId: input.downtimeId, event: 'started' as const, type: 'downtime.started' as const, text: `${scopeLabel(input.scope)} is down (${s.severity}): ${input.reason}`, at: input.openedAt, data: { ...view() } };
    await steps.openDowntime(input, s.severity, s.expiresAt, at, { notify, page: opening.page });
  }

  // 3-5. Probe, wait for sample size or expiry, escalate.
  while (!s.closing) {
    await wf.condition(() => s.closing !== undefined || changed || wokenBy(s, signalled), Math.max(1, nextWakeAt(s, facts) - Date.now()));
    if (s.closing) break;
    const now = Date.now();
    const over = maintenanceOver(s, now, facts);
    if (over) {
      s = over;
      break;
    }
    if (!(changed && now < s.nextLookAt && !wokenBy(s, signalled))) {
      signalled.success = signalled.outcome = false;
      // A look its timer called for was due at nextLookAt: the read reports how late it ran.
      const dueAt = now >= s.nextLookAt ? s.nextLookAt : undefined;
      const read = await steps.readProbe({ scope: input.scope, since: s.probeSince, now, dueAt });
      const look = decideLook(s, read, now, facts);
      s = look.state;
      await perform(look.actions);
      if (s.closing) break;
    }
    changed = false;
    await escalate(now);
    await save();
    publish();

    const info = wf.workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > MAX_EVENTS_PER_RUN) {
      await wf.condition(wf.allHandlersFinished);
      if (s.closing) break;
      await wf.continueAsNew<typeof downtimeWorkflow>({ ...input, carried: s });
    }
  }

  // 7. Re-enable and close.
  const close = s.closing!;
  const at = Date.now();
  await steps.closeDowntime({ downtimeId: input.downtimeId, endReason: close.reason, at, by: close.by, supersededBy: close.supersededBy, severity: s.severity, lastProbe: s.lastProbe, outageRate: measuredOutage(s, facts) });
  s = resolvedState(s, at);
  publish();
  await steps.notify({ key: `${input.downtimeId}:resolved`, downtimeId: input.downtimeId, event: 'resolved', type: 'downtime.resolved', text: `${scopeLabel(input.scope)} re-enabled (${close.reason})`, at, data: { ...view() } });
  await steps.recordRecurrence({ downtimeId: input.downtimeId, scope: input.scope, scopeKey: input.scopeKey, at });
  await wf.condition(wf.allHandlersFinished);
  return { downtimeId: input.downtimeId, endReason: close.reason, resolvedAt: at, severity: s.severity };
}
