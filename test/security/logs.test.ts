/** Keys and webhook secrets never reach the logs, even at the most verbose level. */
import { buildApp } from '../../api/app';
import { KeyRing } from '../../api/auth';
import { signPagerDuty } from '../../common/pagerduty-signature';
import { KEYS, bearer, testClient, testConfig, testDatabase } from '../support/stack';

const CHANNEL_SECRETS = {
  PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEYSECRET000000000000000',
  PAGERDUTY_WEBHOOK_SECRET: 'pd-inbound-secret-0000000000000',
  SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/services/T0SECRET/B0SECRET/slacksecretpath',
  SMTP_URL: 'smtp://mailer:smtppassword0000@127.0.0.1:9',
};

test('a run with every kind of request logs no API key, no webhook secret and no channel secret', async () => {
  const config = testConfig({ LOG_LEVEL: 'trace', ...CHANNEL_SECRETS });
  const db = await testDatabase(config);
  const temporal = await testClient();
  const lines: string[] = [];
  const app = await buildApp({ config, db, temporal: temporal.client, keys: new KeyRing(config.apiKeys!) }, { logStream: { write: (l) => void lines.push(l) } });
  try {
    await app.inject({ method: 'PUT', url: '/v1/catalog', headers: bearer(KEYS.admin), payload: { methods: [{ method: 'upi:gpay', gateways: ['razorpay'] }] } });
    const hook = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(KEYS.admin), payload: { url: 'http://127.0.0.1:9/hook', events: ['downtime.started'] } });
    const { id: hookId, secret } = hook.json() as { id: string; secret: string };
    expect(secret).toMatch(/^whsec_/);
    const rotated = (await app.inject({ method: 'POST', url: `/v1/webhooks/${hookId}/rotate-secret`, headers: bearer(KEYS.admin) })).json() as { secret: string };
    const pd = JSON.stringify({ event: { id: 'ev1', event_type: 'incident.acknowledged', data: { incident_key: 'dt_unknown' } } });
    await app.inject({ method: 'POST', url: '/v1/integrations/pagerduty', headers: { 'content-type': 'application/json', 'x-pagerduty-signature': signPagerDuty(CHANNEL_SECRETS.PAGERDUTY_WEBHOOK_SECRET, pd) }, payload: pd });
    await app.inject({ method: 'POST', url: '/v1/transactions', headers: bearer(KEYS.ingest), payload: { transactions: [{ id: 't1', userId: 'u1', method: 'upi:gpay', gateway: 'razorpay', status: 'success' }] } });
    await app.inject({ method: 'GET', url: '/v1/payment-options?userId=u1', headers: bearer(KEYS.checkout) });
    await app.inject({ method: 'GET', url: '/v1/downtimes', headers: bearer(KEYS.operator) });
    await app.inject({ method: 'GET', url: '/v1/downtimes', headers: bearer(KEYS.ingest) });
    await app.inject({ method: 'GET', url: '/v1/downtimes', headers: bearer('an-unknown-key-that-is-long-enough') });
    await app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(KEYS.admin) });

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(10);
    expect(log).toContain('incoming request');
    for (const key of [...Object.values(KEYS), 'an-unknown-key-that-is-long-enough', secret, rotated.secret]) expect(log).not.toContain(key);
    for (const leak of ['R0UT1NGKEYSECRET', 'pd-inbound-secret', 'slacksecretpath', 'smtppassword']) expect(log).not.toContain(leak);
  } finally {
    await app.close();
    await temporal.close();
    await db.db.dropDatabase();
    await db.close();
  }
});
