/**
 * The probe's read: bucket B's outcomes of a downtime's scope, and whether a freeze window is on.
 *
 * A thousand open downtimes each look every PROBE_INTERVAL. Read one by one, every look would
 * read the counters, the catalog and the freeze windows itself, and on a database that scans a
 * collection per query (FerretDB 1.24) that is the worker's and the database's whole budget. So
 * looks share reads: one read is in flight at a time, and the looks that asked while it ran are
 * served together by the next one, which begins after every one of them asked. A look never gets
 * data older than its request (a look woken by a probe outcome finds that outcome), and the reads
 * per second fall as the looks per second rise.
 */
import type { FreezeWindowDoc } from '../db/mongo';
import type { ProbeCounts, ProbeRead, RouteCounter, Scope, Topology } from '../domain';
import { scopeMatchesRoute, windowedProbe } from '../domain';
import { activeFreezeAt, readCounters, readFreezeWindows, readTopology } from '../db/queries';
import type { ActivityDeps } from './deps';

/** What a look asks for: the outcomes from `from` to `now`. */
interface LookRequest {
  from: number;
  now: number;
}

/** One read for many looks: the counters of the union of their windows, the topology, the freeze windows. */
export class SharedProbeRead {
  private readonly byRoute = new Map<string, { route: { method: string; gateway: string }; counters: RouteCounter[] }>();

  constructor(
    counters: readonly RouteCounter[],
    readonly topo: Topology,
    private readonly freezeWindows: readonly FreezeWindowDoc[],
  ) {
    for (const c of counters) {
      const key = `${c.method}@${c.gateway}`;
      const entry = this.byRoute.get(key);
      if (entry) entry.counters.push(c);
      else this.byRoute.set(key, { route: { method: c.method, gateway: c.gateway }, counters: [c] });
    }
  }

  /** Bucket B's outcomes on the scope's routes in buckets starting in [since, now] (windowedProbe over the routes the scope covers). */
  outcomes(scope: Scope, since: number, now: number): ProbeCounts {
    const total = { successes: 0, failures: 0 };
    for (const { route, counters } of this.byRoute.values()) {
      if (!scopeMatchesRoute(scope, route, this.topo)) continue;
      const c = windowedProbe(counters, scope, since, now, this.topo);
      total.successes += c.successes;
      total.failures += c.failures;
    }
    return total;
  }

  inFreeze(now: number): boolean {
    return activeFreezeAt(this.freezeWindows, now) !== undefined;
  }
}

/**
 * Serves look requests with shared reads: at most one read in flight; the requests that arrive
 * meanwhile wait for the next, which covers all their windows. A failed read fails the requests it
 * was for (their activities are retried), not later ones.
 */
export class ProbeReadQueue {
  private waiting: { req: LookRequest; resolve(r: SharedProbeRead): void; reject(e: unknown): void }[] = [];
  private running = false;

  constructor(private readonly read: (from: number, to: number) => Promise<SharedProbeRead>) {}

  get(req: LookRequest): Promise<SharedProbeRead> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ req, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0);
      const from = Math.min(...batch.map((w) => w.req.from));
      const to = Math.max(...batch.map((w) => w.req.now));
      try {
        const shared = await this.read(from, to);
        for (const w of batch) w.resolve(shared);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.running = false;
  }
}

export function probeActivities(deps: Pick<ActivityDeps, 'db' | 'config' | 'metrics' | 'now'>) {
  const { db, config, metrics } = deps;
  const queue = new ProbeReadQueue(async (from, to) => {
    metrics?.probeDbReads.inc();
    const [counters, topo, freezeWindows] = await Promise.all([readCounters(db, from, to), readTopology(db), readFreezeWindows(db, from, to)]);
    return new SharedProbeRead(counters, topo, freezeWindows);
  });
  return {
    /**
     * Bucket-B outcomes for the scope from the counter bucket holding `since` to now, and whether a
     * freeze window is active. Also the start of the counter bucket holding `now` and the outcomes
     * in it so far: a test restarted there, less those, counts every later outcome once and loses none.
     * `dueAt`, when the look was called by its timer, is when it was due: its lateness is measured.
     */
    async readProbe(p: { scope: Scope; since: number; now: number; dueAt?: number }): Promise<ProbeRead> {
      if (p.dueAt !== undefined) metrics?.probeLag.observe(Math.max(0, deps.now() - p.dueAt) / 1000);
      metrics?.probeReads.inc();
      const bucketMs = config.detection.counterBucketMs;
      const from = p.since - bucketMs + 1;
      const shared = await queue.get({ from, now: p.now });
      const bucketStart = Math.floor(p.now / bucketMs) * bucketMs;
      return { ...shared.outcomes(p.scope, from, p.now), inFreeze: shared.inFreeze(p.now), bucketStart, inBucket: shared.outcomes(p.scope, bucketStart, p.now) };
    },
  };
}
