/** Keys and webhook secrets never reach the logs, even at the most verbose level. */
import { buildApp } from '../../api/app';
import { KeyRing } from '../../api/auth';
import { KEYS, bearer, testClient, testConfig, testDatabase } from '../support/stack';

test('a run with every kind of request logs no API key and no webhook secret', async () => {
  const config = testConfig({ LOG_LEVEL: 'trace' });
  const db = await testDatabase(config);
  const temporal = await testClient();
  const lines: string[] = [];
  const app = await buildApp({ config, db, temporal: temporal.client, keys: new KeyRing(config.apiKeys!) }, { logStream: { write: (l) => void lines.push(l) } });
  try {
    await app.inject({ method: 'PUT', url: '/v1/catalog', headers: bearer(KEYS.admin), payload: { methods: [{ method: 'upi:gpay', gateways: ['razorpay'] }] } });
    const hook = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(KEYS.admin), payload: { url: 'http://127.0.0.1:9/hook', events: ['downtime.started'] } });
    const secret = (hook.json() as { secret: string }).secret;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    await app.inject({ method: 'POST', url: '/v1/transactions', headers: bearer(KEYS.ingest), payload: { transactions: [{ id: 't1', userId: 'u1', method: 'upi:gpay', gateway: 'razorpay', status: 'success' }] } });
    await app.inject({ method: 'GET', url: '/v1/payment-options?userId=u1', headers: bearer(KEYS.checkout) });
    await app.inject({ method: 'GET', url: '/v1/downtimes', headers: bearer(KEYS.operator) });
    await app.inject({ method: 'GET', url: '/v1/downtimes', headers: bearer(KEYS.ingest) });
    await app.inject({ method: 'GET', url: '/v1/downtimes', headers: bearer('an-unknown-key-that-is-long-enough') });
    await app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(KEYS.admin) });

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(10);
    expect(log).toContain('incoming request');
    for (const key of [...Object.values(KEYS), 'an-unknown-key-that-is-long-enough', secret]) expect(log).not.toContain(key);
  } finally {
    await app.close();
    await temporal.close();
    await db.db.dropDatabase();
    await db.close();
  }
});
