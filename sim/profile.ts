/**
 * The one place for the simulator's timing profile and knobs. The product runs with these as
 * its environment (the short profile of design.md "Scenarios", plus the knobs listed here);
 * every report repeats them so a figure is never read without the settings behind it.
 */

/** The short profile of design.md, as environment. */
export const SHORT_PROFILE = {
  DETECTION_INTERVAL: '2s',
  DETECTION_WINDOW: '20s',
  COUNTER_BUCKET: '2s',
  PROBE_INTERVAL: '2s',
  DOWNTIME_EXPIRY: '60s',
} as const;

/**
 * Knobs the simulator sets beyond the short profile, each with why. These are product
 * settings (environment variables), not changes to its decisions.
 */
export const KNOBS: Record<string, { value: string; why: string }> = {
  BASELINE_WINDOW: {
    value: '5m',
    why: 'history is scaled like the windows (production: 5m window, 1h baseline; here 20s and 5m)',
  },
};

export const PROFILE_ENV: Record<string, string> = {
  ...SHORT_PROFILE,
  ...Object.fromEntries(Object.entries(KNOBS).map(([k, v]) => [k, v.value])),
};

/** The product's settings the report's judgements depend on, in seconds and counts. */
export interface ProfileNumbers {
  detectionIntervalSec: number;
  detectionWindowSec: number;
  probeIntervalSec: number;
  expirySec: number;
  probePercent: number;
  minProbeSamples: number;
  degradation: number;
  /** The probe's sequential test error rates (common/policy.ts). */
  alpha: number;
  beta: number;
}

/** The seed's simple policy that every scenario also runs, offline, on the same traffic. */
export const BASELINE_POLICY = {
  /** Evaluated every DETECTION_INTERVAL, like the product. */
  intervalSec: 2,
  /** Success rate over a fixed window, every failure counted (user failures included). */
  windowSec: 60,
  threshold: 0.8,
  minAttempts: 20,
  /** Disabled for everyone, re-enabled after a fixed expiry (DOWNTIME_EXPIRY). */
  expirySec: 60,
};
