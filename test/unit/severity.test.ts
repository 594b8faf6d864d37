import { Scope, Severity, SeverityInput, SeveritySettings, computeSeverity, maxSeverity, raiseSeverity, severityRank } from '../../domain';

const MINUTE = 60_000;
const settings: SeveritySettings = { unackedAfterMs: 15 * MINUTE, longAfterMs: 60 * MINUTE, veryLongAfterMs: 240 * MINUTE };
const OPENED = 1_000_000_000;
const route: Scope = { method: 'upi:gpay', gateway: 'payu' };
const method: Scope = { method: 'netbanking:sbi' };
const gateway: Scope = { gateway: 'payu' };

function input(o: Partial<SeverityInput> & { ageMin?: number }): SeverityInput {
  const { ageMin = 0, ...rest } = o;
  return { scope: route, trafficShare: 0.01, openedAt: OPENED, now: OPENED + ageMin * MINUTE, acknowledged: true, inFreeze: false, ...rest };
}

describe('severity', () => {
  test.each<[string, Partial<SeverityInput> & { ageMin?: number }, Severity]>([
    ['a fresh, acknowledged, low-traffic route is SEV4', {}, 'SEV4'],
    ['a method-wide downtime is SEV3', { scope: method }, 'SEV3'],
    ['a mode on one gateway is SEV3', { scope: { mode: 'card', gateway: 'payu' } }, 'SEV3'],
    ['a whole gateway is SEV2', { scope: gateway }, 'SEV2'],
    ['a mode everywhere is SEV2', { scope: { mode: 'upi' } }, 'SEV2'],
    ['a route with 5% of traffic is SEV3', { trafficShare: 0.05 }, 'SEV3'],
    ['a route with 20% of traffic is SEV2', { trafficShare: 0.2 }, 'SEV2'],
    ['a gateway with 20% of traffic is SEV1', { scope: gateway, trafficShare: 0.2 }, 'SEV1'],
    ['a method with 5% of traffic is SEV2', { scope: method, trafficShare: 0.05 }, 'SEV2'],
    ['a route down for an hour is SEV3', { ageMin: 60 }, 'SEV3'],
    ['a route down for four hours is SEV2', { ageMin: 240 }, 'SEV2'],
    ['a route left unacknowledged for 15 minutes is SEV3', { acknowledged: false, ageMin: 15 }, 'SEV3'],
    ['a route unacknowledged for 14 minutes is still SEV4', { acknowledged: false, ageMin: 14 }, 'SEV4'],
    ['a route in a freeze window is one level higher', { inFreeze: true }, 'SEV3'],
    ['a gateway in a freeze window is one level higher', { scope: gateway, inFreeze: true }, 'SEV1'],
    ['a freeze cannot go beyond SEV1', { scope: gateway, trafficShare: 0.5, inFreeze: true }, 'SEV1'],
    ['a method, 5% traffic, an hour, unacknowledged adds up to SEV1', { scope: method, trafficShare: 0.05, ageMin: 60, acknowledged: false }, 'SEV1'],
    ['a manual escalation is a floor', { floor: 'SEV2' }, 'SEV2'],
    ['a floor does not lower a worse severity', { scope: gateway, trafficShare: 0.2, floor: 'SEV3' }, 'SEV1'],
    ['it never drops below the previous severity while open', { previous: 'SEV1' }, 'SEV1'],
  ])('%s', (_name, o, expected) => {
    expect(computeSeverity(input(o), settings)).toBe(expected);
  });

  test('only rises as a downtime ages without acknowledgement', () => {
    let previous: Severity | undefined;
    const seen: Severity[] = [];
    for (const ageMin of [0, 15, 60, 240, 300]) {
      previous = computeSeverity(input({ scope: method, acknowledged: false, ageMin, previous }), settings);
      seen.push(previous);
    }
    expect(seen).toEqual(['SEV3', 'SEV2', 'SEV2', 'SEV1', 'SEV1']);
  });
});

describe('severity arithmetic', () => {
  test.each<[Severity, number]>([
    ['SEV1', 1],
    ['SEV2', 2],
    ['SEV3', 3],
    ['SEV4', 4],
  ])('ranks %s as %i', (s, rank) => {
    expect(severityRank(s)).toBe(rank);
  });

  test.each<[Severity, Severity, Severity]>([
    ['SEV1', 'SEV4', 'SEV1'],
    ['SEV3', 'SEV2', 'SEV2'],
    ['SEV4', 'SEV4', 'SEV4'],
  ])('picks the more severe of %s and %s', (a, b, expected) => {
    expect(maxSeverity(a, b)).toBe(expected);
    expect(maxSeverity(b, a)).toBe(expected);
  });

  test.each<[Severity, number, Severity]>([
    ['SEV4', 1, 'SEV3'],
    ['SEV4', 2, 'SEV2'],
    ['SEV2', 5, 'SEV1'],
    ['SEV1', 0, 'SEV1'],
    ['SEV2', -1, 'SEV3'],
    ['SEV3', -5, 'SEV4'],
  ])('raises %s by %i steps to %s', (s, steps, expected) => {
    expect(raiseSeverity(s, steps)).toBe(expected);
  });
});
