/**
 * In-memory activities for tests whose point is the workflow itself (history shape, continue-as-new,
 * replay). They keep what they were asked to do so tests can assert on it.
 */
import type { Activities } from '../../activities';
import type { ProbeDecision, ProbeRead, Severity } from '../../domain';

export interface FakeWorld {
  probe: { successes: number; failures: number; inFreeze: boolean };
  calls: { name: string; args: unknown[] }[];
  notificationKeys: Set<string>;
  duplicateNotifications: number;
  saved: { severity: Severity; probePercent: number; lastProbe?: ProbeDecision; wakeOnProbeSuccess?: boolean; wakeOnProbeOutcome?: boolean }[];
  /** When set, readProbe answers from it (counter buckets included) instead of `probe`. */
  read?: (p: { since: number; now: number }) => ProbeRead;
}

export function fakeWorld(): FakeWorld {
  return { probe: { successes: 0, failures: 0, inFreeze: false }, calls: [], notificationKeys: new Set(), duplicateNotifications: 0, saved: [] };
}

export function fakeActivities(world: FakeWorld): Activities {
  const record = (name: string, args: unknown[]) => world.calls.push({ name, args });
  const once = (key: string) => {
    if (world.notificationKeys.has(key)) {
      world.duplicateNotifications += 1;
      return false;
    }
    world.notificationKeys.add(key);
    return true;
  };
  return {
    async detectFailingScopes(...args) {
      record('detectFailingScopes', args);
      return { failing: [], evaluated: 0 };
    },
    async openOrFeedDowntime(...args) {
      record('openOrFeedDowntime', args);
      return { action: 'signalled', downtimeId: 'none', superseded: [] };
    },
    async openDowntime(...args) {
      record('openDowntime', args);
      const { notify, page } = args[4];
      once(notify.key);
      if (page) once(`${page.downtimeId}:page:${page.n}`);
    },
    async scheduleDowntime(...args) {
      record('scheduleDowntime', args);
      once(args[1].key);
    },
    async cancelScheduled(...args) {
      record('cancelScheduled', args);
      once(args[1].key);
    },
    async remindOverdueReviews(...args) {
      record('remindOverdueReviews', args);
      return 0;
    },
    async remindReview(...args) {
      record('remindReview', args);
      return once(`${args[0].incidentId}:review-overdue`);
    },
    async notify(p) {
      record('notify', [p]);
      return once(p.key);
    },
    async announce(items) {
      record('announce', [items]);
      for (const a of items) {
        if (a.kind === 'notify') once(a.notice.key);
        else if (a.kind === 'page') once(`${a.page.downtimeId}:page:${a.page.n}`);
      }
    },
    async readProbe(...args) {
      record('readProbe', args);
      // The constant world counts nothing in the bucket of the look: a restart there starts from zero.
      return world.read ? world.read(args[0]) : { ...world.probe, bucketStart: args[0].now, inBucket: { successes: 0, failures: 0 } };
    },
    async saveDowntimeState(p) {
      record('saveDowntimeState', [p]);
      world.saved.push({ severity: p.severity, probePercent: p.probePercent, lastProbe: p.lastProbe, wakeOnProbeSuccess: p.wakeOnProbeSuccess, wakeOnProbeOutcome: p.wakeOnProbeOutcome });
    },
    async closeDowntime(...args) {
      record('closeDowntime', args);
    },
    async recordRecurrence(...args) {
      record('recordRecurrence', args);
      return { opened: false };
    },
  };
}
