/**
 * The one module that defines every signal, query and update, the workflow inputs and outputs,
 * the task queue and the workflow ids. Workflows, the worker and the API all import it; it
 * imports only @temporalio/workflow definitions and the pure domain types.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { EndReason, OutageOutcomes, ProbeCounts, ProbeDecision, Scope, Severity } from '../domain';

export const DEFAULT_TASK_QUEUE = 'downtime-orchestrator';
export const DETECTION_SCHEDULE_ID = 'detection-schedule';

export const downtimeWorkflowId = (scopeKey: string): string => `downtime:${scopeKey}`;
export const detectionWorkflowId = 'detection';

/** Custom search attributes, kept current by the downtime workflow so ops can filter in the Web UI. */
export const SA = {
  scope: defineSearchAttributeKey('DowntimeScope', SearchAttributeType.KEYWORD),
  mode: defineSearchAttributeKey('DowntimeMode', SearchAttributeType.KEYWORD),
  method: defineSearchAttributeKey('DowntimeMethod', SearchAttributeType.KEYWORD),
  gateway: defineSearchAttributeKey('DowntimeGateway', SearchAttributeType.KEYWORD),
  severity: defineSearchAttributeKey('DowntimeSeverity', SearchAttributeType.KEYWORD),
  state: defineSearchAttributeKey('DowntimeState', SearchAttributeType.KEYWORD),
} as const;

/** `--search-attribute` values for the dev server. */
export const SEARCH_ATTRIBUTE_REGISTRATIONS = Object.values(SA).map((key) => `${key.name}=Keyword`);

export type Origin = 'detected' | 'manual' | 'planned';
export type DowntimeStatus = 'open' | 'resolved';

/** What detection saw when it judged the scope failing. */
export interface Evidence {
  at: number;
  /** System-relevant attempts (successes and system failures) over `windowMs`. */
  attempts: number;
  /** The window `attempts` were counted over; absent in evidence from before it was recorded. */
  windowMs?: number;
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

/** Timing and policy the workflow needs, resolved from config at start so history is self-contained. */
export interface DowntimePolicy {
  probeIntervalMs: number;
  expiryMs: number;
  minProbeSamples: number;
  probePercent: number;
  maxProbePercent: number;
  /** Share once recovery is proven short of the sample minimum (PROVEN_PROBE_PERCENT; absent: the maximum). */
  provenProbePercent?: number;
  alpha: number;
  beta: number;
  unackedAfterMs: number;
  longAfterMs: number;
  veryLongAfterMs: number;
  repageIntervalMs: number;
  /** Flap guard: how long a reopened downtime's recovery must hold (FLAP_HOLD; 0 or absent: not held). */
  flapHoldMs?: number;
  /** The window detection evidence is counted over when it does not say (DETECTION_WINDOW). */
  evidenceWindowMs?: number;
}

export interface DowntimeInput {
  downtimeId: string;
  scope: Scope;
  scopeKey: string;
  origin: Origin;
  reason: string;
  openedBy: string;
  openedAt: number;
  /** Manual or planned: stays disabled at least until then. */
  until?: number;
  /** Flap guard: the downtime this one reopens. */
  reopensId?: string;
  evidence?: Evidence;
  baseline: number;
  threshold: number;
  policy: DowntimePolicy;
  /** Present when continuing as new. */
  carried?: CarriedState;
}

export interface Acknowledgement {
  by: string;
  at: number;
  note?: string;
}

/** The state a long downtime carries across continue-as-new. */
export interface CarriedState {
  severity: Severity;
  severityFloor?: Severity;
  acknowledgement?: Acknowledgement;
  extendedUntil?: number;
  probePercent: number;
  manualProbePercent?: number;
  expiresAt: number;
  probeSince: number;
  /** Outcomes of probeSince's counter bucket the run that ended there already counted (EXACT_RESTARTS). */
  probeSeen?: ProbeCounts;
  lastFailingAt?: number;
  /** Outcomes measured while failing (the recovery test's H0). */
  outageOutcomes?: OutageOutcomes;
  /** Flap guard: the first 'recovered' verdict since the last 'failing' one. */
  recoveredSince?: number;
  /** The record asks the API for a probeSuccess signal (LOOK_ON_SUCCESS). */
  wakeOnProbeSuccess?: boolean;
  /** The record asks the API for a probeOutcome signal (LOOK_ON_OUTCOME). */
  wakeOnProbeOutcome?: boolean;
  pages: number;
  lastPageAt?: number;
  trafficShare: number;
  evidenceCount: number;
  lastProbe?: ProbeDecision;
  startedRecorded: boolean;
}

export interface DowntimeView {
  downtimeId: string;
  scope: Scope;
  scopeKey: string;
  origin: Origin;
  status: DowntimeStatus;
  phase: 'disabling' | 'probing' | 'resolved';
  severity: Severity;
  acknowledgement?: Acknowledgement;
  openedAt: number;
  expiresAt: number;
  extendedUntil?: number;
  probePercent: number;
  lastProbe?: ProbeDecision;
  evidenceCount: number;
  pages: number;
  endReason?: EndReason;
  resolvedAt?: number;
}

export interface DowntimeResult {
  downtimeId: string;
  endReason: EndReason;
  resolvedAt: number;
  severity: Severity;
}

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
export interface SupersedeSignal {
  byDowntimeId: string;
  byScopeKey: string;
}

export const evidenceSignal = defineSignal<[Evidence]>('evidence');
export const supersedeSignal = defineSignal<[SupersedeSignal]>('supersede');
/**
 * The API saw a bucket-B success on a downtime that asked to be woken by one (its record's
 * `wakeOnProbeSuccess`): look at the probe now instead of at the next interval.
 */
export const probeSuccessSignal = defineSignal('probeSuccess');
/**
 * The API saw a bucket-B outcome (a success or a failure the route is blamed for) on a downtime
 * that asked to be woken by any (its record's `wakeOnProbeOutcome`): look at the probe now.
 */
export const probeOutcomeSignal = defineSignal('probeOutcome');
export const stateQuery = defineQuery<DowntimeView>('state');
export const acknowledgeUpdate = defineUpdate<DowntimeView, [AcknowledgeRequest]>('acknowledge');
export const resolveUpdate = defineUpdate<DowntimeView, [ResolveRequest]>('resolve');
export const extendUpdate = defineUpdate<DowntimeView, [ExtendRequest]>('extend');
export const escalateUpdate = defineUpdate<DowntimeView, [EscalateRequest]>('escalate');
export const setProbePercentUpdate = defineUpdate<DowntimeView, [ProbePercentRequest]>('setProbePercent');

/** The error type an update validator throws; the API maps it to 409/400. */
export const DOWNTIME_CLOSED = 'DowntimeClosed';
export const INVALID_REQUEST = 'InvalidRequest';

export interface DetectionResult {
  evaluatedScopes: number;
  failing: string[];
  started: string[];
  signalled: string[];
  superseded: string[];
}
