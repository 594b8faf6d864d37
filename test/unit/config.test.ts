import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseDuration } from '../../common/config';
import { downtimesInUi, workflowInUi } from '../../common/temporal-ui';

describe('configuration', () => {
  test('runs on embedded defaults with nothing configured', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, temporal: { address: undefined, uiPort: 8233 }, mongo: { uri: undefined }, apiKeys: undefined });
    expect(c.detection.intervalMs).toBe(30_000);
    expect(c.downtime.expiryMs).toBe(30 * 60_000);
    expect(c.downtime.flapHoldMs).toBe(0);
    expect(c.probe).toMatchObject({ percent: 10, maxPercent: 50, provenPercent: 100 });
  });

  test('links into the Temporal Web UI: the downtime actors\' list and one actor\'s page, on the embedded UI or TEMPORAL_UI_URL', () => {
    const embedded = loadConfig({});
    expect(downtimesInUi(embedded)).toBe('http://127.0.0.1:8233/namespaces/default/workflows?query=WorkflowType%3D%22downtimeWorkflow%22');
    expect(workflowInUi(embedded, 'downtime:netbanking:sbi@*')).toBe('http://127.0.0.1:8233/namespaces/default/workflows/downtime%3Anetbanking%3Asbi%40*');
    const hosted = loadConfig({ TEMPORAL_UI_URL: 'https://temporal.example.com/', TEMPORAL_NAMESPACE: 'payments' });
    expect(downtimesInUi(hosted, 'open')).toBe(`https://temporal.example.com/namespaces/payments/workflows?query=${encodeURIComponent('WorkflowType="downtimeWorkflow" AND ExecutionStatus="Running"')}`);
  });

  test('FLAP_HOLD takes a duration or 0 (no hold); other durations refuse 0', () => {
    expect(loadConfig({ FLAP_HOLD: '5m' }).downtime.flapHoldMs).toBe(300_000);
    expect(loadConfig({ FLAP_HOLD: '0s' }).downtime.flapHoldMs).toBe(0);
    expect(parseDuration('0', true)).toBe(0);
    expect(() => loadConfig({ FLAP_HOLD: 'a while' })).toThrow(/FLAP_HOLD/);
    expect(() => loadConfig({ PROBE_INTERVAL: '0s' })).toThrow(/PROBE_INTERVAL/);
  });

  test('DETECTION_WAKE_GAP defaults to a quarter of DETECTION_INTERVAL; 0s turns the wake off; a bad value is named', () => {
    expect(loadConfig({}).detection.wakeGapMs).toBe(7_500);
    expect(loadConfig({ DETECTION_INTERVAL: '2s' }).detection.wakeGapMs).toBe(500);
    expect(loadConfig({ DETECTION_WAKE_GAP: '1s' }).detection.wakeGapMs).toBe(1_000);
    expect(loadConfig({ DETECTION_WAKE_GAP: '0s' }).detection.wakeGapMs).toBe(0);
    expect(() => loadConfig({ DETECTION_WAKE_GAP: 'soon' })).toThrow(/DETECTION_WAKE_GAP: expected a duration .*0s turns the wake off/);
  });

  test('the open downtimes are re-read every DOWNTIME_REFRESH (200ms), never less often than the whole snapshot', () => {
    expect(loadConfig({}).downtimeRefreshMs).toBe(200);
    expect(loadConfig({ DOWNTIME_REFRESH: '50ms' }).downtimeRefreshMs).toBe(50);
    expect(loadConfig({ SNAPSHOT_REFRESH: '100ms' }).downtimeRefreshMs).toBe(100);
    expect(() => loadConfig({ DOWNTIME_REFRESH: 'often' })).toThrow(/DOWNTIME_REFRESH/);
  });

  test.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['500ms', 500],
    ['soon', undefined],
    ['-5s', undefined],
    ['0s', undefined],
    ['', undefined],
  ])('parses the duration %p as %p', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each<[Record<string, string>, string, RegExp]>([
    [{ DETECTION_INTERVAL: 'soon' }, 'DETECTION_INTERVAL', /expected a duration such as .* got "soon"/],
    [{ PROBE_PERCENT: '150' }, 'PROBE_PERCENT', /percentage/],
    [{ PROBE_PERCENT: '100' }, 'PROBE_PERCENT', /percentage above 0 and below 100/],
    [{ PROVEN_PROBE_PERCENT: '101' }, 'PROVEN_PROBE_PERCENT', /percentage above 0, at most 100/],
    [{ PROVEN_PROBE_PERCENT: '0' }, 'PROVEN_PROBE_PERCENT', /percentage above 0, at most 100/],
    [{ MIN_ATTEMPTS: 'lots' }, 'MIN_ATTEMPTS', /whole number/],
    [{ PORT: '70000' }, 'PORT', /whole number from 0 to 65535/],
    [{ API_KEYS: 'short=admin' }, 'API_KEYS', /at least 16/],
    [{ API_KEYS: 'a-long-enough-key-123=root' }, 'API_KEYS', /unknown role "root"/],
    [{ DETECTION_WINDOW: '1s', COUNTER_BUCKET: '10s' }, 'DETECTION_WINDOW', /at least COUNTER_BUCKET/],
    [{ TEMPORAL_UI_URL: 'temporal.example.com' }, 'TEMPORAL_UI_URL', /http or https URL/],
  ])('refuses %p naming the variable', (env, variable, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toMatch(message);
  });

  test('a process started with a bad value stops with one line naming the variable', () => {
    const root = join(__dirname, '../..');
    const res = spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'api/main.ts')], {
      env: { ...process.env, DETECTION_INTERVAL: 'soon' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(2);
    expect(res.stderr.trim().split('\n')).toEqual([
      'Invalid configuration: DETECTION_INTERVAL: expected a duration such as 500ms, 90s, 5m, 2h or 7d, got "soon"',
    ]);
  });
});
