/**
 * Configuration, read once at boot from the environment, validated, and injected.
 * A bad value stops the process with one line naming the variable and the expected form.
 */
import ms from 'ms';
import { z } from 'zod';
import { KNOWN_ATTRIBUTES, isAttributeName } from '../domain/scope';
import { DETECTION_WAKE_FRACTION } from '../domain/detection';

const DURATION_FORM = 'a duration such as 500ms, 90s, 5m, 2h or 7d';

/** Parses "90s", "5m", "2h", "7d" (or plain milliseconds) into milliseconds; zero only when `allowZero`. */
export function parseDuration(value: string, allowZero = false): number | undefined {
  const trimmed = value.trim();
  if (!/^\d+(\.\d+)?\s*(ms|s|m|h|d)?$/.test(trimmed)) return undefined;
  const parsed = ms(trimmed as ms.StringValue);
  return typeof parsed === 'number' && Number.isFinite(parsed) && (parsed > 0 || (allowZero && parsed === 0)) ? parsed : undefined;
}

/** Parses a duration, or adds an issue naming the form expected (and `hint`). */
const parsedDuration =
  (allowZero: boolean, hint = '') =>
  (v: string, ctx: z.RefinementCtx): number => {
    const parsed = parseDuration(v, allowZero);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${DURATION_FORM}${hint}, got "${v}"` });
      return z.NEVER;
    }
    return parsed;
  };

const duration = (fallback: string, allowZero = false) => z.string().default(fallback).transform(parsedDuration(allowZero));

/** A duration without a default: unset or empty is undefined (the caller derives it). */
const optionalDuration = (allowZero: boolean, hint: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => (v === undefined || v.trim() === '' ? undefined : parsedDuration(allowZero, hint)(v, ctx)));

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((v, ctx) => {
      const n = Number(v);
      if (!/^\d+$/.test(v.trim()) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

/** A number strictly between `low` and `high` (or up to `high` itself, `upToHigh`). */
const between = (fallback: number, low: number, high: number, form: string, upToHigh = false) =>
  z
    .string()
    .default(String(fallback))
    .transform((v, ctx) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || n <= low || n > high || (n === high && !upToHigh)) {
        ctx.addIssue({ code: 'custom', message: `expected ${form}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });
const percent = (fallback: number) => between(fallback, 0, 100, 'a percentage above 0 and below 100');
const percentUpToAll = (fallback: number) => between(fallback, 0, 100, 'a percentage above 0, at most 100', true);
const fraction = (fallback: number) => between(fallback, 0, 1, 'a number between 0 and 1 (exclusive)');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const ROLES = ['ingest', 'checkout', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** `key=role+role,key=role` → key → roles. */
export function parseApiKeys(value: string): Map<string, Set<Role>> | string {
  const keys = new Map<string, Set<Role>>();
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) return `expected key=role+role entries separated by commas, got an entry without "="`;
    const key = entry.slice(0, eq);
    const roles = entry.slice(eq + 1).split('+').map((r) => r.trim());
    if (key.length < 16) return `expected keys of at least 16 characters`;
    for (const role of roles) {
      if (!(ROLES as readonly string[]).includes(role)) return `unknown role "${role}" (roles: ${ROLES.join(', ')})`;
    }
    keys.set(key, new Set(roles as Role[]));
  }
  return keys;
}

const schema = z.object({
  PORT: integer(3000, 0, 65535),
  WORKER_METRICS_PORT: integer(0, 0, 65535),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().default('.data'),

  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_PORT: integer(8233, 1, 65535),
  TEMPORAL_UI_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), 'expected an http or https URL such as https://temporal.example.com'),
  TEMPORAL_TASK_QUEUE: z.string().default('downtime-orchestrator'),

  MONGODB_URI: optionalString,
  MONGODB_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'expected a database name of letters, digits, _ or -').default('downtime_orchestrator'),
  EMBEDDED_MONGO_PORT: integer(27117, 1, 65535),

  API_KEYS: optionalString,

  DETECTION_INTERVAL: duration('30s'),
  DETECTION_WAKE_GAP: optionalDuration(true, ' (0s turns the wake off)'),
  DETECTION_WINDOW: duration('5m'),
  BASELINE_WINDOW: duration('1h'),
  COUNTER_BUCKET: duration('10s'),
  MIN_ATTEMPTS: integer(30, 1, 1_000_000),
  DEGRADATION: fraction(0.15),
  PROBE_PERCENT: percent(10),
  MAX_PROBE_PERCENT: percent(50),
  PROVEN_PROBE_PERCENT: percentUpToAll(100),
  PROBE_INTERVAL: duration('30s'),
  MIN_PROBE_SAMPLES: integer(20, 1, 1_000_000),
  DOWNTIME_EXPIRY: duration('30m'),
  MAX_DOWNTIME_EXPIRY: duration('6h'),
  FLAP_WINDOW: duration('30m'),
  FLAP_EXPIRY_MULTIPLIER: integer(2, 1, 100),
  FLAP_HOLD: duration('0s', true),
  UNACKED_ESCALATION_AFTER: duration('15m'),
  LONG_DOWNTIME_AFTER: duration('1h'),
  VERY_LONG_DOWNTIME_AFTER: duration('4h'),
  REPAGE_INTERVAL: duration('15m'),
  PROBLEM_THRESHOLD: integer(3, 2, 1000),
  PROBLEM_WINDOW: duration('7d'),
  TRANSACTION_RETENTION: duration('7d'),
  SNAPSHOT_REFRESH: duration('1s'),
  DOWNTIME_REFRESH: duration('200ms'),
  USER_ERROR_CODES: optionalString,
  METHOD_ATTRIBUTES: optionalString,

  PUBLIC_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), 'expected an http or https URL such as https://downtimes.example.com'),
  PAGERDUTY_ROUTING_KEY: optionalString,
  PAGERDUTY_EVENTS_URL: z.string().default('https://events.pagerduty.com/v2/enqueue').refine((v) => /^https?:\/\/[^\s]+$/.test(v), 'expected an http or https URL'),
  PAGERDUTY_WEBHOOK_SECRET: optionalString,
  SLACK_WEBHOOK_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), 'expected an http or https URL (the incoming webhook Slack gave you)'),
  SMTP_URL: optionalString.refine((v) => v === undefined || /^smtps?:\/\/[^\s]+$/.test(v), 'expected smtp://host:port or smtps://user:password@host:port'),
  SMTP_FROM: z.string().default('Payment downtimes <downtimes@localhost>'),
  WEBHOOK_SECRET_GRACE: duration('24h', true),
  REVIEW_DUE_AFTER: duration('5d'),
});

export type Config = ReturnType<typeof toConfig>;

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`Invalid configuration: ${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

function toConfig(env: z.infer<typeof schema>, apiKeys: Map<string, Set<Role>> | undefined) {
  return {
    port: env.PORT,
    /** Where the worker serves its Prometheus metrics; 0 serves none. */
    workerMetricsPort: env.WORKER_METRICS_PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    dataDir: env.DATA_DIR,
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      uiPort: env.TEMPORAL_UI_PORT,
      /** The Web UI that links point at: TEMPORAL_UI_URL, or the embedded dev server's. */
      uiUrl: (env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${env.TEMPORAL_UI_PORT}`).replace(/\/+$/, ''),
      taskQueue: env.TEMPORAL_TASK_QUEUE,
    },
    mongo: { uri: env.MONGODB_URI, db: env.MONGODB_DB, embeddedPort: env.EMBEDDED_MONGO_PORT },
    apiKeys,
    detection: {
      intervalMs: env.DETECTION_INTERVAL,
      /** The shortest time between two runs woken from the ingest; 0: not woken (domain/detection.ts wakesDetection). */
      wakeGapMs: env.DETECTION_WAKE_GAP ?? env.DETECTION_INTERVAL * DETECTION_WAKE_FRACTION,
      windowMs: env.DETECTION_WINDOW,
      baselineWindowMs: env.BASELINE_WINDOW,
      counterBucketMs: env.COUNTER_BUCKET,
      minAttempts: env.MIN_ATTEMPTS,
      degradation: env.DEGRADATION,
    },
    probe: {
      percent: env.PROBE_PERCENT,
      maxPercent: env.MAX_PROBE_PERCENT,
      provenPercent: env.PROVEN_PROBE_PERCENT,
      intervalMs: env.PROBE_INTERVAL,
      minSamples: env.MIN_PROBE_SAMPLES,
    },
    downtime: {
      expiryMs: env.DOWNTIME_EXPIRY,
      maxExpiryMs: env.MAX_DOWNTIME_EXPIRY,
      flapWindowMs: env.FLAP_WINDOW,
      flapMultiplier: env.FLAP_EXPIRY_MULTIPLIER,
      flapHoldMs: env.FLAP_HOLD,
      unackedAfterMs: env.UNACKED_ESCALATION_AFTER,
      longAfterMs: env.LONG_DOWNTIME_AFTER,
      veryLongAfterMs: env.VERY_LONG_DOWNTIME_AFTER,
      repageIntervalMs: env.REPAGE_INTERVAL,
    },
    problem: { threshold: env.PROBLEM_THRESHOLD, windowMs: env.PROBLEM_WINDOW },
    retentionMs: env.TRANSACTION_RETENTION,
    snapshotRefreshMs: env.SNAPSHOT_REFRESH,
    /** The open downtimes are re-read at least as often as the whole snapshot. */
    downtimeRefreshMs: Math.min(env.DOWNTIME_REFRESH, env.SNAPSHOT_REFRESH),
    userErrorCodes: env.USER_ERROR_CODES?.split(',').map((c) => c.trim()).filter(Boolean) ?? [],
    /** The method attributes a catalog may give and a scope may name: the known four and the configured ones. */
    methodAttributes: [...new Set([...KNOWN_ATTRIBUTES, ...(env.METHOD_ATTRIBUTES?.split(',').map((c) => c.trim()).filter(Boolean) ?? [])])],
    /** Where people reach this API: the links in pages, chat and mail. */
    publicUrl: (env.PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}`).replace(/\/+$/, ''),
    /** The channels that reach people, each off until configured. Secrets live here and nowhere else. */
    channels: {
      pagerduty: env.PAGERDUTY_ROUTING_KEY !== undefined ? { routingKey: env.PAGERDUTY_ROUTING_KEY, eventsUrl: env.PAGERDUTY_EVENTS_URL } : undefined,
      pagerdutyWebhookSecret: env.PAGERDUTY_WEBHOOK_SECRET,
      slack: env.SLACK_WEBHOOK_URL !== undefined ? { url: env.SLACK_WEBHOOK_URL } : undefined,
      smtp: env.SMTP_URL !== undefined ? { url: env.SMTP_URL, from: env.SMTP_FROM } : undefined,
    },
    /** How long a rotated webhook secret still signs deliveries beside the new one. */
    webhookSecretGraceMs: env.WEBHOOK_SECRET_GRACE,
    /** A SEV1/SEV2 incident's post-incident review is due this long after it resolved. */
    reviewDueAfterMs: env.REVIEW_DUE_AFTER,
  };
}

/** Validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(source);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const env = result.data;
  let apiKeys: Map<string, Set<Role>> | undefined;
  if (env.API_KEYS !== undefined) {
    const parsed = parseApiKeys(env.API_KEYS);
    if (typeof parsed === 'string') throw new ConfigError('API_KEYS', parsed);
    apiKeys = parsed;
  }
  for (const name of env.METHOD_ATTRIBUTES?.split(',').map((c) => c.trim()).filter(Boolean) ?? []) {
    if (!isAttributeName(name)) throw new ConfigError('METHOD_ATTRIBUTES', `"${name}" is not an attribute name (lower-case letters, digits and _, not mode, method, gateway or aggregator)`);
  }
  if (env.DETECTION_WINDOW < env.COUNTER_BUCKET) {
    throw new ConfigError('DETECTION_WINDOW', `must be at least COUNTER_BUCKET (${env.COUNTER_BUCKET} ms)`);
  }
  return toConfig(env, apiKeys);
}

/** Which channels are on, for the start-up log: names only, never a key or an address with credentials. */
export function channelReport(config: Config): Record<string, string> {
  const c = config.channels;
  const host = (url: string) => {
    try {
      return new URL(url).host;
    } catch {
      return 'configured';
    }
  };
  return {
    pagerduty: c.pagerduty ? `on (events to ${host(c.pagerduty.eventsUrl)})` : 'off (PAGERDUTY_ROUTING_KEY unset)',
    pagerdutyInbound: c.pagerdutyWebhookSecret ? 'on (POST /v1/integrations/pagerduty)' : 'off (PAGERDUTY_WEBHOOK_SECRET unset)',
    slack: c.slack ? `on (${host(c.slack.url)})` : 'off (SLACK_WEBHOOK_URL unset)',
    email: c.smtp ? `on (SMTP ${host(c.smtp.url)})` : 'off (SMTP_URL unset)',
    webhooks: 'on (subscriptions through POST /v1/webhooks)',
  };
}

/** For entry points: load the config or print the one-line reason and exit. */
export function loadConfigOrExit(source: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
