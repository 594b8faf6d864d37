import { RouteCounter, baselineFor, countedWindow, evaluateScopes, judgeScopes, placeFinding, topologyOf, wakesDetection, withoutOverruledEvidence, withoutWidening } from '../../domain';
import { TABLE_SETTINGS, Traffic, binomial, counter, seeded, trafficCounters } from './helpers';

const MINUTE = 60_000;
const NOW = 1_000 * MINUTE;

const settings = TABLE_SETTINGS;

const counters = (traffic: Traffic[]) => trafficCounters(traffic, NOW);
const failingKeys = (traffic: Traffic[]) => evaluateScopes(counters(traffic), NOW, settings).failing.map((h) => h.key);

/** A small catalog: UPI on two gateways, a card on two, SBI netbanking only on payu. */
const healthy: Traffic[] = [
  { route: 'upi:gpay@razorpay', attempts: 400 },
  { route: 'upi:gpay@payu', attempts: 300 },
  { route: 'upi:phonepe@razorpay', attempts: 200 },
  { route: 'card:hdfc_debit@razorpay', attempts: 300 },
  { route: 'card:hdfc_debit@payu', attempts: 300 },
  { route: 'netbanking:sbi@payu', attempts: 200 },
];

/** The healthy catalog with some routes' current success rate replaced. */
function withRates(rates: Record<string, number>, base: Traffic[] = healthy): Traffic[] {
  return base.map((t) => (t.route in rates ? { ...t, rate: rates[t.route] } : t));
}

describe('roll-up of failing scopes', () => {
  test.each<[string, Traffic[], string[]]>([
    ['reports nothing when every route succeeds as usual', healthy, []],
    ['reports a bank down on its only gateway as one method-wide downtime', withRates({ 'netbanking:sbi@payu': 0.05 }), ['netbanking:sbi@*']],
    [
      'reports a gateway down for all its methods as the gateway, not one downtime per method',
      withRates({ 'upi:gpay@payu': 0.05, 'card:hdfc_debit@payu': 0.05, 'netbanking:sbi@payu': 0.05 }),
      ['*:*@payu'],
    ],
    [
      'reports UPI down on every gateway as the mode while cards are fine',
      withRates({ 'upi:gpay@razorpay': 0.1, 'upi:gpay@payu': 0.1, 'upi:phonepe@razorpay': 0.1 }),
      ['upi:*@*'],
    ],
    ['reports one dead route alone when the same method works on another gateway', withRates({ 'upi:gpay@payu': 0.05 }), ['upi:gpay@payu']],
    [
      'reports two unrelated failures separately, broadest first',
      withRates({ 'netbanking:sbi@payu': 0.05, 'upi:gpay@razorpay': 0.05 }),
      ['netbanking:sbi@*', 'upi:gpay@razorpay'],
    ],
    [
      'reports all cards via one gateway as the mode on that gateway',
      withRates({ 'card:hdfc_debit@payu': 0.05, 'card:visa@payu': 0.05 }, [...healthy, { route: 'card:visa@payu', attempts: 200 }, { route: 'card:visa@razorpay', attempts: 200 }]),
      ['card:*@payu'],
    ],
    [
      'reports a partial degradation from 0.92 to 0.70 over 300 attempts',
      [
        { route: 'card:hdfc_debit@payu', attempts: 300, successes: 210, baseline: 0.92 },
        { route: 'card:hdfc_debit@razorpay', attempts: 300, rate: 0.92, baseline: 0.92 },
      ],
      ['card:hdfc_debit@payu'],
    ],
  ])('%s', (_name, traffic, expected) => {
    expect(failingKeys(traffic)).toEqual(expected);
  });
});

describe('what must not raise a downtime', () => {
  test('ignores noisy user errors when the system success rate is normal', () => {
    // Half of every route's attempts are USER_CANCELLED-style failures.
    const noisy = healthy.map((t) => ({ ...t, userFailures: t.attempts }));
    expect(failingKeys(noisy)).toEqual([]);
  });

  test('ignores a failing method whose volume is under the minimum attempts', () => {
    expect(failingKeys(withRates({ 'netbanking:sbi@payu': 0 }, healthy.map((t) => (t.route === 'netbanking:sbi@payu' ? { ...t, attempts: 20 } : t))))).toEqual([]);
  });

  test.each(Array.from({ length: 25 }, (_, i) => i + 1))('ignores ordinary binomial variance around a 0.92 baseline (seed %i)', (seed) => {
    const rand = seeded(seed);
    const traffic = healthy.map((t) => ({ ...t, attempts: 200, successes: binomial(200, 0.92, rand), baseline: 0.92 }));
    expect(failingKeys(traffic)).toEqual([]);
  });

  test('ignores a route that is slightly worse than its baseline but within the allowed degradation', () => {
    expect(failingKeys([{ route: 'upi:gpay@payu', attempts: 2000, rate: 0.85, baseline: 0.95 }])).toEqual([]);
  });

  test('ignores counters outside the window and malformed route ids', () => {
    const old = counter('upi:gpay', 'payu', NOW - 30 * MINUTE, { systemFailure: 500 });
    const future = counter('upi:gpay', 'payu', NOW + MINUTE, { systemFailure: 500 });
    const junk = counter('not a method', 'payu', NOW - MINUTE, { systemFailure: 500 });
    const verdict = evaluateScopes([...counters(healthy), old, future, junk], NOW, settings);
    expect(verdict.failing).toEqual([]);
  });
});

describe('scope health details', () => {
  test('gives each reported scope its traffic share, rate and threshold', () => {
    const verdict = evaluateScopes(counters(withRates({ 'netbanking:sbi@payu': 0.05 })), NOW, settings);
    const [sbi] = verdict.failing;
    expect(sbi).toMatchObject({ key: 'netbanking:sbi@*', attempts: 200, successes: 10, failing: true });
    expect(sbi!.trafficShare).toBeCloseTo(200 / 1700, 6);
    expect(sbi!.rate).toBeCloseTo(0.05, 6);
    expect(sbi!.threshold).toBeCloseTo(sbi!.baseline * 0.85, 9);
    expect(sbi!.upper).toBeLessThan(sbi!.threshold);
  });

  test('lists every evaluated scope that is not failing as healthy, for the snapshot', () => {
    const verdict = evaluateScopes(counters(withRates({ 'netbanking:sbi@payu': 0.05 })), NOW, settings);
    const keys = verdict.healthy.map((h) => h.key);
    expect(keys).toContain('upi:gpay@razorpay');
    expect(keys).toContain('*:*@razorpay');
    expect(keys).not.toContain('netbanking:sbi@payu');
    expect(keys).not.toContain('netbanking:sbi@*');
    expect(verdict.healthy.every((h) => !h.failing)).toBe(true);
  });

  test('does not count user failures as attempts', () => {
    const verdict = evaluateScopes(counters([{ route: 'upi:gpay@payu', attempts: 100, userFailures: 900 }]), NOW, settings);
    expect(verdict.healthy.find((h) => h.key === 'upi:gpay@payu')).toMatchObject({ attempts: 100, trafficShare: 1 });
  });

  test('is deterministic in its output order', () => {
    const traffic = withRates({ 'netbanking:sbi@payu': 0.05, 'upi:gpay@razorpay': 0.05 });
    const a = evaluateScopes(counters(traffic), NOW, settings);
    const b = evaluateScopes(counters(traffic).reverse(), NOW, settings);
    expect(b).toEqual(a);
  });
});

describe('baseline learning', () => {
  const scope = { method: 'upi:gpay', gateway: 'payu' };
  const past = (minutesAgo: number, c: Partial<RouteCounter>) => counter('upi:gpay', 'payu', NOW - minutesAgo * MINUTE, c);

  test.each<[string, RouteCounter[], number]>([
    ['falls back to the default with no history', [], 0.95],
    ['shrinks a short history toward the default', [past(10, { success: 50, systemFailure: 50 })], (50 + 50 * 0.95) / 150],
    ['follows a long history', [past(10, { success: 9000, systemFailure: 1000 })], (9000 + 47.5) / 10050],
    ['skips buckets that were under a downtime', [past(10, { success: 10, systemFailure: 90, covered: 100 })], 0.95],
    ['does not learn from the current window', [past(2, { success: 0, systemFailure: 100 })], 0.95],
    ['forgets history older than the baseline window', [past(120, { success: 0, systemFailure: 100 })], 0.95],
    ['ignores user failures', [past(10, { success: 100, userFailure: 900 })], (100 + 47.5) / 150],
  ])('%s', (_name, cs, expected) => {
    expect(baselineFor(cs, scope, NOW, settings)).toBeCloseTo(expected, 9);
  });

  test('pools the history of every route in a broad scope', () => {
    const cs = [past(10, { success: 100 }), counter('card:visa', 'payu', NOW - 10 * MINUTE, { systemFailure: 100 })];
    expect(baselineFor(cs, { gateway: 'payu' }, NOW, settings)).toBeCloseTo((100 + 47.5) / 250, 9);
    expect(baselineFor(cs, { mode: 'upi' }, NOW, settings)).toBeCloseTo((100 + 47.5) / 150, 9);
  });
});

describe('the short window for severe drops', () => {
  /** 60 healthy baseline minutes, then the five window minutes with the given (attempts, successes) each. */
  function minutes(route: string, window: [number, number][]): RouteCounter[] {
    const [method = '', gateway = ''] = route.split('@');
    const out: RouteCounter[] = [];
    for (let i = 0; i < 60; i++) out.push(counter(method, gateway, NOW - (65 - i) * MINUTE, { success: 95, systemFailure: 5 }));
    window.forEach(([attempts, ok], i) => out.push(counter(method, gateway, NOW - (window.length - i) * MINUTE, { success: ok, systemFailure: attempts - ok })));
    return out;
  }
  const healthyMinutes: [number, number][] = [
    [100, 95],
    [100, 95],
    [100, 95],
    [100, 95],
  ];
  const others = [...counters(healthy.filter((t) => !t.route.startsWith('netbanking:sbi')))];

  test('reports a hard outage from its first minute, while the detection window still averages it away', () => {
    const cs = [...others, ...minutes('netbanking:sbi@payu', [...healthyMinutes, [100, 5]])];
    const long = evaluateScopes(cs, NOW, { ...settings, fastWindowMs: 0, recentWindowMs: 0 });
    expect(long.failing).toEqual([]);
    // The recent half would report it too (see below); here the short window alone.
    const verdict = evaluateScopes(cs, NOW, { ...settings, recentWindowMs: 0 });
    expect(verdict.failing.map((h) => h.key)).toEqual(['netbanking:sbi@*']);
    // The short window's counts (and that window, which sizes the probe's floor share), and the
    // detection threshold the probe will test recovery against.
    expect(verdict.failing[0]).toMatchObject({ attempts: 100, successes: 5, windowMs: settings.windowMs / 4 });
    expect(verdict.failing[0]!.threshold).toBeCloseTo(verdict.failing[0]!.baseline * 0.85, 9);
    // And the whole detection window's counts, which were not selected on a dip (the recovery test's H0).
    expect(verdict.failing[0]!.detectionWindow).toEqual({ attempts: 500, successes: 385 });
    expect(verdict.healthy.map((h) => h.key)).not.toContain('netbanking:sbi@*');
  });

  test('rolls a hard gateway outage up to the gateway from the short window too', () => {
    const cs = ['upi:gpay@payu', 'card:hdfc_debit@payu', 'netbanking:sbi@payu'].flatMap((r) => minutes(r, [...healthyMinutes, [100, 2]]));
    const razorpay = counters(healthy.filter((t) => t.route.endsWith('@razorpay')));
    expect(evaluateScopes([...cs, ...razorpay], NOW, settings).failing.map((h) => h.key)).toEqual(['*:*@payu']);
    // Failing on the detection window too: its own counts, and nothing more.
    const cs2 = ['upi:gpay@payu', 'card:hdfc_debit@payu', 'netbanking:sbi@payu'].flatMap((r) => minutes(r, [[100, 2], [100, 2], [100, 2], [100, 2], [100, 2]]));
    const long = evaluateScopes([...cs2, ...razorpay], NOW, settings).failing[0]!;
    expect(long).toMatchObject({ key: '*:*@payu', attempts: 1_500, successes: 30, windowMs: settings.windowMs });
    expect(long.detectionWindow).toBeUndefined();
  });

  test.each<[string, [number, number]]>([
    ['a moderate drop (to 75%) in the last minute, which is the detection window\'s to judge', [100, 75]],
    ['a dead last minute under the minimum attempts', [20, 0]],
  ])('leaves %s alone', (_name, last) => {
    expect(evaluateScopes([...others, ...minutes('netbanking:sbi@payu', [...healthyMinutes, last])], NOW, settings).failing).toEqual([]);
  });

  test.each(Array.from({ length: 25 }, (_, i) => i + 1))('ignores ordinary variance in the short window too (seed %i)', (seed) => {
    const rand = seeded(100 + seed);
    const cs = healthy.flatMap((t) => minutes(t.route, Array.from({ length: 5 }, () => [40, binomial(40, 0.95, rand)] as [number, number])));
    expect(evaluateScopes(cs, NOW, settings).failing).toEqual([]);
  });
});

describe('the wide window for a quiet scope', () => {
  const others = counters(healthy.filter((t) => !t.route.startsWith('netbanking:sbi')));
  /** SBI netbanking: an hour of healthy minutes before the wide window, then the wide window's fifteen minutes, each (attempts, successes). */
  const sbi = (wide: [number, number][], perMinute = 4) => {
    const out: RouteCounter[] = [];
    for (let i = 0; i < 60; i++) out.push(counter('netbanking:sbi', 'payu', NOW - (75 - i) * MINUTE, { success: Math.round(perMinute * 0.95 * 10) / 10, systemFailure: Math.round(perMinute * 0.05 * 10) / 10 }));
    wide.forEach(([attempts, ok], i) => out.push(counter('netbanking:sbi', 'payu', NOW - (wide.length - i) * MINUTE, { success: ok, systemFailure: attempts - ok })));
    return out;
  };
  const dead = (n: number, attempts = 3): [number, number][] => Array.from({ length: n }, () => [attempts, 0]);
  const fine = (n: number, attempts = 3): [number, number][] => Array.from({ length: n }, () => [attempts, 3 * Math.floor(attempts / 3)]);

  test('reports a bank too quiet for the detection window once the wide window holds the minimum', () => {
    const cs = [...others, ...sbi(dead(15))];
    // 15 attempts in the detection window, short of the 30 it needs: without the wide window, never judged.
    expect(evaluateScopes(cs, NOW, { ...settings, wideWindowMs: 0 }).failing).toEqual([]);
    const verdict = evaluateScopes(cs, NOW, settings);
    expect(verdict.failing.map((h) => h.key)).toEqual(['netbanking:sbi@*']);
    // Its counts and window are the wide window's, which size the probe's floor share.
    expect(verdict.failing[0]).toMatchObject({ attempts: 45, successes: 0, windowMs: 3 * settings.windowMs });
    // Judged against the hour before the wide window, not against its own failing minutes.
    expect(verdict.failing[0]!.baseline).toBeCloseTo((60 * 3.8 + 50 * 0.95) / (60 * 4 + 50), 9);
  });

  test('leaves a scope under a downtime to its probe', () => {
    const covered = sbi(dead(15)).map((c) => (c.bucketStart >= NOW - 15 * MINUTE ? { ...c, covered: c.systemFailure } : c));
    expect(evaluateScopes([...others, ...covered], NOW, settings).failing).toEqual([]);
  });

  test('leaves it alone once its recent attempts succeed again, the old failures still in the wide window', () => {
    expect(evaluateScopes([...others, ...sbi([...dead(10), ...fine(5)])], NOW, settings).failing).toEqual([]);
  });

  test('leaves a busy scope to the detection window: failures older than it do not count', () => {
    expect(evaluateScopes([...others, ...sbi([...dead(10, 100), ...fine(5, 99)], 100)], NOW, settings).failing).toEqual([]);
  });

  test('does not reopen a quiet scope on the failures a recovery overruled', () => {
    // Two good minutes after thirteen dead ones: the detection window's rate is still below the threshold.
    const cs = [...others, ...sbi([...dead(13), ...fine(2)])];
    expect(judgeScopes(cs, [], NOW, settings, MINUTE).failing.map((h) => h.key)).toEqual(['netbanking:sbi@*']);
    // The probe proved it recovered two minutes ago: only what happened since is judged.
    const recovered = [{ scope: { method: 'netbanking:sbi' }, at: NOW - 2 * MINUTE }];
    expect(judgeScopes(cs, recovered, NOW, settings, MINUTE).failing).toEqual([]);
  });
});

describe('the recent half of the detection window', () => {
  /** 60 healthy baseline minutes, then the five window minutes with the given (attempts, successes) each. */
  const sbi = (window: [number, number][]) => {
    const out: RouteCounter[] = [];
    for (let i = 0; i < 60; i++) out.push(counter('netbanking:sbi', 'payu', NOW - (65 - i) * MINUTE, { success: 95, systemFailure: 5 }));
    window.forEach(([attempts, ok], i) => out.push(counter('netbanking:sbi', 'payu', NOW - (window.length - i) * MINUTE, { success: ok, systemFailure: attempts - ok })));
    return out;
  };
  const others = counters(healthy.filter((t) => !t.route.startsWith('netbanking:sbi')));
  /** 95% for three minutes, then 70% (a partial degradation, not a severe drop) for the last two. */
  const degradedLately = sbi([[100, 95], [100, 95], [100, 95], [100, 70], [100, 70]]);

  test('reports a moderate degradation once its recent half holds enough of it, before it outweighs the older half', () => {
    // Over the whole window 85%: above the threshold (80.75%) within the test's margin.
    expect(evaluateScopes([...others, ...degradedLately], NOW, { ...settings, recentWindowMs: 0 }).failing).toEqual([]);
    const verdict = evaluateScopes([...others, ...degradedLately], NOW, settings);
    expect(verdict.failing).toHaveLength(1);
    // The recent half's counts and length, and the whole window's (not selected on a dip) for the recovery test.
    expect(verdict.failing[0]).toMatchObject({ key: 'netbanking:sbi@*', attempts: 200, successes: 140, windowMs: settings.windowMs / 2 });
    expect(verdict.failing[0]!.detectionWindow).toEqual({ attempts: 500, successes: 425 });
    expect(verdict.failing[0]!.threshold).toBeCloseTo(verdict.failing[0]!.baseline * 0.85, 9);
  });

  test('judges at the detection degradation, not the severe one: a recent half at 85% is left alone', () => {
    expect(evaluateScopes([...others, ...sbi([[100, 95], [100, 95], [100, 95], [100, 85], [100, 85]])], NOW, settings).failing).toEqual([]);
  });

  test('follows its setting', () => {
    // A recent window of the last minute: 70 of 100 is evidence enough there too.
    const lastMinute = evaluateScopes([...others, ...degradedLately], NOW, { ...settings, recentWindowMs: MINUTE });
    expect(lastMinute.failing.map((h) => h.windowMs)).toEqual([MINUTE]);
    expect(evaluateScopes([...others, ...degradedLately], NOW, { ...settings, recentWindowMs: 0 }).failing).toEqual([]);
  });
});

describe('a method seen through one gateway only', () => {
  test('is the bank when the gateway\'s other routes are fine', () => {
    expect(failingKeys(withRates({ 'netbanking:sbi@payu': 0.05 }))).toEqual(['netbanking:sbi@*']);
  });

  test('is only its route while other routes of that gateway fail too, so it can still fail over', () => {
    // The gateway's other routes are bad but too few yet for the gateway to explain it; cards
    // have never used their second gateway.
    const traffic: Traffic[] = [
      { route: 'card:icici_debit@payu', attempts: 200, rate: 0.05 },
      { route: 'upi:gpay@payu', attempts: 25, rate: 0.4 },
      { route: 'upi:gpay@razorpay', attempts: 400 },
      { route: 'netbanking:axis@payu', attempts: 300, rate: 0.9 },
    ];
    expect(failingKeys(traffic)).toEqual(['card:icici_debit@payu']);
  });

  describe('when the catalog offers it on another gateway too', () => {
    // HDFC debit cards pay through payu first and razorpay second; nothing has used razorpay yet.
    const catalog = topologyOf({
      methods: [
        { method: 'card:hdfc_debit', gateways: ['payu', 'razorpay'] },
        { method: 'card:visa_credit', gateways: ['payu'] },
        { method: 'netbanking:sbi', gateways: ['payu'] },
      ],
    });
    const judge = (traffic: Traffic[]) => evaluateScopes(counters(traffic), NOW, settings, catalog).failing.map((h) => h.key);
    const failing: Traffic = { route: 'card:hdfc_debit@payu', attempts: 300, rate: 0.05 };

    test('is the bank when the gateway carries other cards well', () => {
      expect(judge([failing, { route: 'card:visa_credit@payu', attempts: 300 }, { route: 'netbanking:sbi@payu', attempts: 200 }])).toEqual(['card:hdfc_debit@*']);
    });

    test('is only its route when nothing shows the gateway carrying cards well: the failover to razorpay tells the bank from the gateway', () => {
      // Netbanking working on payu says nothing of payu's cards.
      expect(judge([failing, { route: 'netbanking:sbi@payu', attempts: 200 }])).toEqual(['card:hdfc_debit@payu']);
    });

    test('is the method once its failover fails too', () => {
      expect(judge([failing, { route: 'card:hdfc_debit@razorpay', attempts: 40, rate: 0.05 }, { route: 'netbanking:sbi@payu', attempts: 200 }])).toEqual(['card:hdfc_debit@*']);
    });
  });
});

describe('a gateway outage whose methods have already failed over', () => {
  test('is the gateway alone, not also each method or mode the failed-over traffic now spans', () => {
    // Every payu route failed; cards and UPI now succeed through razorpay, with fewer attempts so far.
    const traffic: Traffic[] = [
      { route: 'upi:gpay@payu', attempts: 300, rate: 0.02 },
      { route: 'card:hdfc_credit@payu', attempts: 250, rate: 0.02 },
      { route: 'card:icici_debit@payu', attempts: 120, rate: 0.02 },
      { route: 'upi:gpay@razorpay', attempts: 20 },
      { route: 'card:hdfc_credit@razorpay', attempts: 15 },
      { route: 'card:icici_debit@razorpay', attempts: 8 },
    ];
    expect(failingKeys(traffic)).toEqual(['*:*@payu']);
  });

  test('keeps a gateway carrying healthy cards up when only its UPI fails', () => {
    const traffic: Traffic[] = [
      { route: 'upi:gpay@razorpay', attempts: 600, rate: 0.03 },
      { route: 'upi:phonepe@razorpay', attempts: 400, rate: 0.03 },
      { route: 'card:sbi_debit@razorpay', attempts: 200 },
      { route: 'upi:paytm@payu', attempts: 200, rate: 0.03 },
      { route: 'card:hdfc_credit@payu', attempts: 300 },
    ];
    expect(failingKeys(traffic)).toEqual(['upi:*@*']);
  });
});

describe('evidence a recovery overruled', () => {
  // SBI netbanking failed for the whole window; the probe proved it back 45 s ago, inside the
  // window's last one-minute bucket.
  const traffic = withRates({ 'netbanking:sbi@payu': 0.05 });
  const recoveredAt = NOW - 45_000;
  const judge = (cs: RouteCounter[]) => evaluateScopes(cs, NOW, settings).failing.map((h) => h.key);

  test('a scope proven healthy is not reopened on the outage failures still in its window', () => {
    expect(judge(counters(traffic))).toEqual(['netbanking:sbi@*']);
    expect(evaluateScopes(counters(traffic), NOW, settings).failing[0]).toMatchObject({ windowMs: settings.windowMs });
    const kept = withoutOverruledEvidence(counters(traffic), [{ scope: { method: 'netbanking:sbi' }, at: recoveredAt }], NOW, settings.windowMs);
    expect(judge(kept)).toEqual([]);
  });

  test('only the recovered scope\'s routes lose their window before the recovery; baselines and other routes stay', () => {
    const all = counters(withRates({ 'netbanking:sbi@payu': 0.05, 'card:hdfc_debit@payu': 0.05 }));
    const kept = withoutOverruledEvidence(all, [{ scope: { method: 'netbanking:sbi' }, at: recoveredAt }], NOW, settings.windowMs);
    const dropped = all.filter((c) => !kept.includes(c));
    expect(dropped.length).toBe(5);
    expect(dropped.every((c) => c.method === 'netbanking:sbi' && c.bucketStart >= NOW - settings.windowMs && c.bucketStart < recoveredAt)).toBe(true);
    expect(judge(kept)).toContain('card:hdfc_debit@payu');
  });

  test('failing again after the recovery is detected on the new outcomes alone', () => {
    const after = [...counters(traffic), counter('netbanking:sbi', 'payu', NOW - 30_000, { success: 2, systemFailure: 58 })];
    const kept = withoutOverruledEvidence(after, [{ scope: { method: 'netbanking:sbi' }, at: recoveredAt }], NOW, settings.windowMs);
    expect(judge(kept)).toEqual(['netbanking:sbi@*']);
  });

  test('a scope failing again after its recovery reports the window its counts span: the buckets since the recovery', () => {
    const recovered = NOW - 150_000;
    const recoveries = [{ scope: { method: 'netbanking:sbi' }, at: recovered }];
    const relapse = [
      ...counters(withRates({ 'netbanking:sbi@payu': 0.05, 'card:hdfc_debit@payu': 0.05 })),
      counter('netbanking:sbi', 'payu', NOW - 2 * MINUTE, { success: 2, systemFailure: 58 }),
      counter('netbanking:sbi', 'payu', NOW - MINUTE, { success: 2, systemFailure: 58 }),
    ];
    const failing = evaluateScopes(withoutOverruledEvidence(relapse, recoveries, NOW, settings.windowMs), NOW, settings).failing;
    const windows = Object.fromEntries(failing.map((h) => [h.key, countedWindow(h, recoveries, NOW, MINUTE).windowMs]));
    // Kept from the first bucket starting after the recovery (NOW - 2 min): two minutes, not five.
    expect(windows).toEqual({ 'netbanking:sbi@payu': 2 * MINUTE, 'card:hdfc_debit@payu': settings.windowMs });
  });

  test('a scope failing again after its recovery reports its share of traffic over the time its counts span', () => {
    const recoveries = [{ scope: { method: 'netbanking:sbi' }, at: NOW - 150_000 }];
    // Two routes at 60 attempts a minute each: sbi's share is half once both are counted alike.
    // sbi fails again: its two buckets since the recovery hold 120 of the 420 attempts counted.
    const steady = counters([{ route: 'netbanking:sbi@payu', attempts: 300, rate: 0.05 }, { route: 'card:hdfc_debit@payu', attempts: 300, rate: 0.95 }]);
    const failing = evaluateScopes(withoutOverruledEvidence(steady, recoveries, NOW, settings.windowMs), NOW, settings).failing;
    const sbi = failing.find((h) => h.key.startsWith('netbanking:sbi'))!;
    expect(sbi.trafficShare).toBeCloseTo(120 / 420, 9);
    expect(countedWindow(sbi, recoveries, NOW, MINUTE).trafficShare).toBeCloseTo(0.5, 9);
  });

  test('a scope the recovery does not cover, or a window already shorter, keeps its window', () => {
    const health = evaluateScopes(counters(traffic), NOW, settings).failing[0]!;
    expect(countedWindow(health, [{ scope: { method: 'netbanking:sbi', gateway: 'razorpay' }, at: NOW - 150_000 }], NOW, MINUTE)).toBe(health);
    expect(countedWindow(health, [], NOW, MINUTE)).toBe(health);
    const short = { ...health, windowMs: MINUTE };
    expect(countedWindow(short, [{ scope: { method: 'netbanking:sbi' }, at: NOW - 150_000 }], NOW, MINUTE)).toBe(short);
  });

  test('no recoveries: the counters as they are', () => {
    const cs = counters(traffic);
    expect(withoutOverruledEvidence(cs, [], NOW, settings.windowMs)).toBe(cs);
  });
});

describe('where a finding goes among the open downtimes', () => {
  const open = [
    { scopeKey: '*:*@payu', scope: { gateway: 'payu' } },
    { scopeKey: 'upi:gpay@razorpay', scope: { method: 'upi:gpay', gateway: 'razorpay' } },
    { scopeKey: 'upi:phonepe@razorpay', scope: { method: 'upi:phonepe', gateway: 'razorpay' } },
  ];
  test('to a broader open downtime that covers it', () => {
    expect(placeFinding(open, { key: 'netbanking:sbi@payu', scope: { method: 'netbanking:sbi', gateway: 'payu' } })).toEqual({ covering: open[0], narrower: [] });
  });
  test('else to its own, superseding the narrower open ones it covers', () => {
    expect(placeFinding(open, { key: '*:*@razorpay', scope: { gateway: 'razorpay' } })).toEqual({ narrower: [open[1], open[2]] });
    expect(placeFinding(open, { key: '*:*@payu', scope: { gateway: 'payu' } })).toEqual({ narrower: [] });
  });
});

describe('a finding that would only widen a disabled downtime', () => {
  const topo = topologyOf({
    methods: [
      { method: 'card:icici_debit', gateways: ['paytm', 'payu'], attributes: { issuer: 'icici' } },
      { method: 'netbanking:icici', gateways: ['razorpay'], attributes: { issuer: 'icici' } },
    ],
  });
  const debit = { scopeKey: 'card:icici_debit@*', scope: { method: 'card:icici_debit' } };
  const issuer = { key: '*:*+issuer=icici@*', scope: { issuer: 'icici' } };
  const onPaytm = { method: 'card:icici_debit', gateway: 'paytm' };
  const onPayu = { method: 'card:icici_debit', gateway: 'payu' };
  test('is dropped when every route it explains is already hidden: its breadth rests on the others\' few attempts', () => {
    expect(withoutWidening([{ ...issuer, badRoutes: [onPaytm, onPayu] }], [debit], topo)).toEqual([]);
  });
  test('is kept with a failing route of its own outside the disabled downtimes (the bank failing on its failover)', () => {
    const route = { scopeKey: 'card:icici_debit@paytm', scope: onPaytm };
    const method = { key: 'card:icici_debit@*', scope: { method: 'card:icici_debit' }, badRoutes: [onPaytm, onPayu] };
    expect(withoutWidening([method], [route], topo)).toEqual([method]);
    const nb = { ...issuer, badRoutes: [onPaytm, { method: 'netbanking:icici', gateway: 'razorpay' }] };
    expect(withoutWidening([nb], [debit], topo)).toEqual([nb]);
  });
  test('a finding a disabled downtime covers or is goes on to feed it, and a relapse (no bad routes) is kept', () => {
    const fed = [{ key: 'card:icici_debit@paytm', scope: onPaytm, badRoutes: [onPaytm] }, { key: debit.scopeKey, scope: debit.scope, badRoutes: [onPaytm] }];
    expect(withoutWidening(fed, [debit], topo)).toEqual(fed);
    expect(withoutWidening([issuer], [debit], topo)).toEqual([issuer]);
    expect(withoutWidening([{ ...issuer, badRoutes: [onPaytm] }], [], topo)).toHaveLength(1);
  });
  test('the roll-up names the routes each finding explains', () => {
    const found = evaluateScopes(counters([{ route: 'netbanking:sbi@payu', attempts: 200, rate: 0.1 }, { route: 'upi:gpay@payu', attempts: 200, rate: 0.97 }]), NOW, settings).failing;
    expect(found.map((f) => [f.key, f.badRoutes])).toEqual([['netbanking:sbi@*', [{ method: 'netbanking:sbi', gateway: 'payu' }]]]);
  });
});

describe('a gateway outage whose traffic has just begun to fail over', () => {
  // Razorpay is down for everything; Bank of Baroda netbanking, offered on razorpay then payu,
  // has sent its first users to payu in the last minute, which has never carried it before.
  const traffic: Traffic[] = [
    { route: 'card:hdfc_debit@razorpay', attempts: 300, rate: 0.02 },
    { route: 'wallet:mobikwik@razorpay', attempts: 200, rate: 0.02 },
    { route: 'netbanking:bob@razorpay', attempts: 100, rate: 0.02 },
    { route: 'card:hdfc_debit@payu', attempts: 200 },
  ];
  const firstUse = (success: number, systemFailure: number) => [...counters(traffic), counter('netbanking:bob', 'payu', NOW - MINUTE, { success, systemFailure })];
  const catalog = topologyOf({
    methods: [
      { method: 'netbanking:bob', gateways: ['razorpay', 'payu'], attributes: { issuer: 'bob' } },
      { method: 'card:hdfc_debit', gateways: ['razorpay', 'payu'], attributes: { issuer: 'hdfc' } },
      { method: 'wallet:mobikwik', gateways: ['razorpay'] },
    ],
  });

  test('is the gateway alone: one failure in five on the failover route is no evidence that the bank is down', () => {
    expect(evaluateScopes(firstUse(4, 1), NOW, settings, catalog).failing.map((h) => h.key)).toEqual(['*:*@razorpay']);
  });

  test('is the bank too once its failover route fails as well', () => {
    expect(evaluateScopes(firstUse(1, 39), NOW, settings, catalog).failing.map((h) => h.key)).toEqual(['*:*+issuer=bob@*', '*:*@razorpay']);
  });
});

describe('a failover route that has only carried its method while the method failed', () => {
  // Axis debit cards pay through razorpay, then payu. In ten minutes of the last hour they failed
  // (razorpay's route was under a downtime) and the users failed over to payu, failing there too;
  // payu has carried nothing else of theirs. Now the card fails on both gateways again.
  const catalog = topologyOf({ methods: [{ method: 'card:axis_debit', gateways: ['razorpay', 'payu'] }, { method: 'upi:gpay', gateways: ['razorpay'] }] });
  const now: Traffic[] = [
    { route: 'card:axis_debit@razorpay', attempts: 300, rate: 0.05 },
    { route: 'upi:gpay@razorpay', attempts: 300 },
  ];
  const earlierFlaps = Array.from({ length: 10 }, (_, i) => NOW - (40 - i) * MINUTE);
  const cs = [
    ...counters(now).map((c) => (c.method === 'card:axis_debit' && earlierFlaps.includes(c.bucketStart) ? { ...c, success: 2, systemFailure: 48, covered: 50 } : c)),
    ...earlierFlaps.map((at) => counter('card:axis_debit', 'payu', at, { success: 8, systemFailure: 192 })),
    ...[1, 2, 3, 4, 5].map((k) => counter('card:axis_debit', 'payu', NOW - k * MINUTE, { success: 3, systemFailure: 37 })),
  ];

  test('does not learn those failures as its normal: the card is down on both gateways, so it is the bank', () => {
    expect(evaluateScopes(cs, NOW, settings, catalog).failing.map((h) => h.key)).toEqual(['card:axis_debit@*']);
  });
});

describe('an aggregator outage whose traffic has just begun to fail over to a direct gateway', () => {
  // Juspay (payu and cashfree) is down. HDFC netbanking, a 90% bank offered on payu then on
  // razorpay (direct), has sent its first nine users to razorpay, which never carried it: seven paid.
  const catalog = topologyOf({
    methods: [
      { method: 'netbanking:hdfc', gateways: ['payu', 'razorpay'], attributes: { issuer: 'hdfc' } },
      { method: 'upi:gpay', gateways: ['payu', 'razorpay'] },
      { method: 'card:sbi_debit', gateways: ['cashfree'] },
    ],
    gateways: [
      { gateway: 'payu', aggregator: 'juspay' },
      { gateway: 'cashfree', aggregator: 'juspay' },
      { gateway: 'razorpay' },
    ],
  });
  const traffic: Traffic[] = [
    { route: 'netbanking:hdfc@payu', attempts: 200, rate: 0.02, baseline: 0.9 },
    { route: 'upi:gpay@payu', attempts: 400, rate: 0.02 },
    { route: 'card:sbi_debit@cashfree', attempts: 300, rate: 0.02 },
    { route: 'upi:gpay@razorpay', attempts: 300 },
  ];
  const judge = (success: number, systemFailure: number) =>
    evaluateScopes([...counters(traffic), counter('netbanking:hdfc', 'razorpay', NOW - MINUTE, { success, systemFailure })], NOW, settings, catalog).failing.map((h) => h.key);

  test('is the aggregator alone: seven of nine on the direct gateway is what a 90% bank gives', () => {
    expect(judge(7, 2)).toEqual(['*:*@aggregator=juspay']);
  });

  test('is the bank too once the direct gateway fails it as well', () => {
    expect(judge(1, 19)).toEqual(['*:*@aggregator=juspay', '*:*+issuer=hdfc@*']);
  });
});

describe('a gateway outage whose traffic has just begun to fail over to a route with no history of its own', () => {
  // Payu is down (it carries cards only). ICICI credit, a card that pays 80% of the time, always
  // went through payu; its first ten users on razorpay (behind the same aggregator, never used by
  // it) paid six times. Against the default 95% that route would look bad, and the aggregator
  // would explain both.
  const catalog = topologyOf({
    methods: [
      { method: 'card:icici_credit', gateways: ['payu', 'razorpay'], attributes: { issuer: 'icici', network: 'visa' } },
      { method: 'card:pnb_credit', gateways: ['payu'], attributes: { issuer: 'pnb', network: 'rupay' } },
    ],
    gateways: [
      { gateway: 'payu', aggregator: 'juspay' },
      { gateway: 'razorpay', aggregator: 'juspay' },
    ],
  });
  const traffic: Traffic[] = [
    { route: 'card:icici_credit@payu', attempts: 300, rate: 0.05, baseline: 0.8 },
    { route: 'card:pnb_credit@payu', attempts: 100, rate: 0.05 },
  ];
  const judge = (success: number, systemFailure: number) =>
    evaluateScopes([...counters(traffic), counter('card:icici_credit', 'razorpay', NOW - MINUTE, { success, systemFailure })], NOW, settings, catalog).failing.map((h) => h.key);

  test('is cards on payu, not the aggregator: six of ten is what the card gives anywhere, judged against its own rate rather than the default', () => {
    expect(judge(6, 4)).toEqual(['card:*@payu']);
  });

  test('is cards on the aggregator (all it carries) once the new route fails it as well', () => {
    expect(judge(0, 10)).toEqual(['card:*@aggregator=juspay']);
  });
});

describe('wakesDetection', () => {
  const windowMs = 20_000;
  test('a system failure on an uncovered route in the window wakes detection', () => {
    expect(wakesDetection('system_failure', false, 1_000, windowMs)).toBe(true);
  });
  test('a success, a user\'s failure, a covered route\'s failure or one older than the window does not', () => {
    expect(wakesDetection('success', false, 0, windowMs)).toBe(false);
    expect(wakesDetection('user_failure', false, 0, windowMs)).toBe(false);
    expect(wakesDetection('system_failure', true, 0, windowMs)).toBe(false);
    expect(wakesDetection('system_failure', false, windowMs + 1, windowMs)).toBe(false);
  });
});
