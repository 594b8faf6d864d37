/** The probe's read: bucket B's outcomes of a downtime's scope, and whether a freeze window is on. */
import type { ProbeRead, Scope } from '../domain';
import { windowedProbe } from '../domain';
import { readActiveFreeze, readCounters, readTopology } from '../db/queries';
import type { ActivityDeps } from './deps';

export function probeActivities(deps: Pick<ActivityDeps, 'db' | 'config'>) {
  const { db, config } = deps;
  return {
    /**
     * Bucket-B outcomes for the scope from the counter bucket holding `since` to now, and whether a
     * freeze window is active. Also the start of the counter bucket holding `now` and the outcomes
     * in it so far: a test restarted there, less those, counts every later outcome once and loses none.
     */
    async readProbe(p: { scope: Scope; since: number; now: number }): Promise<ProbeRead> {
      const bucketMs = config.detection.counterBucketMs;
      const from = p.since - bucketMs + 1;
      const [counters, topo] = await Promise.all([readCounters(db, from, p.now), readTopology(db)]);
      const probe = windowedProbe(counters, p.scope, from, p.now, topo);
      const bucketStart = Math.floor(p.now / bucketMs) * bucketMs;
      const inBucket = windowedProbe(counters, p.scope, bucketStart, p.now, topo);
      const freeze = await readActiveFreeze(db, p.now);
      return { ...probe, inFreeze: freeze !== undefined, bucketStart, inBucket };
    },
  };
}
