/**
 * The shapes of the API's successful answers, as the OpenAPI document declares them (one
 * component each, named by `$id`). They are declared in the document only (api/openapi.ts): the
 * routes serialize what their services return, and the contract test (Schemathesis,
 * response_schema_conformance) checks every live answer against these. Objects stay open to new
 * fields: a client ignores what it does not know.
 */

const time = { type: 'string', format: 'date-time' } as const;
const str = { type: 'string' } as const;
const severity = { type: 'string', enum: ['SEV1', 'SEV2', 'SEV3', 'SEV4'] } as const;
const scope = { type: 'object', additionalProperties: { type: 'string' }, description: 'The dimensions the downtime covers, e.g. {"method": "netbanking:hdfc", "gateway": "payu"}.' } as const;
const list = (key: string, ref: string) => ({ type: 'object', required: [key], properties: { [key]: { type: 'array', items: { $ref: `${ref}#` } } } });

const Downtime = {
  $id: 'Downtime',
  type: 'object',
  required: ['id', 'scope', 'scopeKey', 'origin', 'status', 'phase', 'severity', 'openedAt', 'expiresAt', 'probePercent', 'links'],
  properties: {
    id: str,
    scope,
    scopeKey: str,
    origin: { type: 'string', enum: ['detected', 'manual', 'planned'] },
    reason: str,
    status: { type: 'string', enum: ['scheduled', 'open', 'resolved', 'cancelled'] },
    phase: { type: 'string', enum: ['scheduled', 'disabling', 'probing', 'resolved'] },
    startsAt: { ...time, description: 'Scheduled maintenance: when it begins.' },
    until: time,
    severity,
    openedAt: time,
    disabledAt: time,
    expiresAt: time,
    extendedUntil: time,
    probePercent: { type: 'number' },
    acknowledgement: { type: 'object', required: ['by', 'at'], properties: { by: str, at: { type: 'number' }, note: str } },
    endReason: { type: 'string', enum: ['recovered', 'expired', 'manual', 'superseded', 'completed', 'cancelled'] },
    resolvedAt: time,
    resolvedBy: str,
    supersededBy: str,
    reopensId: str,
    links: { type: 'object', required: ['temporalUi'], properties: { temporalUi: { type: 'string', description: "The downtime's workflow in the Temporal Web UI." } } },
  },
} as const;

const TimelineEntry = { $id: 'TimelineEntry', type: 'object', required: ['at', 'kind', 'text'], properties: { at: time, kind: str, text: str, by: str } } as const;

/** The actor's own state, as a workflow query or an applied request answers it (times in epoch ms). */
const DowntimeState = {
  $id: 'DowntimeState',
  type: 'object',
  required: ['downtimeId', 'scope', 'scopeKey', 'status', 'phase', 'severity', 'openedAt', 'expiresAt', 'probePercent'],
  properties: {
    downtimeId: str,
    scope,
    scopeKey: str,
    status: { type: 'string', enum: ['scheduled', 'open', 'resolved', 'cancelled'] },
    phase: { type: 'string', enum: ['scheduled', 'probing', 'resolved'] },
    startsAt: { type: 'number' },
    severity,
    openedAt: { type: 'number' },
    expiresAt: { type: 'number' },
    probePercent: { type: 'number' },
  },
} as const;

const DowntimeDetail = {
  $id: 'DowntimeDetail',
  allOf: [
    { $ref: 'Downtime#' },
    {
      type: 'object',
      required: ['timeline', 'deliveries'],
      properties: {
        live: { anyOf: [{ $ref: 'DowntimeState#' }, { type: 'null' }], description: "The actor's live state while open; null when closed or when Temporal could not be asked (liveError says why)." },
        liveError: str,
        timeline: { type: 'array', items: { $ref: 'TimelineEntry#' } },
        deliveries: { type: 'array', items: { $ref: 'Delivery#' }, description: 'What the outbox sent about this downtime, oldest first: webhooks, PagerDuty, chat, partner mail.' },
      },
    },
  ],
} as const;

const Catalog = {
  $id: 'Catalog',
  type: 'object',
  required: ['methods'],
  properties: {
    methods: {
      type: 'array',
      items: {
        type: 'object',
        required: ['method', 'gateways'],
        properties: { method: str, gateways: { type: 'array', items: str }, priority: { type: 'number' }, attributes: { type: 'object', additionalProperties: str } },
      },
    },
    gateways: { type: 'array', items: { type: 'object', required: ['gateway'], properties: { gateway: str, aggregator: str } } },
    updatedAt: time,
  },
} as const;

const PaymentOptions = {
  $id: 'PaymentOptions',
  type: 'object',
  required: ['options', 'unavailable'],
  properties: {
    options: {
      type: 'array',
      description: 'In display order.',
      items: { type: 'object', required: ['method', 'mode', 'gateway', 'state'], properties: { method: str, mode: str, gateway: str, state: { type: 'string', enum: ['available', 'probe'] }, warning: str } },
    },
    unavailable: { type: 'array', items: { type: 'object', required: ['method', 'downtimeId'], properties: { method: str, downtimeId: str } } },
  },
} as const;

const componentStatus = { type: 'string', enum: ['operational', 'degraded', 'partial_outage', 'major_outage'] } as const;
const StatusComponent = {
  $id: 'StatusComponent',
  type: 'object',
  required: ['name', 'kind', 'status'],
  properties: { name: str, kind: str, status: componentStatus, uptime90d: { type: 'number' }, days: { type: 'array', items: { type: 'object', required: ['date'], properties: { date: str, uptime: { type: ['number', 'null'] } } } } },
} as const;
const Status = {
  $id: 'Status',
  type: 'object',
  required: ['status', 'updatedAt', 'components'],
  properties: {
    status: componentStatus,
    updatedAt: time,
    stale: { type: 'boolean' },
    components: {
      type: 'object',
      required: ['gateways', 'modes', 'methods'],
      properties: {
        gateways: { type: 'array', items: { $ref: 'StatusComponent#' } },
        modes: { type: 'array', items: { $ref: 'StatusComponent#' } },
        methods: { type: 'array', items: { $ref: 'StatusComponent#' } },
        aggregators: { type: 'array', items: { $ref: 'StatusComponent#' }, description: 'Aggregators a downtime touches or touched.' },
        attributes: {
          type: 'object',
          description: 'By method attribute (issuer, network, type, psp...): the values a downtime touches or touched.',
          additionalProperties: { type: 'array', items: { $ref: 'StatusComponent#' } },
        },
      },
    },
    incidents: { type: 'array', items: { type: 'object' } },
  },
} as const;

const occurrence = { type: 'object', required: ['startsAt', 'endsAt'], properties: { startsAt: time, endsAt: time } } as const;
const FreezeWindow = {
  $id: 'FreezeWindow',
  type: 'object',
  required: ['id', 'name', 'startsAt', 'active'],
  properties: {
    id: str,
    name: str,
    startsAt: { ...time, description: "A one-off window's start, or a recurring one's first occurrence." },
    endsAt: { ...time, description: 'When it (its last occurrence) ends; absent for a rule that never ends.' },
    recurrence: { type: 'object', required: ['rule', 'durationSeconds'], properties: { rule: str, durationSeconds: { type: 'number' } } },
    next: { type: 'array', items: occurrence, description: 'A recurring window: the occurrence under way, then the next ones.' },
    reason: str,
    active: { type: 'boolean' },
    createdAt: time,
  },
} as const;

const Webhook = { $id: 'Webhook', type: 'object', required: ['id', 'url', 'events', 'createdAt'], properties: { id: str, url: str, events: { type: 'array', items: str }, description: str, createdAt: time } } as const;
const NewWebhook = { $id: 'NewWebhook', allOf: [{ $ref: 'Webhook#' }, { type: 'object', required: ['secret'], properties: { secret: { type: 'string', description: 'The signing secret; shown in this answer only.' } } }] } as const;
const Delivery = { $id: 'Delivery', type: 'object', required: ['id', 'channel', 'type', 'status', 'attempts'], properties: { id: str, channel: { type: 'string', enum: ['webhook', 'pagerduty', 'slack', 'email'] }, receiver: { type: 'string', description: "A webhook subscription's id, pagerduty, slack, or partner:<name>." }, eventId: str, type: str, url: str, status: { type: 'string', enum: ['pending', 'delivered'] }, attempts: { type: 'integer' }, lastStatus: { type: 'integer' }, lastError: str, nextAttemptAt: time, deliveredAt: time, createdAt: time } } as const;

const RotatedSecret = {
  $id: 'RotatedSecret',
  allOf: [{ $ref: 'NewWebhook#' }, { type: 'object', properties: { previousSecretValidUntil: { ...time, description: 'Until when deliveries also carry a signature with the previous secret; absent with no grace period.' } } }],
} as const;
const Partner = { $id: 'Partner', type: 'object', required: ['name', 'scope', 'emails', 'updatedAt'], properties: { name: str, scope, emails: { type: 'array', items: str }, updatedAt: time } } as const;
const PagerDutyOutcome = {
  $id: 'PagerDutyOutcome',
  type: 'object',
  required: ['outcome'],
  properties: { outcome: { type: 'string', enum: ['acknowledged', 'resolved', 'ignored'] }, downtimeId: str, reason: str },
} as const;

const Incident = {
  $id: 'Incident',
  type: 'object',
  required: ['id', 'downtimeId', 'scopeKey', 'title', 'severity', 'status', 'stage', 'openedAt', 'escalations'],
  properties: {
    id: str,
    downtimeId: str,
    scopeKey: str,
    title: str,
    severity,
    status: { type: 'string', enum: ['open', 'resolved'] },
    stage: { type: 'string', enum: ['investigating', 'identified', 'monitoring', 'resolved', 'reviewed'] },
    openedAt: time,
    acknowledgedAt: time,
    acknowledgedBy: str,
    resolvedAt: time,
    endReason: str,
    escalations: { type: 'array', items: { type: 'object', required: ['at', 'severity'], properties: { at: time, severity, by: str } } },
    timeline: { type: 'array', items: { $ref: 'TimelineEntry#' } },
    reviewDueAt: { ...time, description: 'SEV1/SEV2: when the post-incident review is due.' },
    reviewOverdue: { type: 'boolean' },
    review: {
      type: 'object',
      required: ['by', 'at', 'cause', 'lessons', 'impact'],
      properties: {
        by: str,
        at: time,
        cause: str,
        lessons: { type: 'array', items: str },
        actions: { type: 'array', items: str },
        impact: { type: 'object', required: ['from', 'to', 'attempts', 'failed'], properties: { from: time, to: time, attempts: { type: 'integer' }, failed: { type: 'integer', description: "Attempts on the scope's routes that failed for the system's reasons while it was down." } } },
      },
    },
  },
} as const;
const Problem = {
  $id: 'Problem',
  type: 'object',
  required: ['id', 'scopeKey', 'status', 'openedAt', 'downtimeIds', 'downtimeCount'],
  properties: {
    id: str,
    scopeKey: str,
    scope,
    status: { type: 'string', enum: ['open', 'investigating', 'known_error', 'resolved'] },
    openedAt: time,
    downtimeIds: { type: 'array', items: str },
    downtimeCount: { type: 'integer' },
    note: str,
    workaround: str,
    rootCause: str,
    resolvedAt: time,
    reopenedAt: { type: 'array', items: time },
  },
} as const;

const TransactionsAccepted = {
  $id: 'TransactionsAccepted',
  type: 'object',
  required: ['accepted', 'duplicates', 'rejected'],
  properties: { accepted: { type: 'integer' }, duplicates: { type: 'integer' }, rejected: { type: 'array', items: { type: 'object', required: ['index', 'error'], properties: { index: { type: 'integer' }, error: str } } } },
} as const;
const DowntimeOpened = { $id: 'DowntimeOpened', type: 'object', required: ['id', 'scopeKey', 'status'], properties: { id: str, scopeKey: str, status: { type: 'string', enum: ['open', 'scheduled'] } } } as const;
const DowntimeRequestApplied = { $id: 'DowntimeRequestApplied', type: 'object', required: ['id', 'state'], properties: { id: str, state: { $ref: 'DowntimeState#' } } } as const;

/** Every shared answer schema, to add to the app (each becomes a component of the document). */
export const ANSWER_SCHEMAS = [
  TimelineEntry, Downtime, DowntimeState, DowntimeDetail, DowntimeOpened, DowntimeRequestApplied, Catalog, PaymentOptions,
  StatusComponent, Status, FreezeWindow, Webhook, NewWebhook, RotatedSecret, Delivery, Partner, PagerDutyOutcome, Incident, Problem, TransactionsAccepted,
  { $id: 'PartnerList', ...list('partners', 'Partner') },
  { $id: 'DowntimeList', ...list('downtimes', 'Downtime') },
  { $id: 'FreezeWindowList', ...list('freezeWindows', 'FreezeWindow') },
  { $id: 'WebhookList', ...list('webhooks', 'Webhook') },
  { $id: 'DeliveryList', ...list('deliveries', 'Delivery') },
  { $id: 'IncidentList', ...list('incidents', 'Incident') },
  { $id: 'ProblemList', ...list('problems', 'Problem') },
];

/** Each operation's success body, by operation id (api/openapi.ts OPERATION_IDS); absent for 204 and the HTML page. */
export const ANSWERS: Record<string, string> = {
  listDowntimes: 'DowntimeList',
  openDowntime: 'DowntimeOpened',
  getDowntime: 'DowntimeDetail',
  acknowledgeDowntime: 'DowntimeRequestApplied',
  resolveDowntime: 'DowntimeRequestApplied',
  extendDowntime: 'DowntimeRequestApplied',
  escalateDowntime: 'DowntimeRequestApplied',
  setDowntimeProbePercent: 'DowntimeRequestApplied',
  cancelDowntime: 'DowntimeRequestApplied',
  reportTransactions: 'TransactionsAccepted',
  getPaymentOptions: 'PaymentOptions',
  getCatalog: 'Catalog',
  putCatalog: 'Catalog',
  getStatus: 'Status',
  listFreezeWindows: 'FreezeWindowList',
  createFreezeWindow: 'FreezeWindow',
  listWebhooks: 'WebhookList',
  createWebhook: 'NewWebhook',
  getWebhook: 'Webhook',
  listWebhookDeliveries: 'DeliveryList',
  rotateWebhookSecret: 'RotatedSecret',
  listPartners: 'PartnerList',
  putPartners: 'PartnerList',
  pagerDutyWebhook: 'PagerDutyOutcome',
  listIncidents: 'IncidentList',
  getIncident: 'Incident',
  setIncidentStage: 'Incident',
  reviewIncident: 'Incident',
  listProblems: 'ProblemList',
  getProblem: 'Problem',
  updateProblem: 'Problem',
};
