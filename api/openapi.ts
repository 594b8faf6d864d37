/**
 * What the OpenAPI document declares beyond a route's own schema: the success status it answers
 * and every refusal it can give, each with the one `Error` component (api/errors.ts). Applied to
 * the document only (the swagger transform): validation and serialization stay the routes' own.
 */
import type { FastifySchema, RouteOptions } from 'fastify';

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
  401: 'No bearer API key, or an unknown one.',
  403: "The key's roles do not allow this call.",
  404: 'No such record.',
  409: "The record's state refuses the request (already resolved, already acknowledged, a scope already down).",
  413: 'The body is larger than 1 MiB.',
  415: 'The body is not application/json.',
  503: 'The database or Temporal is unavailable; retry after `Retry-After` seconds.',
};

export function declaredAnswers(schema: FastifySchema | undefined, url: string, route: Pick<RouteOptions, 'method' | 'onRequest'>): FastifySchema {
  const method = [route.method].flat()[0]!;
  const key = `${method} ${url}`;
  const response: Record<string, unknown> = { ...(schema?.response as Record<string, unknown> | undefined) };
  const success = SUCCESS[key] ?? 200;
  response[success] ??= { description: success === 204 ? 'Done; no body.' : 'Done.', ...(success === 204 ? { type: 'null' } : {}) };
  const codes: number[] = [];
  const secured = route.onRequest !== undefined;
  if (schema?.body || schema?.querystring || schema?.params) codes.push(400);
  if (secured) codes.push(401, 403, 503);
  if (url.includes(':id')) codes.push(404);
  if (method === 'POST' && url.startsWith('/v1/downtimes')) codes.push(409);
  if (schema?.body) codes.push(413, 415);
  for (const code of codes) response[code] ??= { description: REFUSALS[code], ...ERROR_REF };
  return { ...schema, response };
}
