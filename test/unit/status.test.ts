import { ComponentStatus, DowntimeState, Scope, Severity, componentStatus } from '../../domain';

type Open = { scope: Scope; severity: Severity; state: DowntimeState; probeRate?: number };
const dt = (scope: Scope, severity: Severity = 'SEV3', state: DowntimeState = 'probing', probeRate?: number): Open => ({ scope, severity, state, probeRate });

const payu: Scope = { gateway: 'payu' };
const upi: Scope = { mode: 'upi' };
const gpay: Scope = { method: 'upi:gpay' };

describe('public component status', () => {
  test.each<[string, Open[], Scope, ComponentStatus]>([
    ['a component with no downtimes is operational', [], payu, 'operational'],
    ['a downtime elsewhere leaves it operational', [dt({ gateway: 'razorpay' }, 'SEV1')], payu, 'operational'],
    ['a resolved downtime leaves it operational', [dt(payu, 'SEV1', 'resolved')], payu, 'operational'],
    ['a downtime of the whole component is a major outage', [dt(payu, 'SEV4', 'disabled')], payu, 'major_outage'],
    ['a broader downtime covering the component is a major outage', [dt(upi)], gpay, 'major_outage'],
    ['a whole-component downtime whose probe shows recovery is a partial outage', [dt(payu, 'SEV2', 'probing', 0.8)], payu, 'partial_outage'],
    ['a whole-component downtime whose probe still fails stays a major outage', [dt(payu, 'SEV2', 'probing', 0.2)], payu, 'major_outage'],
    ['a severe downtime of part of the component is a partial outage', [dt({ method: 'upi:gpay', gateway: 'payu' }, 'SEV2')], payu, 'partial_outage'],
    ['a minor downtime of part of the component is degraded', [dt({ method: 'upi:gpay', gateway: 'payu' }, 'SEV3')], payu, 'degraded'],
    ['a downtime crossing part of the component counts as partial', [dt(payu, 'SEV4')], gpay, 'degraded'],
    ['the worst open downtime decides', [dt({ method: 'upi:gpay', gateway: 'payu' }, 'SEV4'), dt({ mode: 'card', gateway: 'payu' }, 'SEV1')], payu, 'partial_outage'],
    ['a major outage outranks partial ones', [dt({ method: 'upi:gpay', gateway: 'payu' }, 'SEV1'), dt(upi, 'SEV4')], upi, 'major_outage'],
  ])('%s', (_name, open, component, expected) => {
    expect(componentStatus(open, component)).toBe(expected);
  });
});
