/** Who hears what: the channel rule and the partners a downtime concerns, on tables of cases. */
import { concernedPartners, pagerDutyAction, topologyOf, type Scope } from '../../domain';

const catalog: { methods: { method: string; gateways: string[]; attributes: Record<string, string> }[]; gateways: { gateway: string; aggregator?: string }[] } = {
  methods: [
    { method: 'card:hdfc_credit', gateways: ['payu', 'razorpay'], attributes: { issuer: 'hdfc', network: 'visa' } },
    { method: 'card:sbi_debit', gateways: ['razorpay'], attributes: { issuer: 'sbi', network: 'rupay' } },
    { method: 'upi:gpay', gateways: ['cashfree'], attributes: { psp: 'gpay' } },
  ],
  gateways: [{ gateway: 'payu', aggregator: 'juspay' }, { gateway: 'razorpay' }, { gateway: 'cashfree', aggregator: 'juspay' }],
};
const topo = topologyOf(catalog);
const routes = catalog.methods.flatMap((m) => m.gateways.map((gateway) => ({ method: m.method, gateway })));
const partners: { name: string; scope: Scope }[] = [
  { name: 'PayU', scope: { gateway: 'payu' } },
  { name: 'Razorpay', scope: { gateway: 'razorpay' } },
  { name: 'Juspay', scope: { aggregator: 'juspay' } },
  { name: 'HDFC', scope: { issuer: 'hdfc' } },
  { name: 'Visa', scope: { network: 'visa' } },
  { name: 'NPCI', scope: { mode: 'upi' } },
];

test.each<[string, Scope, string[]]>([
  ['a gateway: its own partner, its aggregator, and the banks and networks of what it carries', { gateway: 'payu' }, ['PayU', 'Juspay', 'HDFC', 'Visa']],
  ['a bank everywhere: the bank, its network, and every processor that carries its cards', { issuer: 'hdfc' }, ['PayU', 'Razorpay', 'Juspay', 'HDFC', 'Visa']],
  ['a bank on one direct gateway: not the aggregator, whose gateways do not carry it there', { issuer: 'hdfc', gateway: 'razorpay' }, ['Razorpay', 'HDFC', 'Visa']],
  ['a method on a gateway no partner names: only who its routes share', { method: 'card:sbi_debit' }, ['Razorpay']],
  ['an aggregator: each of its gateways and what they carry', { aggregator: 'juspay' }, ['PayU', 'Juspay', 'HDFC', 'Visa', 'NPCI']],
  ['a scope with no route in the catalog: nobody', { method: 'netbanking:axis' }, []],
])('%s', (_what, scope, names) => {
  expect(concernedPartners(partners, scope, routes, topo).map((p) => p.name)).toEqual(names);
});

test('with no catalog, a partner is concerned when its scope could share a route (an aggregator only when the gateway is known to sit behind it)', () => {
  expect(concernedPartners(partners, { gateway: 'payu' }, []).map((p) => p.name)).toEqual(['PayU', 'HDFC', 'Visa', 'NPCI']);
});

test.each([
  ['started', undefined],
  ['escalated', undefined],
  ['acknowledged', 'acknowledge'],
  ['resolved', 'resolve'],
] as const)('PagerDuty hears the %s notice of a paged downtime as %p', (event, action) => {
  expect(pagerDutyAction(event)).toBe(action);
});
