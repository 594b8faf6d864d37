/**
 * What the OpenAPI document declares beyond a route's own schema: the success status it answers
 * and every refusal it can give, each with the one `Error` component (api/errors.ts). Applied to
 * the document only (the swagger transform): validation and serialization stay the routes' own.
 */
import type { FastifySchema, RouteOptions } from 'fastify';
import { ANSWERS } from './answers';

const ERROR_REF = { $ref: 'Error#' } as const;

/** Success statuses other than 200. */
const SUCCESS: Record<string, number> = {
  'POST /v1/downtimes': 202,
  'POST /v1/transactions': 202,
  'POST /v1/freeze-windows': 201,
  'POST /v1/webhooks': 201,
  'DELETE /v1/freeze-windows/:id': 204,
  'DELETE /v1/webhooks/:id': 204,
};

const REFUSALS: Record<number, string> = {
  400: 'A field of the request is wrong; `field` names it.',
  401: 'No bearer API key, or an unknown one (for an integration: no valid signature).',
  403: "The key's roles do not allow this call.",
  404: 'No such record.',
  409: "The record's state refuses the request (already resolved, already acknowledged, a scope already down).",
  413: 'The body is larger than 1 MiB.',
  415: 'The body is not application/json.',
  503: 'The database or Temporal is unavailable; retry after `Retry-After` seconds.',
};

export function declaredAnswers(schema: FastifySchema | undefined, url: string, route: Pick<RouteOptions, 'method' | 'onRequest' | 'preValidation'>): FastifySchema {
  const method = [route.method].flat()[0]!;
  const key = `${method} ${url}`;
  const response: Record<string, unknown> = { ...(schema?.response as Record<string, unknown> | undefined) };
  const success = SUCCESS[key] ?? 200;
  const answer = ANSWERS[OPERATION_IDS[`${method} ${url.replace(/:(\w+)/g, '{$1}')}`] ?? ''];
  response[success] ??= { description: success === 204 ? 'Done; no body.' : 'Done.', ...(success === 204 ? { type: 'null' } : answer ? { $ref: `${answer}#` } : {}) };
  const codes: number[] = [];
  const secured = route.onRequest !== undefined;
  if (schema?.body || schema?.querystring || schema?.params) codes.push(400);
  if (secured) codes.push(401, 403, 503);
  if (route.preValidation !== undefined) codes.push(401, 503);
  if (url.includes(':id')) codes.push(404);
  if (method === 'POST' && /^\/v1\/(downtimes|incidents|problems)/.test(url)) codes.push(409);
  if (url.endsWith('/rotate-secret')) codes.push(409);
  if (schema?.body) codes.push(413, 415);
  for (const code of codes) response[code] ??= { description: REFUSALS[code], ...ERROR_REF };
  return { ...schema, response };
}

type Operation = { operationId?: string; requestBody?: { required?: boolean; content?: Record<string, { schema?: { required?: string[] } }> }; responses?: Record<string, { description?: string; content?: Record<string, unknown>; links?: Record<string, unknown> }> };
type Document = { paths?: Record<string, Record<string, Operation>> };

/** Each operation's id (what a generated client names its call), by method and OpenAPI path. */
export const OPERATION_IDS: Record<string, string> = {
  'GET /v1/downtimes': 'listDowntimes',
  'POST /v1/downtimes': 'openDowntime',
  'GET /v1/downtimes/{id}': 'getDowntime',
  'POST /v1/downtimes/{id}/acknowledge': 'acknowledgeDowntime',
  'POST /v1/downtimes/{id}/resolve': 'resolveDowntime',
  'POST /v1/downtimes/{id}/extend': 'extendDowntime',
  'POST /v1/downtimes/{id}/escalate': 'escalateDowntime',
  'POST /v1/downtimes/{id}/probe-percent': 'setDowntimeProbePercent',
  'POST /v1/downtimes/{id}/cancel': 'cancelDowntime',
  'POST /v1/transactions': 'reportTransactions',
  'GET /v1/payment-options': 'getPaymentOptions',
  'GET /v1/catalog': 'getCatalog',
  'PUT /v1/catalog': 'putCatalog',
  'GET /v1/status': 'getStatus',
  'GET /status': 'getStatusPage',
  'GET /v1/freeze-windows': 'listFreezeWindows',
  'POST /v1/freeze-windows': 'createFreezeWindow',
  'DELETE /v1/freeze-windows/{id}': 'deleteFreezeWindow',
  'GET /v1/webhooks': 'listWebhooks',
  'POST /v1/webhooks': 'createWebhook',
  'GET /v1/webhooks/{id}': 'getWebhook',
  'DELETE /v1/webhooks/{id}': 'deleteWebhook',
  'GET /v1/webhooks/{id}/deliveries': 'listWebhookDeliveries',
  'POST /v1/webhooks/{id}/rotate-secret': 'rotateWebhookSecret',
  'GET /v1/partners': 'listPartners',
  'PUT /v1/partners': 'putPartners',
  'POST /v1/integrations/pagerduty': 'pagerDutyWebhook',
  'GET /v1/incidents': 'listIncidents',
  'GET /v1/incidents/{id}': 'getIncident',
  'POST /v1/incidents/{id}/stage': 'setIncidentStage',
  'POST /v1/incidents/{id}/review': 'reviewIncident',
  'GET /v1/problems': 'listProblems',
  'GET /v1/problems/{id}': 'getProblem',
  'POST /v1/problems/{id}': 'updateProblem',
};

/** Answers other than JSON, by operation id. */
const MEDIA: Record<string, string> = { getStatusPage: 'text/html' };

/**
 * OpenAPI links: where an answer's id leads next (open a downtime, then read, acknowledge and
 * resolve it; create a webhook, then list its deliveries; put the catalog, then read options).
 * A client or a stateful fuzzer follows them. By operation id: status → link name → target and where its id comes from.
 */
const LINKS: Record<string, { status: number; links: Record<string, { to: string; id?: string }> }> = {
  openDowntime: {
    status: 202,
    links: {
      read: { to: 'getDowntime', id: '$response.body#/id' },
      acknowledge: { to: 'acknowledgeDowntime', id: '$response.body#/id' },
      escalate: { to: 'escalateDowntime', id: '$response.body#/id' },
      extend: { to: 'extendDowntime', id: '$response.body#/id' },
      probePercent: { to: 'setDowntimeProbePercent', id: '$response.body#/id' },
      resolve: { to: 'resolveDowntime', id: '$response.body#/id' },
    },
  },
  acknowledgeDowntime: { status: 200, links: { resolve: { to: 'resolveDowntime', id: '$response.body#/id' }, read: { to: 'getDowntime', id: '$response.body#/id' } } },
  listDowntimes: { status: 200, links: { read: { to: 'getDowntime', id: '$response.body#/downtimes/0/id' } } },
  createWebhook: {
    status: 201,
    links: {
      read: { to: 'getWebhook', id: '$response.body#/id' },
      deliveries: { to: 'listWebhookDeliveries', id: '$response.body#/id' },
      rotate: { to: 'rotateWebhookSecret', id: '$response.body#/id' },
      delete: { to: 'deleteWebhook', id: '$response.body#/id' },
    },
  },
  createFreezeWindow: { status: 201, links: { delete: { to: 'deleteFreezeWindow', id: '$response.body#/id' } } },
  listIncidents: { status: 200, links: { read: { to: 'getIncident', id: '$response.body#/incidents/0/id' } } },
  listProblems: { status: 200, links: { read: { to: 'getProblem', id: '$response.body#/problems/0/id' } } },
  putCatalog: { status: 200, links: { paymentOptions: { to: 'getPaymentOptions' } } },
};

/**
 * The generated document finished: operation ids, links, a request body marked required when it
 * has required fields, and non-JSON answers declared as what they are.
 */
export function finishDocument<T extends Document>(doc: T): T {
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(operations)) {
      const id = OPERATION_IDS[`${method.toUpperCase()} ${path}`];
      if (!id) throw new Error(`api/openapi.ts: no operation id for ${method.toUpperCase()} ${path}`);
      op.operationId = id;
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (op.requestBody && (body?.required?.length ?? 0) > 0) op.requestBody.required = true;
      const media = MEDIA[id];
      const ok = op.responses?.['200'];
      if (media && ok) ok.content = { [media]: { schema: { type: 'string' } } };
      const declared = LINKS[id];
      const response = declared && op.responses?.[String(declared.status)];
      if (declared && response) {
        response.links = Object.fromEntries(
          Object.entries(declared.links).map(([name, l]) => [name, { operationId: l.to, ...(l.id ? { parameters: { id: l.id } } : {}) }]),
        );
      }
    }
  }
  return doc;
}
