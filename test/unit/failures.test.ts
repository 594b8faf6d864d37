import { DEFAULT_SYSTEM_ERROR_CODES, DEFAULT_USER_ERROR_CODES, Outcome, classifyOutcome } from '../../domain';

describe('failure classification', () => {
  test.each<['success' | 'failure', string | undefined, Outcome]>([
    ['success', undefined, 'success'],
    ['success', 'GATEWAY_TIMEOUT', 'success'],
    ['failure', 'USER_CANCELLED', 'user_failure'],
    ['failure', 'INSUFFICIENT_FUNDS', 'user_failure'],
    ['failure', 'INVALID_OTP', 'user_failure'],
    ['failure', 'INVALID_PIN', 'user_failure'],
    ['failure', 'EXPIRED_CARD', 'user_failure'],
    ['failure', 'LIMIT_EXCEEDED', 'user_failure'],
    ['failure', 'GATEWAY_TIMEOUT', 'system_failure'],
    ['failure', 'ISSUER_DOWN', 'system_failure'],
    ['failure', undefined, 'system_failure'],
    ['failure', 'SOMETHING_NEW', 'system_failure'],
  ])('counts a %s with code %s as %s', (status, code, outcome) => {
    expect(classifyOutcome(status, code)).toBe(outcome);
  });

  test('uses a configured set of user codes instead of the defaults', () => {
    const codes = new Set(['RISK_DECLINED']);
    expect(classifyOutcome('failure', 'RISK_DECLINED', codes)).toBe('user_failure');
    expect(classifyOutcome('failure', 'USER_CANCELLED', codes)).toBe('system_failure');
  });

  test('never lists a code as both the user\'s and the system\'s', () => {
    expect(DEFAULT_USER_ERROR_CODES.filter((c) => DEFAULT_SYSTEM_ERROR_CODES.includes(c))).toEqual([]);
    for (const c of DEFAULT_SYSTEM_ERROR_CODES) expect(classifyOutcome('failure', c)).toBe('system_failure');
  });
});
