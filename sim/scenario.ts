/**
 * Scenario files (scenarios/*.json): what the simulated world looks like and what goes wrong in it.
 *
 * The format of design.md "Scenarios", plus optional fields:
 *
 *   name              slug, also the report's file name
 *   description       one line for the report (optional)
 *   seed              integer seed of every random draw (users, preferences, arrivals, outcomes)
 *   durationSec       length of the full (--full) run, in seconds of simulated = wall time
 *   checkoutsPerSec   mean arrival rate of checkouts (Poisson)
 *   users             number of distinct users; each has a fixed preferred method (drawn by share)
 *   userFailureShare  share of ordinary (non-outage) failures that carry a user code
 *   catalog[]         {method, gateways[] (in order of preference), share, successRate,
 *                      gatewaySuccess? {gateway: rate} (per-gateway override of successRate),
 *                      priority? and attributes? {issuer?, network?, type?, psp?} (sent with
 *                      the catalog)}; shares must sum to 1
 *   gateways[]        optional {gateway, aggregator?}: the aggregator a gateway sits behind
 *                     (sent with the catalog)
 *   outages[]         {scope: {method?, mode?, issuer?, network?, type?, psp?, gateway? or
 *                     aggregator?}, startSec, endSec, successRate, label?}:
 *                     while active, every route the scope covers succeeds at successRate and
 *                     fails with system codes only
 *   freezeWindows[]   optional {startSec, endSec, name?}: created through POST /v1/freeze-windows
 *                     before the run (the product then demands stronger re-enable evidence)
 *   userErrorBursts[] optional {scope, startSec, endSec, failureShare}: noisy user errors; a
 *                     further failureShare of the covered attempts fail with a user code
 *                     (e.g. OTP SMS delays), which must not count against any route
 *   variance          optional {amplitude, periodSec}: ordinary variance; every route's rate
 *                     wanders by ±amplitude along a sine of the period with a per-route phase
 *   traffic           optional {swing, periodSec, phase?, surges?[]}: arrivals that vary over
 *                     time: the rate follows checkoutsPerSec x (1 + swing x sin(2π(t/periodSec +
 *                     phase))), a day's curve compressed into periodSec, and each surge
 *                     {startSec, endSec, multiplier} multiplies it while active (a flash sale)
 *   backfillSec       optional, default 60: seconds of healthy history before the run, posted
 *                     with `at` in the past so detection has each scope's baseline from the
 *                     start (and filling the baseline policy's window the same way)
 *   backfillRate      optional, default 0.3: share of that history posted beyond the last
 *                     detection window (all of the last window is posted); it only feeds the
 *                     learned baselines, and posting less of it keeps the start short
 *   short             optional compression of the default run: each stretch between events
 *                     (outage, freeze and burst starts and ends) is cut to at most
 *                     {leadSec: 15, gapSec: 30, outageSec: 90, tailSec: 40} (defaults);
 *                     stretches shorter than their cap keep their length (a flapping route
 *                     stays a flapping route)
 *
 * The file is validated with zod; an error names the field, e.g.
 * `scenarios/x.json: catalog.1.share: expected a number from 0 to 1`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { normalizeScope, ScopeError } from '../domain/scope';

const METHOD = /^[a-z0-9_]{1,40}:[a-z0-9_]{1,60}$/;
const GATEWAY = /^[a-z0-9_-]{1,60}$/;

const rate = z.number({ error: 'expected a number from 0 to 1' }).min(0, 'expected a number from 0 to 1').max(1, 'expected a number from 0 to 1');
const seconds = z.number({ error: 'expected seconds (a number ≥ 0)' }).min(0, 'expected seconds (a number ≥ 0)');
const positive = (what: string) => z.number({ error: `expected ${what}` }).positive(`expected ${what}`);

const id = (what: string) => z.string().regex(GATEWAY, `expected ${what}`).optional();
const scopeSchema = z
  .object({
    method: z.string().regex(METHOD, 'expected mode:name').optional(),
    mode: z.string().regex(/^[a-z0-9_]{1,40}$/, 'expected a mode such as upi').optional(),
    issuer: id('an issuer id'),
    network: id('a network id'),
    type: id('a card type id'),
    psp: id('a PSP id'),
    gateway: id('a gateway id'),
    aggregator: id('an aggregator id'),
  })
  .strict()
  .superRefine((s, ctx) => {
    try {
      normalizeScope(s);
    } catch (err) {
      if (err instanceof ScopeError) ctx.addIssue({ code: 'custom', message: err.message, path: err.field === 'scope' ? [] : [err.field] });
      else throw err;
    }
  });

const interval = { startSec: seconds, endSec: seconds };
const ordered = (v: { startSec: number; endSec: number }, ctx: z.RefinementCtx) => {
  if (v.endSec <= v.startSec) ctx.addIssue({ code: 'custom', message: 'must be after startSec', path: ['endSec'] });
};

const catalogEntry = z
  .object({
    method: z.string().regex(METHOD, 'expected mode:name (lowercase letters, digits, _)'),
    gateways: z.array(z.string().regex(GATEWAY, 'expected a gateway id')).min(1, 'expected at least one gateway'),
    share: rate,
    successRate: rate,
    gatewaySuccess: z.record(z.string(), rate).optional(),
    priority: z.number().min(-1000).max(1000).optional(),
    attributes: z.object({ issuer: id('an issuer id'), network: id('a network id'), type: id('a card type id'), psp: id('a PSP id') }).strict().optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (new Set(e.gateways).size !== e.gateways.length) ctx.addIssue({ code: 'custom', message: 'gateways must not repeat', path: ['gateways'] });
    for (const g of Object.keys(e.gatewaySuccess ?? {})) {
      if (!e.gateways.includes(g)) ctx.addIssue({ code: 'custom', message: `${g} is not one of this method's gateways`, path: ['gatewaySuccess', g] });
    }
  });

export const scenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a slug of lowercase letters, digits and -'),
    description: z.string().optional(),
    seed: z.number().int('expected an integer'),
    durationSec: positive('a duration in seconds above 0'),
    checkoutsPerSec: positive('a rate above 0'),
    users: z.number().int('expected an integer').positive('expected at least one user'),
    userFailureShare: rate,
    catalog: z.array(catalogEntry).min(1, 'expected at least one method'),
    gateways: z.array(z.object({ gateway: z.string().regex(GATEWAY, 'expected a gateway id'), aggregator: id('an aggregator id') }).strict()).optional(),
    outages: z.array(z.object({ scope: scopeSchema, ...interval, successRate: rate, label: z.string().optional() }).strict().superRefine(ordered)),
    freezeWindows: z.array(z.object({ ...interval, name: z.string().min(1).optional() }).strict().superRefine(ordered)).optional(),
    userErrorBursts: z
      .array(z.object({ scope: scopeSchema, ...interval, failureShare: rate }).strict().superRefine(ordered))
      .optional(),
    variance: z.object({ amplitude: rate, periodSec: positive('a period in seconds') }).strict().optional(),
    traffic: z
      .object({
        swing: z.number().min(0, 'expected 0 to 0.95').max(0.95, 'expected 0 to 0.95'),
        periodSec: positive('a period in seconds'),
        phase: rate.optional(),
        surges: z.array(z.object({ ...interval, multiplier: z.number().min(0.1, 'expected 0.1 to 20').max(20, 'expected 0.1 to 20') }).strict().superRefine(ordered)).optional(),
      })
      .strict()
      .optional(),
    backfillSec: seconds.optional(),
    backfillRate: rate.optional(),
    short: z
      .object({ leadSec: positive('seconds'), gapSec: positive('seconds'), outageSec: positive('seconds'), tailSec: positive('seconds') })
      .partial()
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const total = s.catalog.reduce((n, e) => n + e.share, 0);
    if (Math.abs(total - 1) > 0.001) ctx.addIssue({ code: 'custom', message: `shares must sum to 1, got ${total.toFixed(3)}`, path: ['catalog'] });
    const seen = new Map<string, number>();
    s.catalog.forEach((e, i) => {
      if (seen.has(e.method)) ctx.addIssue({ code: 'custom', message: `${e.method} is already listed at catalog.${seen.get(e.method)}`, path: ['catalog', i, 'method'] });
      seen.set(e.method, i);
    });
    const timed: [string, { startSec: number; endSec: number }[] | undefined][] = [
      ['outages', s.outages],
      ['freezeWindows', s.freezeWindows],
      ['userErrorBursts', s.userErrorBursts],
      ['traffic.surges', s.traffic?.surges],
    ];
    for (const [field, list] of timed) {
      list?.forEach((o, i) => {
        if (o.endSec > s.durationSec) ctx.addIssue({ code: 'custom', message: `must be at most durationSec (${s.durationSec})`, path: [field, i, 'endSec'] });
      });
    }
  });

export type Scenario = z.infer<typeof scenarioSchema>;
export type CatalogItem = Scenario['catalog'][number];
export type Outage = Scenario['outages'][number];

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** Validates parsed JSON; the error names the file and the first bad field. */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : '(root)';
    throw new ScenarioError(`${source}: ${field}: ${issue.message}`);
  }
  return result.data;
}

export function loadScenario(file: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScenarioError(`${file}: not readable JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseScenario(raw, file);
}

export const SHORT_DEFAULTS = { leadSec: 15, gapSec: 30, outageSec: 90, tailSec: 40 };

/**
 * The default (short) run: the same world, with long stretches between events cut to their cap.
 * Times map through one monotone piecewise-linear function, so every event keeps its order and
 * every short stretch (a flap, a brief recovery) its exact length.
 */
export function compressScenario(s: Scenario): Scenario {
  const caps = { ...SHORT_DEFAULTS, ...s.short };
  const events = [...s.outages, ...(s.freezeWindows ?? []), ...(s.userErrorBursts ?? []), ...(s.traffic?.surges ?? [])];
  const points = [...new Set([0, s.durationSec, ...events.flatMap((e) => [e.startSec, e.endSec])])].sort((a, b) => a - b);
  const firstEvent = events.length ? Math.min(...events.map((e) => e.startSec)) : s.durationSec;
  const lastEvent = events.length ? Math.max(...events.map((e) => e.endSec)) : 0;
  const mapped = new Map<number, number>([[0, 0]]);
  let at = 0;
  for (let i = 1; i < points.length; i += 1) {
    const [a, b] = [points[i - 1]!, points[i]!];
    const inOutage = s.outages.some((o) => o.startSec < b && o.endSec > a);
    const cap = b <= firstEvent ? caps.leadSec : a >= lastEvent ? caps.tailSec : inOutage ? caps.outageSec : caps.gapSec;
    at += Math.min(b - a, cap);
    mapped.set(b, at);
  }
  const map = (t: number) => mapped.get(t)!;
  const remap = <T extends { startSec: number; endSec: number }>(e: T): T => ({ ...e, startSec: map(e.startSec), endSec: map(e.endSec) });
  return {
    ...s,
    durationSec: map(s.durationSec),
    outages: s.outages.map(remap),
    freezeWindows: s.freezeWindows?.map(remap),
    userErrorBursts: s.userErrorBursts?.map(remap),
    ...(s.traffic ? { traffic: { ...s.traffic, ...(s.traffic.surges ? { surges: s.traffic.surges.map(remap) } : {}) } } : {}),
  };
}
