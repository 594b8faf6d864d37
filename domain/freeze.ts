/**
 * Freeze windows: periods of peak traffic (a promotion, month end) where a wrong re-enable
 * costs most, so recovery must be proven with stronger evidence.
 */
import { ProbeSettings, withoutProvenShare } from './probe';

export interface FreezeWindow {
  id: string;
  name: string;
  startsAt: number;
  endsAt: number;
}

/** The freeze window containing `now` ([startsAt, endsAt)); of overlapping ones, the one that lasts longest. */
export function activeFreeze(windows: FreezeWindow[], now: number): FreezeWindow | undefined {
  let active: FreezeWindow | undefined;
  for (const w of windows) {
    if (now < w.startsAt || now >= w.endsAt) continue;
    if (!active || w.endsAt > active.endsAt || (w.endsAt === active.endsAt && w.id < active.id)) active = w;
  }
  return active;
}

/**
 * In a freeze: half the false-enable rate, twice the minimum probe samples, and no share beyond
 * the maximum while a proven recovery waits for them.
 */
export function freezeAdjustedProbe(s: ProbeSettings, inFreeze: boolean): ProbeSettings {
  if (!inFreeze) return { ...s };
  return { ...withoutProvenShare(s), alpha: s.alpha / 2, minSamples: s.minSamples * 2 };
}
