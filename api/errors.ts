/**
 * The API's errors: one body shape, `{error, message, field?}` (the `Error` component of the
 * OpenAPI document), and one class that routes and services throw. The app's error handler is the
 * one place that turns them into answers; nothing matches on message text.
 */
import { Scope, ScopeError, normalizeScope } from '../domain/scope';

/** The body of every refusal. */
export const ERROR_SCHEMA = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'A stable code: bad_request, not_found, conflict, unauthorized, forbidden, temporal_unavailable, database_unavailable, ...' },
    message: { type: 'string', description: 'What is wrong, starting with the field when it is about one.' },
    field: { type: 'string', description: 'The request field the refusal is about, as a dotted path.' },
    downtimeId: { type: 'string', description: 'On a conflict with an open downtime: its id.' },
  },
} as const;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { field?: string; downtimeId?: string } = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get body() {
    return { error: this.code, message: this.message, ...this.extra };
  }
}

/** A field of the request is wrong: 400, naming it. */
export const badRequest = (field: string, detail: string) => new ApiError(400, 'bad_request', `${field}: ${detail}`, { field });
export const notFound = (what: string, id: string) => new ApiError(404, 'not_found', `${what} ${id} not found`);
/** The request is sound but the resource's state refuses it: 409. */
export const conflict = (message: string, extra: { downtimeId?: string } = {}) => new ApiError(409, 'conflict', message, extra);

/** The scope in its canonical form, or a 400 naming the dimension under `field` that is wrong. */
export function validScope(scope: Scope, field = 'scope'): Scope {
  try {
    return normalizeScope(scope);
  } catch (err) {
    if (err instanceof ScopeError) throw badRequest(err.field === 'scope' ? field : `${field}.${err.field}`, err.message);
    throw err;
  }
}

/** An ISO-8601 time as epoch ms, or a 400 naming the field (a schema's date-time admits forms Date.parse does not read). */
export function parseTime(field: string, value: string): number {
  const at = Date.parse(value);
  if (!Number.isFinite(at)) throw badRequest(field, 'expected an ISO-8601 date-time such as 2024-11-11T10:00:00Z');
  return at;
}

const TEMPORAL_UNAVAILABLE = 'the workflow service (Temporal) is unavailable; retry shortly';
/** Temporal did not answer in time: 503, retry after a few seconds (or read first, when `message` says so). */
export const temporalUnavailable = (message = TEMPORAL_UNAVAILABLE) => new ApiError(503, 'temporal_unavailable', message, {}, { 'retry-after': '5' });
