/**
 * Which failures count against a route. A user cancelling or typing a wrong PIN says nothing
 * about the route's health, so those failures are kept out of the success rate entirely.
 */

/** Failures that are the user's doing: never counted against a route. */
export const DEFAULT_USER_ERROR_CODES: readonly string[] = Object.freeze([
  'USER_CANCELLED',
  'INSUFFICIENT_FUNDS',
  'INVALID_OTP',
  'INVALID_PIN',
  'EXPIRED_CARD',
  'LIMIT_EXCEEDED',
]);

/** Failures known to be the system's. Informational: any code not in the user set counts as system. */
export const DEFAULT_SYSTEM_ERROR_CODES: readonly string[] = Object.freeze([
  'GATEWAY_TIMEOUT',
  'GATEWAY_ERROR',
  'BANK_UNAVAILABLE',
  'NETWORK_ERROR',
  'ISSUER_DOWN',
]);

const DEFAULT_USER_SET: ReadonlySet<string> = new Set(DEFAULT_USER_ERROR_CODES);

export type Outcome = 'success' | 'user_failure' | 'system_failure';

/**
 * Classifies one attempt. A failure without a code, or with an unknown one, is the system's:
 * missing a real outage costs more than a spurious count that the statistics will absorb.
 */
export function classifyOutcome(
  status: 'success' | 'failure',
  errorCode: string | undefined,
  userCodes: ReadonlySet<string> = DEFAULT_USER_SET,
): Outcome {
  if (status === 'success') return 'success';
  return errorCode !== undefined && userCodes.has(errorCode) ? 'user_failure' : 'system_failure';
}
