/**
 * Recovery: has a disabled scope come back? Judged on bucket-B (probe) outcomes only.
 *
 * Why a Wald sequential probability ratio test (SPRT): the workflow looks at the probe's
 * outcomes again and again as they arrive. Re-testing a fixed-sample test on each look
 * inflates its error rate; the SPRT is built for continuous monitoring, keeps both error
 * rates bounded however often it is consulted, and on average needs far fewer samples than
 * a fixed-size test, which shortens downtimes.
 *
 *   H0: p = p0 = threshold = baseline * (1 - degradation)   (still failing)
 *   H1: p = p1 = baseline                                   (recovered)
 *   alpha = P(declare recovered | still failing)  = false-enable rate, default 0.01
 *   beta  = P(keep disabled     | recovered)      = false-disable rate, default 0.05
 *   llr   = s * ln(p1/p0) + f * ln((1-p1)/(1-p0))
 *   accept H1 (recovered) when llr >= A = ln((1-beta)/alpha)
 *   accept H0 (failing)   when llr <= B = ln(beta/(1-alpha))
 *
 * alpha is the smaller error because re-enabling a broken route costs real payments, while
 * keeping a healed one hidden only costs some conversion until the next look or expiry.
 * The test is one-shot: after a 'failing' verdict the caller should restart it from fresh
 * evidence (move `since` forward), or outage-era failures will outweigh a later recovery.
 *
 * H0 at the threshold is the cautious composite bound, but it is close to H1 (a 15% degradation
 * of a 95% baseline is 0.81 against 0.95), so it needs some 50 probe outcomes, which a quiet
 * scope's probe takes minutes to gather while its healed route stays hidden. The question a
 * re-enable answers is "is the outage over?", and the outage has a measured rate: the detection
 * evidence and the probe outcomes that proved "still failing". So, given that rate, H0 is the
 * outage's own success rate (its optimistic 95% Wilson bound, `outageRate`, never above the
 * threshold), and 'recovered' also needs the probe's observed rate at or above the threshold,
 * so a route that came back only halfway is not re-enabled on the strength of beating its
 * outage. With H0 at the threshold that second condition always holds once llr >= A.
 */
import type { RouteCounter } from './detection';
import { NO_TOPOLOGY, Scope, Topology, scopeMatchesRoute } from './scope';
import { Z_95_ONE_SIDED, binomialLogLikelihoodRatio, wilsonLower, wilsonUpper } from './stats';

export interface ProbeSettings {
  /** Fewest probe samples before 'recovered' may be declared. */
  minSamples: number;
  /** False-enable rate. */
  alpha: number;
  /** False-disable rate. */
  beta: number;
  /** Probe share, in percent of users, while there is no evidence of recovery. */
  basePercent: number;
  /** Probe share, in percent, once the evidence nearly proves recovery. */
  maxPercent: number;
  /**
   * Probe share, in percent, once the test has proven recovery but lacks `minSamples` (never
   * below `maxPercent`). Absent: `maxPercent` (freeze windows, a scope kept disabled until a time;
   * see `withoutProvenShare`).
   */
  provenPercent?: number;
}

export type ProbeDecision = {
  verdict: 'recovered' | 'failing' | 'insufficient';
  samples: number;
  successes: number;
  llr: number;
  /** A: llr at or above it proves recovery. */
  upperBound: number;
  /** What A holds of `DOUBT_RESTART_RAISE`: absent for a one-shot test. */
  raised?: number;
  /** B: llr at or below it proves the scope is still failing. */
  lowerBound: number;
  /** llr at or above it proves recovery short of the sample minimum (see `DECISIVE_EVIDENCE`); absent where the minimum always holds. */
  decisiveBound?: number;
  /** Suggested probe share, in percent. */
  probePercent: number;
};

/**
 * Evidence this many times the proof's (llr at DECISIVE_EVIDENCE x A) re-enables without waiting
 * for MIN_PROBE_SAMPLES: a test at that bound falsely enables at about alpha squared, a hundredth
 * of the one-shot test's rate. During a hard outage that is four or five successes in a row
 * instead of twenty outcomes, so a healed scope comes back seconds sooner. The minimum still holds
 * where the proven share does not apply (freeze windows, a scope kept disabled until a time).
 */
export const DECISIVE_EVIDENCE = 2;

/** Error rates are kept inside (0, 0.5) so both boundaries are finite and A > 0 > B. */
function errorRate(x: number): number {
  return Number.isFinite(x) ? Math.min(0.499, Math.max(1e-9, x)) : 0.05;
}

const count = (x: number) => (Number.isFinite(x) && x > 0 ? Math.floor(x) : 0);

export function decideRecovery(
  successes: number,
  failures: number,
  baseline: number,
  threshold: number,
  s: ProbeSettings,
  known: {
    /** The outage's measured success rate (see `outageRate`); H0 is the threshold without it. */
    outage?: number;
    /** An earlier run of the test proved "still failing" (see `probeShare`). */
    provenFailing?: boolean;
    /** The share once "still failing" is proven (see `probeFloor`); a quarter of the base share without it. */
    floorPercent?: number;
    /**
     * After a "still failing" proof the caller restarts the test whenever it leans toward failing
     * (`restartsOnDoubt`): recovery then needs `DOUBT_RESTART_RAISE` more evidence.
     */
    restartsOnDoubt?: boolean;
  } = {},
): ProbeDecision {
  const ok = count(successes);
  const bad = count(failures);
  const alpha = errorRate(s.alpha);
  const beta = errorRate(s.beta);
  const raise = known.restartsOnDoubt === true && known.provenFailing === true ? DOUBT_RESTART_RAISE : 0;
  const upperBound = Math.log((1 - beta) / alpha) + raise;
  const lowerBound = Math.log(beta / (1 - alpha));
  const p0 = failingRate(threshold, known.outage);
  const llr = separable(baseline, p0) ? binomialLogLikelihoodRatio(ok, bad, baseline, p0) : 0;
  const samples = ok + bad;
  const backAtThreshold = samples > 0 && ok / samples >= threshold;

  const decisiveBound = s.provenPercent !== undefined ? DECISIVE_EVIDENCE * upperBound : undefined;
  const enough = samples >= s.minSamples || (decisiveBound !== undefined && llr >= decisiveBound);
  let verdict: ProbeDecision['verdict'] = 'insufficient';
  if (llr <= lowerBound) verdict = 'failing';
  else if (llr >= upperBound && enough && backAtThreshold) verdict = 'recovered';

  const provenShort = verdict === 'insufficient' && llr >= upperBound && backAtThreshold;
  const widened = provenShort && s.provenPercent !== undefined ? provenShare(s) : undefined;
  const probePercent = widened ?? probeShare(llr, upperBound, lowerBound, s, known.provenFailing === true, known.floorPercent);
  return { verdict, samples, successes: ok, llr, upperBound, lowerBound, ...(raise > 0 ? { raised: raise } : {}), ...(decisiveBound !== undefined ? { decisiveBound } : {}), probePercent };
}

/**
 * Restarting the test on doubt makes it a CUSUM rather than one sequential test: every restart is
 * another chance for an outage's ordinary successes to line up into a false proof. So its proof
 * bound is raised by ln 4 (a quarter of the false-enable rate per run), which keeps its false
 * recoveries near the one-shot test's (docs/design/recovery.md has the model that showed it).
 */
export const DOUBT_RESTART_RAISE = Math.log(4);

/**
 * Should the test restart on this look's outcomes although it has not proven "still failing"?
 * Once an earlier run has proven it (`provenFailing`), whenever the run leans toward failing
 * (llr < 0 short of the lower bound). The question after a proof is when the route comes back,
 * and outcomes that leaned toward failing are the outage's, not the recovery's: kept in the run
 * they hold its llr below zero after the recovery begins, and a partial degradation (70% against
 * 97%, where a failure outweighs seven successes) waited for the next proof and the restart after
 * it. Restarted, the run starts again from nothing at each
 * doubt, as a CUSUM does, and a recovery is proven on its own outcomes. The caller still counts
 * the discarded outcomes in the outage's measured rate (`provenOutcomes`), as it counted every run
 * before: a run that ended on doubt measured the outage as much as one that ended on a proof.
 *
 * Only where one success is weak evidence (not `strongSuccess`: a partial degradation). During a
 * hard outage one failure is nearly a proof already, so no hole builds up, while a run restarted
 * at zero leans hard toward recovery on each of the outage's rare successes and widens the share
 * to its maximum for a look, each widened attempt a failed payment.
 */
export function restartsOnDoubt(decision: ProbeDecision, provenFailing: boolean): boolean {
  return provenFailing && decision.verdict === 'insufficient' && decision.llr < 0;
}

/** Does the test lean toward recovery without proving it yet (llr above zero, short of A)? */
export const leansToRecovery = (decision: Pick<ProbeDecision, 'verdict' | 'llr'>): boolean => decision.verdict === 'insufficient' && decision.llr > 0;

/** Is one success strong evidence of recovery: at least `STRONG_SUCCESS_FRACTION` of the one-shot test's A? */
export function strongSuccess(weight: number, s: Pick<ProbeSettings, 'alpha' | 'beta'>): boolean {
  return weight >= STRONG_SUCCESS_FRACTION * Math.log((1 - errorRate(s.beta)) / errorRate(s.alpha));
}

/** H0, the success rate of a scope still failing: the outage's measured rate when known, never above the threshold. */
function failingRate(threshold: number, outage: number | undefined): number {
  return outage !== undefined && Number.isFinite(outage) && outage >= 0 ? Math.min(threshold, outage) : threshold;
}

/** With no gap between the hypotheses the samples cannot tell them apart: no evidence either way. */
const separable = (baseline: number, p0: number) => Number.isFinite(baseline) && Number.isFinite(p0) && baseline > p0;

/** How far one probe success moves the test toward "recovered" (its log-likelihood ratio); 0 when it cannot tell. */
export function successWeight(baseline: number, threshold: number, outage?: number): number {
  const p0 = failingRate(threshold, outage);
  return separable(baseline, p0) ? binomialLogLikelihoodRatio(1, 0, baseline, p0) : 0;
}

/**
 * One success is strong evidence of recovery when it carries at least this share of the way to
 * proof (A): a second one proves it but for MIN_PROBE_SAMPLES. A hard outage qualifies (3% against
 * 97% success: a success is rare while failing); a partial degradation does not (70% against
 * 97%). Where it is strong, the test does not restart on doubt, and a run restarted by "still
 * failing" keeps the successes of its bucket (`seenAtRestart`).
 */
export const STRONG_SUCCESS_FRACTION = 0.5;

/**
 * The share of the way to proof (A) a success must carry to wake the actor: a quarter, so a
 * success rare while failing (the outage's cautious rate at most about a third of the baseline)
 * wakes it, and a partial degradation's ordinary successes (70% against 97%: 7% of the way each)
 * do not. At half of A, a hard outage measured on few outcomes (whose rate's upper bound stays
 * high: 0/10 gives 21%) did not wake on the success that began its recovery, and it waited up to
 * a PROBE_INTERVAL for the next look (seen on the flapping route).
 */
export const WAKING_SUCCESS_FRACTION = 0.25;

/**
 * Should the next probe success bring the next look forward? When one success moves llr at least
 * `fraction` of A (`WAKING_SUCCESS_FRACTION`) and the test does not lean toward recovery yet. A
 * hard outage qualifies (a success is rare while failing and likely means the route is back); a
 * partial degradation does not (successes are ordinary outage traffic, and each would wake the
 * actor for nothing). While the test leans, any outcome wakes it
 * (`wakesOnOutcome`); once it is proven, the downtime ends.
 */
export function wakesOnSuccess(decision: ProbeDecision, weight: number, fraction = WAKING_SUCCESS_FRACTION): boolean {
  const leaning = leansToRecovery(decision);
  // Against the one-shot test's A: whether one success is strong evidence is the outage's
  // property, not the restarts'.
  return decision.verdict !== 'recovered' && !leaning && weight >= fraction * (decision.upperBound - (decision.raised ?? 0));
}

/**
 * Should any probe outcome bring the next look forward? While the test leans toward recovery on
 * outcomes it has seen: the route is most likely healthy and still hidden from bucket A, and the
 * next outcomes either prove the recovery or undo the lean (during an outage, each widened attempt
 * is a failed payment). `nextLookMs` times the look for when they should have arrived, but a
 * workflow timer under a second fires after about one on the Temporal dev server
 * (docs/design/recovery.md), so the arrival itself wakes the actor.
 */
export function wakesOnOutcome(decision: ProbeDecision): boolean {
  return leansToRecovery(decision) && decision.samples > 0;
}

/** Outcomes measured while a scope was failing: detection's evidence, probe runs that proved "still failing". */
export interface OutageOutcomes {
  successes: number;
  attempts: number;
}

/**
 * The outage's success rate for the recovery test's H0: the optimistic (upper) one-sided 95%
 * Wilson bound of what was measured while failing, so few outcomes give a cautious (high) rate,
 * capped at the threshold. Measurements that agree are pooled. When one's interval lies wholly
 * below another's they did not measure the same thing, and the lowest upper bound counts:
 * detection's evidence comes from a window that may hold mostly healthy traffic from before the
 * outage began (a fast detection is a few seconds into a 20-second window), while the probe runs
 * that proved "still failing" saw only the outage. Pooled, such evidence held a hard outage's
 * rate near the healthy traffic's for its whole length, and each probe success weighed a small
 * fraction of what it should toward recovery. Always taking the lowest bound would pick whichever measurement came out low by chance,
 * and a partial degradation's H0 would drift below its real rate (more false recoveries).
 * Undefined with nothing measured (H0 is then the threshold).
 */
export function outageRate(observed: readonly OutageOutcomes[], threshold: number): number | undefined {
  let successes = 0;
  let attempts = 0;
  let lowestUpper = Infinity;
  let highestLower = -Infinity;
  for (const o of observed) {
    const n = count(o.attempts);
    if (n === 0) continue;
    const ok = Math.min(n, count(o.successes));
    attempts += n;
    successes += ok;
    lowestUpper = Math.min(lowestUpper, wilsonUpper(ok, n, Z_95_ONE_SIDED));
    highestLower = Math.max(highestLower, wilsonLower(ok, n, Z_95_ONE_SIDED));
  }
  if (attempts === 0 || !Number.isFinite(threshold)) return undefined;
  const disagree = lowestUpper < highestLower;
  return Math.min(threshold, disagree ? lowestUpper : wilsonUpper(successes, attempts, Z_95_ONE_SIDED));
}

/**
 * What the probe's runs that proved "still failing" measured: everything measured while failing
 * less detection's evidence (the actor's `outageOutcomes` starts from that evidence and adds each
 * run). Never below zero.
 */
export function provenOutcomes(measured: OutageOutcomes, evidence: OutageOutcomes | undefined): OutageOutcomes {
  if (!evidence) return measured;
  return { successes: Math.max(0, measured.successes - count(evidence.successes)), attempts: Math.max(0, measured.attempts - count(evidence.attempts)) };
}

/** The probe share once the test has proven "still failing", as a fraction of the base share. */
export const PROBE_FLOOR_FRACTION = 0.25;

/** The fewest probe outcomes per look the floor share aims at, however long the outage (see `probeFloor`). */
export const OLD_OUTAGE_OUTCOMES_PER_LOOK = 1 / 3;

/**
 * The share once "still failing" is proven: a quarter of the base share, raised to what still
 * brings about one probe outcome per look (from the scope's traffic when it was detected), never
 * above the base share. A busy scope drops to the quarter; a quiet one keeps enough probe users
 * to see its recovery at all. Unknown traffic: the quarter.
 *
 * With the outage's age and `youngMs` (DETECTION_WINDOW), the raise holds while the outage is
 * young and then falls as youngMs / age, to one outcome per three looks from 3 × youngMs on. An
 * outage's chance of ending in the next moment falls the longer it has lasted (a blip or a flap
 * ends within seconds, one that has lasted three windows rarely does), while each probe attempt
 * it sees still fails: an old outage is not worth one failed payment per look. A success wakes
 * the actor whenever it comes (`wakesOnSuccess`), so the looks between outcomes cost nothing.
 */
export function probeFloor(basePercent: number, attemptsPerSec: number | undefined, lookSec: number, age?: { ageMs: number; youngMs: number }): number {
  const quarter = basePercent * PROBE_FLOOR_FRACTION;
  if (attemptsPerSec === undefined || !(attemptsPerSec > 0) || !(lookSec > 0)) return quarter;
  const perLook = age && age.youngMs > 0 && age.ageMs > age.youngMs ? Math.max(OLD_OUTAGE_OUTCOMES_PER_LOOK, age.youngMs / age.ageMs) : 1;
  return Math.max(quarter, Math.min(basePercent, (100 * perLook) / (attemptsPerSec * lookSec)));
}

/**
 * The probe share the evidence calls for. Each probe attempt during an outage is a payment that
 * fails, and each one after recovery is a payment that proves it. So once the test has proven
 * "still failing" the share drops to a quarter of the base share until fresh evidence: the test
 * restarts, a busy scope proves it again at that share within a look or two, and a quiet one
 * gets the base share back, enough to prove it again before its expiry. When the caller says
 * an earlier run proved "still failing" (`provenFailing`), the quarter share holds until the
 * restarted test leans toward recovery (llr > 0) instead of returning to the base share between
 * proofs, which halves the payments an outage costs the probe. And the share widens
 * toward the maximum as evidence of recovery grows, steeply at first (the square root of the
 * progress) and reaching it halfway to proof: the first successes after an outage bring enough
 * users to prove the recovery at the next look, while the risk of exposing them shrinks as the
 * route looks healthier. With no evidence either way it is the base share.
 */
export function probeShare(
  llr: number,
  upperBound: number,
  lowerBound: number,
  s: Pick<ProbeSettings, 'basePercent' | 'maxPercent'>,
  provenFailing = false,
  floorPercent?: number,
): number {
  const base = Math.max(0, Math.min(100, s.basePercent));
  const max = Math.max(base, Math.min(100, s.maxPercent));
  const floor = floorPercent !== undefined && Number.isFinite(floorPercent) ? Math.max(0, Math.min(base, floorPercent)) : base * PROBE_FLOOR_FRACTION;
  if (!Number.isFinite(llr) || llr === 0) return provenFailing ? floor : base;
  if (llr < 0) return llr <= lowerBound || provenFailing ? floor : base;
  return base + (max - base) * Math.sqrt(Math.min(1, llr / (upperBound / 2)));
}

/**
 * The settings without the proven share: the maximum holds until the sample minimum is in. For a
 * freeze window (`freezeAdjustedProbe`), and while an operator keeps the scope disabled until a
 * time (an extension, a planned downtime's end): showing it to every user then would undo that.
 */
export function withoutProvenShare(s: ProbeSettings): ProbeSettings {
  const { provenPercent: _dropped, ...rest } = s;
  return rest;
}

/**
 * The share once the test has proven recovery (llr at A, the probe's rate back at the threshold)
 * and only the sample minimum is missing: `provenPercent`, never below the maximum. The test
 * has spoken at its error rates; the minimum guards a proof on a handful of outcomes, and every
 * user shown the scope meanwhile is one more outcome toward it, while each user still hidden is
 * a checkout that loses a healthy method. A proof that was wrong shows at the next look, which
 * comes as soon as the widened share should have brought the missing outcomes (`nextLookMs`).
 */
export function provenShare(s: Pick<ProbeSettings, 'maxPercent' | 'provenPercent'>): number {
  const max = Math.max(0, Math.min(100, s.maxPercent));
  return Math.max(max, Math.min(100, s.provenPercent ?? max));
}

/** The shortest wait between looks, as a fraction of PROBE_INTERVAL. */
export const SOONEST_LOOK_FRACTION = 0.25;

/**
 * When to look at the probe again, in ms. After PROBE_INTERVAL as a rule. While the evidence leans
 * toward recovery (llr > 0) without proving it yet, the route is most likely healthy and still
 * hidden from bucket A, so look as soon as the widened share should have brought the outcomes the
 * test still lacks: up to MIN_PROBE_SAMPLES (or decisive evidence, if sooner), and enough for
 * llr to reach A at the rate it has gained so far. That needs the scope's traffic
 * (`attemptsPerSec`, from detection); unknown traffic keeps the interval. Never sooner than a
 * quarter of the interval. A sequential test may be consulted at any time without raising its
 * error rates, so looking sooner costs only reads.
 *
 * With `refute` (the test's hypotheses: baseline, threshold and the outage's rate, as given to
 * `decideRecovery`), the look comes no later than when the failures that would undo the lean
 * (bring llr to zero or below) should have arrived if the scope is still failing. A lean is most
 * often one success, and during a hard outage one success widens the share to its maximum:
 * waiting for the proof's outcomes kept it there for a whole interval, each widened attempt a
 * failed payment when the success was the outage's own, while two failures, at the widened share a fraction of a second away,
 * already undo it. Looking when either answer should be in costs nothing when the route has
 * healed: the proof's look still comes when its outcomes should have arrived, or sooner.
 */
export function nextLookMs(
  decision: ProbeDecision,
  minSamples: number,
  attemptsPerSec: number | undefined,
  intervalMs: number,
  refute?: { baseline: number; threshold: number; outage?: number },
): number {
  const soonest = intervalMs * SOONEST_LOOK_FRACTION;
  const leaning = leansToRecovery(decision) && decision.samples > 0;
  if (!leaning || attemptsPerSec === undefined || !(attemptsPerSec > 0) || !(decision.probePercent > 0)) return intervalMs;
  const probesPerSec = (attemptsPerSec * decision.probePercent) / 100;
  const perSample = decision.llr / decision.samples;
  const toBound = Math.max(0, Math.ceil((decision.upperBound - decision.llr) / perSample));
  // The minimum, or fewer where decisive evidence would come first.
  const toDecisive = decision.decisiveBound !== undefined ? Math.max(0, Math.ceil((decision.decisiveBound - decision.llr) / perSample)) : Infinity;
  const toMinimum = Math.min(Math.max(0, minSamples - decision.samples), toDecisive);
  const needed = Math.max(1, toMinimum, toBound);
  let waitMs = (1000 * needed) / probesPerSec;
  if (refute) {
    // Failures that bring llr to zero or below, arriving at the outage's failure rate.
    const p0 = failingRate(refute.threshold, refute.outage);
    if (separable(refute.baseline, p0)) {
      const toUndo = Math.floor(decision.llr / -binomialLogLikelihoodRatio(0, 1, refute.baseline, p0)) + 1;
      waitMs = Math.min(waitMs, (1000 * toUndo) / (probesPerSec * (1 - p0)));
    }
  }
  return Math.max(soonest, Math.min(intervalMs, waitMs));
}

export interface ProbeCounts {
  successes: number;
  failures: number;
}

/**
 * Probe outcomes less those an ended run already counted: a test restarted in the counter bucket
 * of the look that ended the last run reads that whole bucket again, and `counted` is what the
 * ended run saw of it. Never below zero.
 */
export function lessCounted<T extends ProbeCounts>(read: T, counted: ProbeCounts | undefined): T {
  if (!counted) return read;
  return { ...read, successes: Math.max(0, read.successes - counted.successes), failures: Math.max(0, read.failures - counted.failures) };
}

/**
 * What a test restarted by a "still failing" proof leaves out of the counter bucket it restarts
 * in (the bucket of that look): as a rule everything the ended run counted there (`inBucket`).
 * But when one success is strong evidence (`strongSuccess`: a hard outage, see
 * `wakesOnSuccess`) and the ended run's own outcomes in that bucket are successes only, the
 * recovery may have begun there, after the failures that proved the run: the new test keeps
 * them, leaving out only what an earlier run counted there (`earlier`). Otherwise the first
 * success after an outage is spent in the run that its failures end, and the recovery waits
 * for the next one.
 */
export function seenAtRestart(inBucket: ProbeCounts, earlier: ProbeCounts | undefined, strongSuccess: boolean): ProbeCounts | undefined {
  if (!strongSuccess) return inBucket;
  const own = lessCounted(inBucket, earlier);
  return own.failures === 0 && own.successes > 0 ? earlier : inBucket;
}

/** Probe outcomes of the routes in `scope` from buckets starting in [since, now]. */
export function windowedProbe(
  counters: RouteCounter[],
  scope: Scope,
  since: number,
  now: number,
  topo: Topology = NO_TOPOLOGY,
): ProbeCounts {
  let successes = 0;
  let failures = 0;
  for (const c of counters) {
    if (c.bucketStart < since || c.bucketStart > now || !scopeMatchesRoute(scope, c, topo)) continue;
    successes += c.probeSuccess;
    failures += c.probeFailure;
  }
  return { successes, failures };
}
