/**
 * The one module that defines every signal, query and update, the workflow inputs and outputs,
 * the task queue and the workflow ids. Workflows, the worker and the API all import it; it
 * imports only @temporalio/workflow definitions and the pure domain types.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type {
  AcknowledgeRequest,
  Acknowledgement,
  ActorFacts,
  ActorState,
  DowntimePolicy,
  EndReason,
  EscalateRequest,
  Evidence,
  ExtendRequest,
  ProbeDecision,
  ProbePercentRequest,
  ResolveRequest,
  Scope,
  Severity,
} from '../domain';

export type { AcknowledgeRequest, Acknowledgement, Actor, DowntimePolicy, EscalateRequest, Evidence, ExtendRequest, ProbePercentRequest, ResolveRequest } from '../domain';

export const DEFAULT_TASK_QUEUE = 'downtime-orchestrator';
export const DETECTION_SCHEDULE_ID = 'detection-schedule';

export const downtimeWorkflowId = (scopeKey: string): string => `downtime:${scopeKey}`;
export const detectionWorkflowId = 'detection';
/** The detection run woken from the ingest (api/detection-waker.ts); the Schedule's runs carry their start time after `detectionWorkflowId`. */
export const detectionWakeWorkflowId = 'detection-woken';
/** How long one detection run may take before Temporal ends it: several intervals, never under a minute. */
export const detectionRunTimeoutMs = (intervalMs: number): number => Math.max(intervalMs * 5, 60_000);

/** Custom search attributes, kept current by the downtime workflow so ops can filter in the Web UI. */
export const SA = {
  scope: defineSearchAttributeKey('DowntimeScope', SearchAttributeType.KEYWORD),
  mode: defineSearchAttributeKey('DowntimeMode', SearchAttributeType.KEYWORD),
  method: defineSearchAttributeKey('DowntimeMethod', SearchAttributeType.KEYWORD),
  gateway: defineSearchAttributeKey('DowntimeGateway', SearchAttributeType.KEYWORD),
  issuer: defineSearchAttributeKey('DowntimeIssuer', SearchAttributeType.KEYWORD),
  network: defineSearchAttributeKey('DowntimeNetwork', SearchAttributeType.KEYWORD),
  psp: defineSearchAttributeKey('DowntimePsp', SearchAttributeType.KEYWORD),
  aggregator: defineSearchAttributeKey('DowntimeAggregator', SearchAttributeType.KEYWORD),
  severity: defineSearchAttributeKey('DowntimeSeverity', SearchAttributeType.KEYWORD),
  state: defineSearchAttributeKey('DowntimeState', SearchAttributeType.KEYWORD),
} as const;

/** `--search-attribute` values for the dev server. */
export const SEARCH_ATTRIBUTE_REGISTRATIONS = Object.values(SA).map((key) => `${key.name}=Keyword`);

export type Origin = 'detected' | 'manual' | 'planned';
/** `scheduled`: a planned maintenance not yet begun; `cancelled`: one called off before it began. */
export type DowntimeStatus = 'scheduled' | 'open' | 'resolved' | 'cancelled';

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
  /** Scheduled maintenance: disabled from then (`openedAt` is when it was scheduled until it begins). */
  startsAt?: number;
  /** Flap guard: the downtime this one reopens. */
  reopensId?: string;
  evidence?: Evidence;
  baseline: number;
  threshold: number;
  policy: DowntimePolicy;
  /** The actor's state, when continuing as new. */
  carried?: ActorState;
}

/** What the actor's decisions know of its downtime, from its input. */
export const actorFacts = (input: DowntimeInput): ActorFacts => ({
  downtimeId: input.downtimeId,
  scope: input.scope,
  openedAt: input.openedAt,
  baseline: input.baseline,
  threshold: input.threshold,
  until: input.until,
  planned: input.origin === 'planned' && input.until !== undefined,
  reopens: input.reopensId !== undefined,
  evidence: input.evidence,
  policy: input.policy,
});

export interface DowntimeView {
  downtimeId: string;
  scope: Scope;
  scopeKey: string;
  origin: Origin;
  status: DowntimeStatus;
  phase: 'scheduled' | 'probing' | 'resolved';
  severity: Severity;
  /** Scheduled maintenance: when it begins. */
  startsAt?: number;
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
/** Calls off a scheduled maintenance before it begins. */
export const cancelUpdate = defineUpdate<DowntimeView, [CancelRequest]>('cancel');

export interface CancelRequest {
  by: string;
  reason?: string;
}

/**
 * The error type an update validator throws when it refuses a request; its first detail is the
 * domain's `Refusal` ({kind, field?, message}), which the API maps to 409 or 400.
 */
export const REQUEST_REFUSED = 'RequestRefused';

export interface DetectionResult {
  evaluatedScopes: number;
  failing: string[];
  started: string[];
  signalled: string[];
  superseded: string[];
}
