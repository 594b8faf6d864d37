/**
 * The downtime actor's reducer (domain/actor.ts), with no server: sequences of probe reads through
 * decideLook as the workflow makes them (a hard outage, a partial degradation, a flap under the
 * hold, a freeze, an extension, the expiry), escalation, and each incident manager's request.
 */
import { loadConfig } from '../../common/config';
import { downtimePolicy } from '../../common/policy';
import {
  ActorFacts,
  ActorState,
  Evidence,
  actorDetails,
  ProbeDecision,
  ProbeRead,
  decideEscalation,
  maintenanceOver,
  nextWakeAt,
  decideLook,
  downtimeRequests,
  openingState,
  persisted,
  resolvedState,
  supersededState,
  withEvidence,
  wokenBy,
} from '../../domain';
import { bucketedRead } from '../support/probe-world';

const SEC = 1_000;
const MIN = 60_000;
const T0 = 1_800_000_000_000;
const policy = downtimePolicy(loadConfig({ PROBE_INTERVAL: '30s', DOWNTIME_EXPIRY: '30m', DETECTION_WINDOW: '5m', MIN_PROBE_SAMPLES: '20', FLAP_HOLD: '5m' }));

const evidence = (attempts: number, successes: number, trafficShare = 0.01): Evidence => ({
  at: T0,
  attempts,
  windowMs: 5 * MIN,
  successes,
  rate: successes / attempts,
  baseline: 0.95,
  threshold: 0.8075,
  trafficShare,
});
/** A busy bank (20 attempts/s when detected) at 5%: a hard outage. */
const HARD = evidence(6_000, 300);
/** The same bank at 70%: a partial degradation, where one success is weak evidence. */
const PARTIAL = evidence(6_000, 4_200);

const factsOf = (over: Partial<ActorFacts> = {}): ActorFacts => ({
  downtimeId: 'dt_actor',
  scope: { method: 'netbanking:sbi' },
  openedAt: T0,
  baseline: 0.95,
  threshold: 0.8075,
  reopens: false,
  evidence: HARD,
  policy,
  ...over,
});

/** Outcomes every `stepSec` from `fromSec` to before `toSec`; `ok(i)` says which succeed. */
function outcomes(fromSec: number, toSec: number, stepSec: number, ok: (i: number) => boolean): [number, boolean][] {
  const out: [number, boolean][] = [];
  for (let t = fromSec, i = 0; t < toSec; t += stepSec, i++) out.push([t, ok(i)]);
  return out;
}

interface Look {
  at: number;
  decision: ProbeDecision;
  state: ActorState;
  actions: ReturnType<typeof decideLook>['actions'];
}

/**
 * Runs the actor's looks as the workflow would: each at the state's nextLookAt, reading the
 * scripted outcomes since its probeSince, until it closes or `untilSec` passes.
 */
function drive(f: ActorFacts, events: [number, boolean][], untilSec: number, opts: { inFreeze?: (sec: number) => boolean; state?: Partial<ActorState> } = {}) {
  const read = bucketedRead(events);
  let s: ActorState = { ...openingState(f, T0).state, ...opts.state };
  const looks: Look[] = [];
  while (!s.closing && s.nextLookAt <= T0 + untilSec * SEC) {
    const now = s.nextLookAt;
    const r: ProbeRead = { ...read({ since: s.probeSince, now }), inFreeze: opts.inFreeze?.((now - T0) / SEC) ?? false };
    const d = decideLook(s, r, now, f);
    s = d.state;
    looks.push({ at: (now - T0) / SEC, decision: s.lastProbe!, state: s, actions: d.actions });
  }
  return { looks, state: s, closedAt: s.closing ? looks[looks.length - 1]!.at : undefined };
}

const verdicts = (looks: Look[]) => looks.map((l) => l.decision.verdict);

describe('a new downtime', () => {
  test.each<[string, Partial<ActorFacts>, string, number]>([
    ['a route with 1% of traffic: SEV4, no page', { scope: { method: 'netbanking:sbi', gateway: 'payu' } }, 'SEV4', 0],
    ['a method on every gateway with 1% of traffic: SEV3, no page', {}, 'SEV3', 0],
    ['a method with 25% of traffic: SEV2, paged', { evidence: evidence(6_000, 300, 0.25) }, 'SEV2', 1],
    ['a manual downtime of a method, without evidence: SEV3', { evidence: undefined }, 'SEV3', 0],
  ])('%s', (_name, over, severity, pages) => {
    const { state, page } = openingState(factsOf(over), T0 + 200);
    expect(state).toMatchObject({ phase: 'probing', severity, pages, probeSince: T0 + 200, expiresAt: T0 + policy.expiryMs, probePercent: policy.probePercent, nextLookAt: T0 + 200 + policy.probeIntervalMs });
    expect(page === undefined).toBe(pages === 0);
    if (page) expect(page).toMatchObject({ downtimeId: 'dt_actor', severity, n: 1, at: T0 + 200 });
  });

  test('detection\'s evidence is the outage\'s first measurement: the whole detection window when it failed on the short one', () => {
    expect(openingState(factsOf(), T0).state.outageOutcomes).toEqual({ successes: 300, attempts: 6_000 });
    const short = { ...HARD, windowMs: 75_000, detectionWindow: { attempts: 6_000, successes: 3_000 } };
    expect(openingState(factsOf({ evidence: short }), T0).state.outageOutcomes).toEqual({ successes: 3_000, attempts: 6_000 });
  });
});

describe('sequences of looks', () => {
  test('a hard outage: proven still failing, the share drops to its floor, and the recovery is proven soon after it begins', () => {
    // Two probe outcomes a second (10% of 20/s): failing for 120 s, then healthy.
    const { looks, state, closedAt } = drive(factsOf(), outcomes(0.5, 600, 0.5, (i) => i >= 239), 600);
    expect(looks[0]!.decision.verdict).toBe('failing');
    expect(looks[0]!.state.probePercent).toBeLessThan(policy.probePercent);
    expect(looks[0]!.state.lastFailingAt).toBe(T0 + 30 * SEC);
    // Each proof restarts the test in the bucket of its look and adds its run to the outage's measurements.
    expect(looks[0]!.state.probeSince).toBeGreaterThan(T0);
    expect(looks[0]!.state.outageOutcomes.attempts).toBeGreaterThan(6_000);
    expect(state.closing).toEqual({ reason: 'recovered', by: 'system' });
    expect(closedAt).toBeGreaterThan(120);
    expect(closedAt).toBeLessThanOrEqual(180);
    expect(verdicts(looks).filter((v) => v === 'recovered')).toHaveLength(1);
  });

  test('during a hard outage a success is strong evidence: the record asks for it, and a lean asks for any outcome', () => {
    const { looks } = drive(factsOf(), outcomes(0.5, 100, 0.5, () => false), 90);
    expect(looks.every((l) => l.state.wakeOnProbeSuccess)).toBe(true);
    expect(looks.every((l) => !l.state.wakeOnProbeOutcome)).toBe(true);
    // One success after the proof: the test leans toward recovery, and any outcome should wake the actor.
    const s = looks[0]!.state;
    const lean = decideLook(s, { successes: 1, failures: 0, inFreeze: false, bucketStart: s.probeSince, inBucket: { successes: 1, failures: 0 } }, s.nextLookAt, factsOf());
    expect(lean.state.lastProbe).toMatchObject({ verdict: 'insufficient' });
    expect(lean.state.lastProbe!.llr).toBeGreaterThan(0);
    expect(lean.state).toMatchObject({ wakeOnProbeOutcome: true, wakeOnProbeSuccess: false });
    // The look that could undo it comes before the interval.
    expect(lean.state.nextLookAt - s.nextLookAt).toBeLessThan(policy.probeIntervalMs);
  });

  test('a partial degradation: after a proof, a look leaning toward failing restarts the test, and the recovery is proven against the raised bound', () => {
    // An outcome every 2 s: 70% for 240 s, then healthy.
    const { looks, state } = drive(factsOf({ evidence: PARTIAL }), outcomes(0.5, 600, 2, (i) => i >= 120 || i % 10 < 7), 600);
    expect(verdicts(looks)).toContain('failing');
    const proof = verdicts(looks).indexOf('failing');
    const doubts = looks.slice(proof + 1).filter((l) => l.decision.verdict === 'insufficient' && l.decision.llr < 0);
    expect(doubts.length).toBeGreaterThan(0);
    // Each doubt restarted the run and counted it as the outage's.
    for (const d of doubts) {
      const before = looks[looks.indexOf(d) - 1]!.state;
      expect(d.state.probeSince).not.toBe(before.probeSince);
      expect(d.state.outageOutcomes.attempts).toBeGreaterThan(before.outageOutcomes.attempts);
    }
    expect(state.closing?.reason).toBe('recovered');
    expect(state.lastProbe!.raised).toBeCloseTo(Math.log(4), 9);
    // A success weighs little here: the record never asks for one.
    expect(looks.every((l) => !l.state.wakeOnProbeSuccess)).toBe(true);
  });

  test('during a hard outage, where one success is strong evidence, a look leaning toward failing does not restart the test', () => {
    const f = factsOf();
    const { state } = drive(f, outcomes(0.5, 40, 0.5, () => false), 30);
    expect(state.lastFailingAt).toBeDefined();
    // One success and two failures since the run restarted (the read holds what the ended run counted in its bucket too).
    const seen = state.probeSeen ?? { successes: 0, failures: 0 };
    const read = { successes: seen.successes + 1, failures: seen.failures + 2, inFreeze: false, bucketStart: state.probeSince, inBucket: { successes: 0, failures: 0 } };
    const d = decideLook(state, read, state.nextLookAt, f);
    expect(d.state.lastProbe!.verdict).toBe('insufficient');
    expect(d.state.lastProbe!.llr).toBeLessThan(0);
    expect(d.state.probeSince).toBe(state.probeSince);
    expect(d.state.outageOutcomes).toEqual(state.outageOutcomes);
  });

  test.each<[string, Evidence, boolean]>([
    ['a hard outage keeps the successes of the bucket a proof restarts in', HARD, true],
    ['a partial degradation leaves them out', PARTIAL, false],
  ])('%s', (_name, ev, kept) => {
    const f = factsOf({ evidence: ev });
    const s = openingState(f, T0).state;
    // The look proves "still failing"; its bucket so far holds two successes only (after the failures).
    const bucketStart = T0 + 25 * SEC;
    const d = decideLook(s, { successes: 2, failures: 30, inFreeze: false, bucketStart, inBucket: { successes: 2, failures: 0 } }, T0 + 30 * SEC, f);
    expect(d.state.lastProbe!.verdict).toBe('failing');
    expect(d.state.probeSince).toBe(bucketStart);
    expect(d.state.probeSeen).toEqual(kept ? undefined : { successes: 2, failures: 0 });
  });

  test('a reopened downtime holds its recovery for FLAP_HOLD, each look on fresh outcomes, and a relapse starts the hold over', () => {
    const f = factsOf({ reopens: true });
    // Healthy from the start, a relapse from 150 to 180 s, healthy after.
    const { looks, state, closedAt } = drive(f, outcomes(0.5, 1_200, 0.5, (i) => i < 299 || i >= 359), 1_200);
    expect(looks[0]!.decision.verdict).toBe('recovered');
    expect(looks[0]!.state.recoveredSince).toBe(T0 + 30 * SEC);
    expect(looks[0]!.state.closing).toBeUndefined();
    // Held: the run restarts at each look.
    expect(looks[0]!.state.probeSince).toBeGreaterThan(T0);
    const relapse = looks.findIndex((l) => l.decision.verdict === 'failing');
    expect(relapse).toBeGreaterThan(0);
    expect(looks[relapse]!.state.recoveredSince).toBeUndefined();
    const again = looks.slice(relapse).find((l) => l.state.recoveredSince !== undefined)!;
    expect(state.closing?.reason).toBe('recovered');
    expect(closedAt! * SEC - (again.state.recoveredSince! - T0)).toBeGreaterThanOrEqual(policy.flapHoldMs);
    // Without the hold the first proof closes it.
    expect(drive(factsOf({ reopens: false }), outcomes(0.5, 120, 0.5, () => true), 120).closedAt).toBe(30);
  });

  test('a freeze doubles the sample minimum and keeps the proven share at the maximum', () => {
    // 24 successes by the first look: a proof short of the freeze's 40.
    const events = outcomes(1, 600, 1.25, () => true);
    const frozen = drive(factsOf(), events, 30, { inFreeze: () => true });
    expect(frozen.looks[0]!.decision).toMatchObject({ verdict: 'insufficient', samples: 24 });
    expect(frozen.looks[0]!.state).toMatchObject({ inFreeze: true, probePercent: policy.maxProbePercent });
    const open = drive(factsOf(), events, 30);
    expect(open.looks[0]!.decision.verdict).toBe('recovered');
  });

  test('a recovery proven short of the sample minimum: re-enabled on decisive evidence; short of that, shown to every user; held to the minimum while an operator keeps it disabled until a time', () => {
    // After a hard outage, twelve successes in a row are decisive (twice the proof): recovered short of twenty.
    const events = outcomes(1, 600, 2.5, () => true);
    const decisive = drive(factsOf(), events, 30);
    expect(decisive.looks[0]!.decision).toMatchObject({ verdict: 'recovered', samples: 12 });
    const extended = drive(factsOf(), events, 30, { state: { extendedUntil: T0 + 10 * MIN } });
    expect(extended.looks[0]!.decision).toMatchObject({ verdict: 'insufficient', samples: 12 });
    expect(extended.looks[0]!.state.probePercent).toBe(policy.maxProbePercent);
    // After a partial degradation a success weighs less: seventeen in a row pass the proof, not twice it.
    const partial = drive(factsOf({ evidence: PARTIAL }), outcomes(1, 600, 1.75, () => true), 30);
    const proven = partial.looks.find((l) => l.decision.llr >= l.decision.upperBound)!;
    expect(proven.decision.verdict).toBe('insufficient');
    expect(proven.decision.llr).toBeLessThan(proven.decision.decisiveBound!);
    expect(proven.decision.samples).toBeLessThan(policy.minProbeSamples);
    expect(proven.state.probePercent).toBe(policy.provenProbePercent);
  });

  test('recovered while kept disabled until a time: continues until then, then closes', () => {
    const until = T0 + 2 * MIN;
    const { looks, closedAt } = drive(factsOf({ until }), outcomes(0.5, 600, 0.5, () => true), 600, { state: { extendedUntil: until } });
    expect(looks[0]!.decision.verdict).toBe('recovered');
    expect(looks[0]!.state.closing).toBeUndefined();
    expect(closedAt! * SEC).toBeGreaterThanOrEqual(2 * MIN);
  });

  test('an incident manager\'s probe share wins over the evidence\'s', () => {
    const { looks } = drive(factsOf(), outcomes(0.5, 100, 0.5, () => false), 90, { state: { manualProbePercent: 20 } });
    expect(looks.map((l) => l.state.probePercent)).toEqual(looks.map(() => 20));
  });

  test.each<[string, [number, boolean][], ActorState['lastFailingAt'], string, boolean]>([
    ['too few probe outcomes by the expiry: re-enabled on expiry', outcomes(60, 1_800, 600, () => true), undefined, 'expired', false],
    ['still failing at the expiry: kept disabled one more expiry, on the timeline', outcomes(0.5, 1_900, 0.5, () => false), undefined, 'extended', true],
    ['too few outcomes at the expiry but proven failing within it: kept disabled', [], T0 + 10 * MIN, 'extended', true],
  ])('%s', (_name, events, lastFailingAt, outcome, timeline) => {
    const f = factsOf({ evidence: evidence(60, 3) });
    const { looks, state } = drive(f, events, 30 * 60 + 30, { state: { lastFailingAt } });
    const last = looks[looks.length - 1]!;
    if (outcome === 'expired') expect(state.closing?.reason).toBe('expired');
    else {
      const extended = looks.find((l) => l.state.expiresAt > T0 + policy.expiryMs)!;
      expect(extended.state.closing).toBeUndefined();
      expect(extended.state.expiresAt).toBe(T0 + extended.at * SEC + policy.expiryMs);
    }
    const entries = looks.flatMap((l) => l.actions).filter((a) => a.kind === 'timeline');
    expect(entries.length > 0).toBe(timeline);
    if (timeline) expect(entries[0]).toMatchObject({ entry: { kind: 'still-failing', downtimeId: 'dt_actor' } });
    expect(last.at).toBeLessThanOrEqual(30 * 60 + 30);
  });

  test('the next look: the interval with no lean, sooner while leaning on a busy scope, the interval with unknown traffic', () => {
    const f = factsOf();
    const s = openingState(f, T0).state;
    const none = decideLook(s, { successes: 0, failures: 0, inFreeze: false, bucketStart: T0, inBucket: { successes: 0, failures: 0 } }, T0 + 30 * SEC, f);
    expect(none.state.nextLookAt).toBe(T0 + 60 * SEC);
    const leaning = { successes: 5, failures: 0, inFreeze: false, bucketStart: T0 + 25 * SEC, inBucket: { successes: 5, failures: 0 } };
    expect(decideLook(s, leaning, T0 + 30 * SEC, f).state.nextLookAt).toBeLessThan(T0 + 60 * SEC);
    const unknown = factsOf({ evidence: undefined });
    expect(decideLook(openingState(unknown, T0).state, leaning, T0 + 30 * SEC, unknown).state.nextLookAt).toBe(T0 + 60 * SEC);
  });
});

test.each<[string, boolean, boolean, boolean, boolean, boolean]>([
  ['a success the record asked for', true, false, true, false, true],
  ['a success it did not ask for', false, false, true, false, false],
  ['an outcome the record asked for', false, true, false, true, true],
  ['an outcome while only successes were asked for', true, false, false, true, false],
  ['nothing came', true, true, false, false, false],
])('woken by %s', (_name, wakeOnProbeSuccess, wakeOnProbeOutcome, success, outcome, woken) => {
  expect(wokenBy({ wakeOnProbeSuccess, wakeOnProbeOutcome }, { success, outcome })).toBe(woken);
});

describe('escalation', () => {
  // One route with 1% of traffic: SEV4 when opened.
  const busy = factsOf({ scope: { method: 'netbanking:sbi', gateway: 'payu' } });
  const opened = openingState(busy, T0).state;

  test.each<[string, Partial<ActorState>, number, string, string[]]>([
    ['nothing changed: nothing said', {}, 5 * MIN, 'SEV4', []],
    ['unacknowledged past 15 minutes: one step up, told', {}, 16 * MIN, 'SEV3', ['notify']],
    ['acknowledged: stays', { acknowledgement: { by: 'ops', at: T0 } }, 16 * MIN, 'SEV4', []],
    ['a freeze: one step up, told', { inFreeze: true }, 5 * MIN, 'SEV3', ['notify']],
    ['an operator\'s floor: never below it, told and paged', { severityFloor: 'SEV1' }, 5 * MIN, 'SEV1', ['notify', 'page']],
    ['a quarter of all traffic: SEV2, told and paged', { trafficShare: 0.25 }, 1 * MIN, 'SEV2', ['notify', 'page']],
  ])('%s', (_name, over, afterMs, severity, actions) => {
    const d = decideEscalation({ ...opened, ...over }, T0 + afterMs, busy);
    expect(d.state.severity).toBe(severity);
    expect(d.actions.map((a) => a.kind)).toEqual(actions);
    if (actions.includes('page')) expect(d.state).toMatchObject({ pages: opened.pages + 1, lastPageAt: T0 + afterMs });
  });

  test('severity never falls', () => {
    expect(decideEscalation({ ...opened, severity: 'SEV1' }, T0 + MIN, busy).state.severity).toBe('SEV1');
  });

  test('an unacknowledged SEV2 is paged again after REPAGE_INTERVAL, an acknowledged one is not', () => {
    const paged = { ...opened, severity: 'SEV2' as const, pages: 1, lastPageAt: T0 };
    expect(decideEscalation(paged, T0 + 10 * MIN, busy).actions).toEqual([]);
    const again = decideEscalation({ ...paged, acknowledgement: undefined, severityFloor: 'SEV2' }, T0 + policy.repageIntervalMs, busy);
    expect(again.actions).toEqual([{ kind: 'page', page: expect.objectContaining({ severity: 'SEV2', n: 2, text: expect.stringContaining('still SEV2 and unacknowledged') }) }]);
    expect(decideEscalation({ ...paged, acknowledgement: { by: 'ops', at: T0 } }, T0 + policy.repageIntervalMs, busy).actions).toEqual([]);
  });
});

describe('planned maintenance', () => {
  const planned = factsOf({ scope: { gateway: 'payu' }, planned: true, until: T0 + 60 * MIN, evidence: undefined });
  const opened = openingState(planned, T0).state;

  test('is not paged when it begins, whatever its share of traffic', () => {
    expect(openingState({ ...planned, evidence: { ...HARD, trafficShare: 0.5 } }, T0).page).toBeUndefined();
    expect(openingState({ ...factsOf({ scope: { gateway: 'payu' } }), evidence: { ...HARD, trafficShare: 0.5 } }, T0).page).toBeDefined();
  });

  test.each<[string, Partial<ActorState>, number, string, string[]]>([
    ['unacknowledged for long, in a freeze: stays where it began, silent', { inFreeze: true, trafficShare: 0.5 }, 50 * MIN, opened.severity, []],
    ["an incident manager's escalation: raised, told and paged", { severityFloor: 'SEV1' }, 5 * MIN, 'SEV1', ['notify', 'page']],
  ])('%s', (_name, over, afterMs, severity, actions) => {
    const d = decideEscalation({ ...opened, ...over }, T0 + afterMs, planned);
    expect(d.state.severity).toBe(severity);
    expect(d.actions.map((a) => a.kind)).toEqual(actions);
  });

  test('wakes at its end, and is over from then: completed, whatever the probe', () => {
    const s = { ...opened, nextLookAt: T0 + 90 * MIN };
    expect(nextWakeAt(s, planned)).toBe(T0 + 60 * MIN);
    expect(nextWakeAt(s, factsOf())).toBe(T0 + 90 * MIN);
    expect(maintenanceOver(s, T0 + 60 * MIN - 1, planned)).toBeUndefined();
    expect(maintenanceOver(s, T0 + 60 * MIN, planned)?.closing).toEqual({ reason: 'completed', by: 'schedule' });
    expect(maintenanceOver(s, T0 + 120 * MIN, factsOf({ until: T0 + 60 * MIN }))).toBeUndefined();
  });
});

describe('signals', () => {
  const s = openingState(factsOf(), T0).state;
  test('fresh evidence is counted and its traffic share only raises', () => {
    const fed = withEvidence(withEvidence(s, 0.3), 0.1);
    expect(fed).toMatchObject({ evidenceCount: 2, trafficShare: 0.3 });
  });
  test('supersede closes an open downtime, once, and nothing that is already closing', () => {
    const closing = supersededState(s, 'dt_broader');
    expect(closing.closing).toEqual({ reason: 'superseded', by: 'detection', supersededBy: 'dt_broader' });
    expect(supersededState(closing, 'dt_other')).toBe(closing);
    const manual = { ...s, closing: { reason: 'manual' as const, by: 'ops' } };
    expect(supersededState(manual, 'dt_broader')).toBe(manual);
  });
  test('the Web UI\'s details line says severity, scope, phase, the last probe, the share, the expiry and who acknowledged', () => {
    const looked = { ...s, lastProbe: { verdict: 'insufficient' as const, samples: 4, successes: 3, llr: 1, upperBound: 4.6, lowerBound: -3, probePercent: 30 }, probePercent: 30, acknowledgement: { by: 'amy', at: T0 } };
    expect(actorDetails(looked, { method: 'netbanking:sbi' })).toBe(
      `**SEV3** netbanking:sbi on all gateways — probing, probe 3/4 ok (insufficient), probe share 30%, expires ${new Date(T0 + policy.expiryMs).toISOString()}, acknowledged by amy`,
    );
    expect(actorDetails(s, { method: 'netbanking:sbi' })).toMatch(/probe share 10%, .*, not acknowledged$/);
  });
  test('what the record keeps of the state', () => {
    expect(Object.keys(persisted(s)).sort()).toEqual(['acknowledgement', 'expiresAt', 'extendedUntil', 'lastProbe', 'probePercent', 'severity', 'wakeOnProbeOutcome', 'wakeOnProbeSuccess']);
  });
});

describe("incident managers' requests", () => {
  const f = factsOf();
  const open = openingState(f, T0).state;
  const now = T0 + 5 * MIN;
  const closed = resolvedState({ ...open, closing: { reason: 'manual', by: 'ops' } }, now);
  const closing = { ...open, closing: { reason: 'manual' as const, by: 'ops' } };

  test.each<[string, keyof typeof downtimeRequests, ActorState, unknown, string | undefined]>([
    ['acknowledge without who', 'acknowledge', open, { by: ' ' }, 'invalid: by: who is acting is required'],
    ['acknowledge a resolved downtime', 'acknowledge', closed, { by: 'ops' }, 'closed: downtime dt_actor is already resolved'],
    ['acknowledge a closing downtime', 'acknowledge', closing, { by: 'ops' }, 'closed: downtime dt_actor is already closing'],
    ['acknowledge twice', 'acknowledge', { ...open, acknowledgement: { by: 'amy', at: T0 } }, { by: 'ops' }, 'conflict: already acknowledged by amy'],
    ['acknowledge', 'acknowledge', open, { by: 'ops' }, undefined],
    ['resolve a resolved downtime', 'resolve', closed, { by: 'ops' }, 'closed: downtime dt_actor is already resolved'],
    ['resolve', 'resolve', open, { by: 'ops' }, undefined],
    ['extend without a time', 'extend', open, { by: 'ops' }, 'invalid: until: a time is required'],
    ['extend into the past', 'extend', open, { by: 'ops', until: now }, 'invalid: until: must be in the future'],
    ['extend', 'extend', open, { by: 'ops', until: now + 1 }, undefined],
    ['escalate to an unknown severity', 'escalate', open, { by: 'ops', severity: 'SEV0' }, 'invalid: severity: expected SEV1, SEV2, SEV3 or SEV4'],
    ['escalate to the same severity', 'escalate', open, { by: 'ops', severity: 'SEV3' }, 'conflict: already SEV3; escalation must raise it'],
    ['escalate a SEV1 one step', 'escalate', { ...open, severity: 'SEV1' }, { by: 'ops' }, 'conflict: already SEV1, the highest severity'],
    ['escalate', 'escalate', open, { by: 'ops', severity: 'SEV2' }, undefined],
    ['set the probe share to 100', 'setProbePercent', open, { by: 'ops', percent: 100 }, 'invalid: percent: expected a number above 0 and below 100'],
    ['set the probe share to a word', 'setProbePercent', open, { by: 'ops', percent: 'ten' }, 'invalid: percent: expected a number above 0 and below 100'],
    ['set the probe share', 'setProbePercent', open, { by: 'ops', percent: 25 }, undefined],
  ])('%s', (_name, kind, state, req, refusal) => {
    const rule = downtimeRequests[kind] as { refuse: (s: ActorState, r: unknown, now: number, f: ActorFacts) => { kind: string; message: string } | undefined };
    const got = rule.refuse(state, req, now, f);
    expect(got && `${got.kind}: ${got.message}`).toBe(refusal);
  });

  test('each request changes what it says and leaves a timeline entry by whom', () => {
    const ack = downtimeRequests.acknowledge.apply(open, { by: 'amy', note: 'on it' }, now, f);
    expect(ack.state.acknowledgement).toEqual({ by: 'amy', at: now, note: 'on it' });
    expect(ack.actions).toEqual([
      { kind: 'timeline', entry: { downtimeId: 'dt_actor', key: `ack:${now}`, kind: 'acknowledged', text: 'Acknowledged by amy: on it', at: now, by: 'amy' } },
      // Ops chat, webhook subscribers and, when it was paged, PagerDuty hear of it.
      { kind: 'notify', notice: { key: 'dt_actor:acknowledged', downtimeId: 'dt_actor', event: 'acknowledged', type: 'downtime.updated', text: 'Acknowledged by amy: on it', at: now } },
    ]);

    expect(downtimeRequests.resolve.apply(open, { by: 'amy' }, now, f)).toEqual({ state: { ...open, closing: { reason: 'manual', by: 'amy' } }, actions: [] });

    const extended = downtimeRequests.extend.apply(open, { by: 'amy', until: now + MIN, reason: 'bank maintenance' }, now, f);
    expect(extended.state.extendedUntil).toBe(now + MIN);
    expect(extended.actions[0]).toMatchObject({ entry: { kind: 'extended', text: expect.stringContaining('by amy: bank maintenance') } });

    const up = downtimeRequests.escalate.apply(open, { by: 'amy' }, now, f);
    expect(up.state.severityFloor).toBe('SEV2');
    expect(downtimeRequests.escalate.apply({ ...open, severityFloor: 'SEV1' }, { by: 'amy', severity: 'SEV2' }, now, f).state.severityFloor).toBe('SEV1');
    // The floor raises the severity at the next escalation.
    expect(decideEscalation(up.state, now, f).state.severity).toBe('SEV2');

    const share = downtimeRequests.setProbePercent.apply(open, { by: 'amy', percent: 25 }, now, f);
    expect(share.state).toMatchObject({ manualProbePercent: 25, probePercent: 25 });
    expect(share.actions[0]).toMatchObject({ entry: { kind: 'probe-share', by: 'amy' } });
  });
});
