/**
 * The checkout's in-memory view of the world: open downtimes, the catalog and recent per-route
 * success rates, refreshed from MongoDB every SNAPSHOT_REFRESH. Requests read the last snapshot
 * and never wait on MongoDB or Temporal; a failed refresh keeps the previous snapshot and
 * records the error and since when it is stale.
 *
 * Between whole refreshes the open downtimes whose change stamps moved (db/downtime-changes.ts)
 * are re-read every DOWNTIME_REFRESH, so a disable, a probe share and a re-enable reach
 * checkout within that instead of within SNAPSHOT_REFRESH. The same tick reads when the catalog
 * was last written, and a catalog that changed brings the whole refresh forward: with several
 * API replicas, the one that took the write and the others answer alike within DOWNTIME_REFRESH.
 * The success rates (the window's counters, the costly read) keep the longer period. The
 * snapshot changes (a new generation) only when what was read differs.
 *
 * The status page's view (90 days of downtimes, open incidents and their timelines) is read on
 * the same loop, at most every STATUS_REFRESH_MS or when the set of open downtimes changes.
 */
import { NO_TOPOLOGY, Topology, bucketOf, modeOf, scopeMatchesRoute, topologyOf } from '../domain';
import { CheckoutPlan, CoverIndex, answerJson, buildCheckoutPlan } from './checkout-plan';
import type { PaymentOption, PaymentOptions } from './checkout-plan';
import type { DowntimeState, RouteCounter, Scope, Severity } from '../domain';
import type { Config } from '../common/config';
import type { CatalogDoc, Database, DowntimeDoc } from '../db/mongo';
import { readCounters } from '../db/queries';
import { changedDowntimes, readDowntimeStamps, stampSaysClosed } from '../db/downtime-changes';
import type { DowntimeStamps } from '../db/downtime-changes';
import type { Metrics } from './metrics';

export type CatalogEntry = CatalogDoc['methods'][number];

export interface Route {
  method: string;
  gateway: string;
}

/** An open downtime as the hot path needs it. */
export interface OpenDowntime {
  id: string;
  scope: Scope;
  scopeKey: string;
  severity: Severity;
  /** 'disabled' until the probe runs; an open downtime not yet disabled still counts for the status page. */
  state: DowntimeState;
  probePercent: number;
  openedAt: number;
  /** When it was hidden for bucket A; only disabled downtimes hide anything. */
  disabledAt?: number;
  lastProbeRate?: number;
  /** The actor asks for a probeSuccess signal on the next bucket-B success. */
  wakeOnProbeSuccess: boolean;
  /** The actor asks for a probeOutcome signal on the next bucket-B outcome. */
  wakeOnProbeOutcome: boolean;
}

export interface RouteRate {
  successes: number;
  systemFailures: number;
}

export type { PaymentOption, PaymentOptions };

/** A downtime of the last 90 days, for the status page's uptime bars. */
export interface HistoricDowntime {
  id: string;
  scope: Scope;
  openedAt: number;
  resolvedAt?: number;
}

export interface StatusIncident {
  id: string;
  title: string;
  severity: Severity;
  status: 'open' | 'resolved';
  openedAt: number;
  acknowledgedAt?: number;
  timeline: { at: number; kind: string; text: string }[];
}

/** A planned maintenance announced and not yet begun. */
export interface ScheduledMaintenance {
  id: string;
  scope: Scope;
  reason: string;
  startsAt: number;
  until?: number;
}

export interface StatusHistory {
  at: number;
  downtimes: HistoricDowntime[];
  incidents: StatusIncident[];
  maintenance: ScheduledMaintenance[];
}

export interface SnapshotData {
  /** When this snapshot was read; 0 before the first successful refresh. */
  at: number;
  /** Increases with every successful refresh, so derived views can cache on it. */
  generation: number;
  downtimes: OpenDowntime[];
  catalog: CatalogEntry[];
  /** The catalog's method attributes and gateway aggregators, which scopes beyond the route's fields match against. */
  topology: Topology;
  rates: Map<string, RouteRate>;
  history: StatusHistory;
}

export interface SnapshotDeps {
  db: Database;
  config: Config;
  metrics: Metrics;
  now: () => number;
  log?: { warn(obj: object, msg: string): void };
}

export const STATUS_HISTORY_DAYS = 90;
export const STATUS_REFRESH_MS = 30_000;

/**
 * The open downtimes are all read at least this often even when no change stamp moved: it
 * bounds how old the status page's last probe rate gets (a probe's figures alone do not move its
 * stamp) and how long a write made without moving it stays unseen.
 */
export const DOWNTIMES_FULL_READ_MS = 10_000;
/** The success rate assumed for a route with no recent attempts. */
export const BASELINE_RATE = 0.9;
/**
 * Share of a downtime's probe share that still pays through the covered gateway when the
 * method has a healthy one: without any probe traffic a failed-over gateway could only come
 * back on expiry, yet every probe attempt there is a payment the healthy gateway would have
 * carried, so failover probes cost a fifth of an ordinary probe.
 */
export const FAILOVER_PROBE_FRACTION = 0.2;
/** How many pseudo-attempts of the baseline a route's measured rate is blended with. */
const RATE_PRIOR_WEIGHT = 5;
const DAY_MS = 86_400_000;
const SEVERITIES: Severity[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];

export const routeKey = (method: string, gateway: string): string => `${method}@${gateway}`;

/** Each route's successes and system failures over `counters` (the window the snapshot reads). */
export function routeRates(counters: Iterable<RouteCounter>): Map<string, RouteRate> {
  const rates = new Map<string, RouteRate>();
  for (const c of counters) {
    const key = routeKey(c.method, c.gateway);
    const r = rates.get(key) ?? { successes: 0, systemFailures: 0 };
    r.successes += c.success ?? 0;
    r.systemFailures += c.systemFailure ?? 0;
    rates.set(key, r);
  }
  return rates;
}

/** A route's recent success rate blended with BASELINE_RATE, so a handful of attempts cannot swing it. */
export function blendedRate(successes: number, systemFailures: number): number {
  return (successes + BASELINE_RATE * RATE_PRIOR_WEIGHT) / (successes + systemFailures + RATE_PRIOR_WEIGHT);
}

function toOpenDowntime(d: DowntimeDoc): OpenDowntime {
  return {
    id: d._id,
    scope: d.scope,
    scopeKey: d.scopeKey,
    severity: d.severity,
    state: d.phase === 'probing' ? 'probing' : d.phase === 'resolved' ? 'resolved' : 'disabled',
    probePercent: d.probePercent,
    openedAt: d.openedAt.getTime(),
    disabledAt: d.disabledAt?.getTime(),
    lastProbeRate: probeRateOf(d),
    wakeOnProbeSuccess: d.wakeOnProbeSuccess === true,
    wakeOnProbeOutcome: d.wakeOnProbeOutcome === true,
  };
}

/** The fields of a downtime record the snapshot reads: what it reads every DOWNTIME_REFRESH is the small part of each record. */
const HOT_FIELDS = { _id: 1, status: 1, startsAt: 1, scope: 1, scopeKey: 1, severity: 1, phase: 1, probePercent: 1, openedAt: 1, disabledAt: 1, lastProbe: 1, wakeOnProbeSuccess: 1, wakeOnProbeOutcome: 1 } as const;

/** The records the snapshot keeps: open downtimes (checkout) and scheduled ones (the status page). */
const kept = (d: DowntimeDoc | null): d is DowntimeDoc => d !== null && (d.status === 'open' || d.status === 'scheduled');

/**
 * Changed downtimes beyond this many are read with one query rather than one lookup each: on
 * FerretDB a lookup by `_id` is an index search, and the query decodes every record.
 */
const MAX_LOOKUPS = 64;

/**
 * A query of every open record at most this often: in a wave of changes (a thousand downtimes
 * opening or escalating together) more than MAX_LOOKUPS move every DOWNTIME_REFRESH, and reading
 * them all each time kept the database busy decoding records. In between, MAX_LOOKUPS of them
 * are looked up per refresh, new and closed ones first (what checkout shows), the rest after.
 */
export const DOWNTIMES_WAVE_READ_MS = 1_000;

/**
 * The status page's history is read again when what is open changed, but at most this often:
 * it reads every recent record and their timelines, and a wave changes what is open on every
 * refresh for tens of seconds.
 */
export const STATUS_CHANGE_READ_MS = 5_000;

/** The open downtimes as the hot path needs them, oldest first (the first covering one decides a user's bucket). */
function openDowntimesOf(docs: Iterable<DowntimeDoc>): OpenDowntime[] {
  const open: OpenDowntime[] = [];
  for (const d of docs) if (d.status === 'open') open.push(toOpenDowntime(d));
  return open.sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
}

/** The scheduled maintenance the status page lists, soonest first. */
function scheduledIdsOf(docs: Iterable<DowntimeDoc>): string[] {
  const scheduled = [...docs].filter((d) => d.status === 'scheduled');
  scheduled.sort((a, b) => (a.startsAt?.getTime() ?? 0) - (b.startsAt?.getTime() ?? 0) || a._id.localeCompare(b._id));
  return scheduled.slice(0, 50).map((d) => d._id);
}

/** The success rate the last probe saw, when it saw any samples. */
function probeRateOf(d: DowntimeDoc): number | undefined {
  const p = d.lastProbe;
  return p && p.samples > 0 ? p.successes / p.samples : undefined;
}

const emptyHistory = (): StatusHistory => ({ at: 0, downtimes: [], incidents: [], maintenance: [] });

const probeWarning = (method: string) => `${method} is having trouble; your payment may fail`;

export class Snapshot {
  private data: SnapshotData = { at: 0, generation: 0, downtimes: [], catalog: [], topology: NO_TOPOLOGY, rates: new Map(), history: emptyHistory() };
  /** The checkout plan of `data`; rebuilt on first use after a refresh. */
  private plan: { data: SnapshotData; plan: CheckoutPlan } | undefined;
  /**
   * The cover index of `data`'s downtimes and topology, kept across refreshes while what it
   * depends on (which downtimes are open, their shares and when they were disabled, the
   * topology) stays the same: a probe's outcome changes the downtimes' records every few
   * seconds, and a whole refresh re-reads the catalog every second, without changing what they cover.
   */
  private cover: { downtimes: OpenDowntime[]; topology: Topology; key: string; index: CoverIndex<OpenDowntime> } | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The open and scheduled downtimes as last read, the change stamps they were read under, and when all were last read. */
  private known: { docs: Map<string, DowntimeDoc>; stamps: DowntimeStamps; wholeAt: number } | undefined;
  /** When the last whole refresh started (epoch ms), failed or not. */
  private lastWholeAt = 0;
  /** The catalog's `updatedAt` (epoch ms) as the last whole refresh read it; undefined before any, null with no catalog. */
  private catalogAt: number | null | undefined;
  private inFlight: Promise<SnapshotData> | undefined;
  private queued: Promise<SnapshotData> | undefined;
  /** What was open and scheduled when the status history was read; undefined forces a read. */
  private historyKey: { open: string; scheduled: string } | undefined;
  /** The last refresh error, cleared by the next successful refresh. */
  lastError: string | undefined;
  /** When refreshes started failing (epoch ms); undefined while fresh. */
  staleSince: number | undefined;

  constructor(private readonly deps: SnapshotDeps) {}

  get current(): SnapshotData {
    return this.data;
  }

  /** Reads once (errors are recorded, not thrown), then refreshes every SNAPSHOT_REFRESH and re-reads the open downtimes every DOWNTIME_REFRESH. */
  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.deps.config.downtimeRefreshMs);
    this.timer.unref();
    await this.refreshNow();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.queued;
    await this.inFlight;
  }

  /**
   * Refreshes now and resolves with the snapshot in use; never throws. A refresh already running
   * may have read before the caller's write, so a new one follows it (callers share that one).
   */
  refreshNow(): Promise<SnapshotData> {
    if (this.inFlight) {
      this.queued ??= this.inFlight.then(() => {
        this.queued = undefined;
        return this.refreshNow();
      });
      return this.queued;
    }
    return this.run(() => this.refresh(true));
  }

  /** One read at a time, whole or downtimes only, so an older read never replaces a newer one. */
  private run(read: () => Promise<SnapshotData>): Promise<SnapshotData> {
    this.inFlight = read().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * The periodic refresh, skipped while a read is still running: the whole snapshot once
   * SNAPSHOT_REFRESH has passed since the last whole refresh (within half a tick, so the ticks'
   * jitter does not push it a whole tick later), the open downtimes alone in between.
   */
  private tick(): void {
    if (this.inFlight) return;
    const { snapshotRefreshMs, downtimeRefreshMs } = this.deps.config;
    if (this.deps.now() - this.lastWholeAt >= snapshotRefreshMs - downtimeRefreshMs / 2) void this.run(() => this.refresh(false));
    else void this.run(() => this.refreshDowntimes());
  }

  /**
   * Re-reads the open downtimes only; a new snapshot generation when they differ from the
   * snapshot's. A failed read changes nothing: the whole refresh records errors and staleness.
   */
  private async refreshDowntimes(): Promise<SnapshotData> {
    try {
      const [downtimes, catalog] = await Promise.all([this.readDowntimes(false), this.deps.db.c.catalog.findOne({ _id: 'catalog' }, { projection: { updatedAt: 1 } })]);
      // Another replica took a catalog write: read everything now rather than at the next whole refresh.
      if ((catalog?.updatedAt.getTime() ?? null) !== this.catalogAt) return await this.refresh(false);
      if (downtimes && JSON.stringify(downtimes) !== JSON.stringify(this.data.downtimes)) {
        this.data = { ...this.data, generation: this.data.generation + 1, downtimes };
        this.countOpen(downtimes);
      }
    } catch {
      // Kept as it was; the next whole refresh reports a database that cannot be read.
    }
    return this.data;
  }

  private countOpen(downtimes: OpenDowntime[]): void {
    this.deps.metrics.openDowntimes.reset();
    for (const s of SEVERITIES) this.deps.metrics.openDowntimes.set({ severity: s }, downtimes.filter((d) => d.severity === s).length);
  }

  /** Refreshes the status history on the next refresh regardless of its age. */
  invalidateHistory(): void {
    this.historyKey = undefined;
  }

  /** A whole refresh; `forced` (a caller's own write may be in the downtimes) reads all open downtimes whatever their change stamps say. */
  private async refresh(forced: boolean): Promise<SnapshotData> {
    const { db, config, now } = this.deps;
    this.lastWholeAt = now();
    try {
      const at = now();
      const from = Math.floor((at - config.detection.windowMs) / config.detection.counterBucketMs) * config.detection.counterBucketMs;
      const [read, catalog, counters] = await Promise.all([this.readDowntimes(forced), db.c.catalog.findOne({ _id: 'catalog' }), readCounters(db, from, at)]);
      const downtimes = read ?? this.data.downtimes;
      // Scheduled maintenance shows on the status page as soon as it is announced or called off.
      const scheduled = scheduledIdsOf(this.known?.docs.values() ?? []);
      const rates = routeRates(counters);
      const shown = { open: downtimes.map((d) => `${d.id}:${d.severity}:${d.disabledAt ?? ''}`).join(','), scheduled: scheduled.join(',') };
      let history = this.data.history;
      const age = at - history.at;
      // Maintenance announced or called off shows at once; a change to what is open within STATUS_CHANGE_READ_MS.
      const due = this.historyKey === undefined || age >= STATUS_REFRESH_MS || shown.scheduled !== this.historyKey.scheduled || (shown.open !== this.historyKey.open && age >= STATUS_CHANGE_READ_MS);
      if (due) {
        // The status page's history is secondary: failing to read it keeps the previous one
        // and must not make the checkout's snapshot stale.
        try {
          history = await this.readHistory(at);
          this.historyKey = shown;
        } catch (err) {
          this.deps.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'status history refresh failed; keeping the previous one');
        }
      }
      this.data = { at, generation: this.data.generation + 1, downtimes, catalog: catalog?.methods ?? [], topology: topologyOf(catalog ?? { methods: [] }), rates, history };
      this.catalogAt = catalog?.updatedAt.getTime() ?? null;
      this.lastError = undefined;
      this.staleSince = undefined;
      this.countOpen(downtimes);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.lastError === undefined) this.deps.log?.warn({ err: message }, 'snapshot refresh failed; serving the previous snapshot');
      this.lastError = message;
      this.staleSince ??= now();
    }
    return this.data;
  }

  /**
   * The open downtimes, or undefined when no change stamp (db/downtime-changes.ts) moved since the
   * last read. The stamps are read first, then the records whose stamps moved, each by `_id`; all
   * records are read when `forced`, when more than MAX_LOOKUPS moved, and at least every
   * DOWNTIMES_FULL_READ_MS.
   */
  private async readDowntimes(forced: boolean): Promise<OpenDowntime[] | undefined> {
    const { db, now } = this.deps;
    const at = now();
    const stamps = await readDowntimeStamps(db);
    const known = this.known;
    if (!forced && known && at - known.wholeAt < DOWNTIMES_FULL_READ_MS) {
      const changed = changedDowntimes(known.stamps, stamps);
      if (changed.length === 0) return undefined;
      const wave = changed.length > MAX_LOOKUPS;
      if (!wave || at - known.wholeAt < DOWNTIMES_WAVE_READ_MS) {
        // New and closed downtimes first: they change what checkout shows; the others a share or a severity.
        const urgent = (id: string) => !known.docs.has(id) || stampSaysClosed(stamps.get(id)!);
        const first = wave ? [...changed.filter(urgent), ...changed.filter((id) => !urgent(id))].slice(0, MAX_LOOKUPS) : changed;
        const docs = await Promise.all(first.map((id) => db.c.downtimes.findOne({ _id: id }, { projection: HOT_FIELDS })));
        first.forEach((id, i) => {
          const d = docs[i] ?? null;
          if (kept(d)) known.docs.set(id, d);
          else known.docs.delete(id);
          known.stamps.set(id, stamps.get(id)!);
        });
        for (const id of known.stamps.keys()) if (!stamps.has(id)) known.stamps.delete(id);
        return openDowntimesOf(known.docs.values());
      }
    }
    const docs = await db.c.downtimes.find({ status: { $in: ['open', 'scheduled'] } }, { projection: HOT_FIELDS }).toArray();
    this.known = { docs: new Map(docs.map((d) => [d._id, d])), stamps, wholeAt: at };
    return openDowntimesOf(docs);
  }

  private async readHistory(at: number): Promise<StatusHistory> {
    const { db } = this.deps;
    const since = new Date(at - STATUS_HISTORY_DAYS * DAY_MS);
    const [downtimes, incidents, scheduled] = await Promise.all([
      db.c.downtimes
        .find({ $or: [{ status: 'open' }, { resolvedAt: { $gte: since } }] }, { projection: { _id: 1, scope: 1, openedAt: 1, resolvedAt: 1 } })
        .toArray(),
      db.c.incidents
        .find({ $or: [{ status: 'open' }, { resolvedAt: { $gte: new Date(at - 7 * DAY_MS) } }] })
        .sort({ openedAt: -1 })
        .limit(50)
        .toArray(),
      db.c.downtimes.find({ status: 'scheduled' }, { projection: { _id: 1, scope: 1, reason: 1, startsAt: 1, until: 1 } }).sort({ startsAt: 1 }).limit(50).toArray(),
    ]);
    const ids = incidents.map((i) => i._id);
    const entries = ids.length ? await db.c.timeline.find({ incidentId: { $in: ids } }).sort({ at: 1 }).toArray() : [];
    return {
      at,
      downtimes: downtimes.map((d) => ({ id: d._id, scope: d.scope, openedAt: d.openedAt.getTime(), resolvedAt: d.resolvedAt?.getTime() })),
      maintenance: scheduled.map((d) => ({ id: d._id, scope: d.scope, reason: d.reason, startsAt: (d.startsAt ?? new Date(at)).getTime(), until: d.until?.getTime() })),
      incidents: incidents.map((i) => ({
        id: i._id,
        title: i.title,
        severity: i.severity,
        status: i.status,
        openedAt: i.openedAt.getTime(),
        acknowledgedAt: i.acknowledgedAt?.getTime(),
        timeline: entries.filter((e) => e.incidentId === i._id).map((e) => ({ at: e.at.getTime(), kind: e.kind, text: e.text })),
      })),
    };
  }

  /** Age of the snapshot in ms (Infinity before the first successful refresh). */
  ageMs(): number {
    return this.data.at ? this.deps.now() - this.data.at : Infinity;
  }

  /**
   * The open, disabled downtimes whose scope covers the route at time `at` (default: now),
   * oldest first. The first one decides a user's bucket, at checkout and at ingest alike.
   */
  coveringDowntimes(route: Route, at?: number): readonly OpenDowntime[] {
    return this.coverIndex().covering(route, at);
  }

  private coverIndex(): CoverIndex<OpenDowntime> {
    const { downtimes, topology } = this.data;
    if (this.cover?.downtimes === downtimes && this.cover.topology === topology) return this.cover.index;
    const key = `${downtimes.map((d) => `${d.id}:${d.probePercent}:${d.disabledAt ?? ''}`).join(',')}|${JSON.stringify(topology)}`;
    const index = this.cover?.key === key ? this.cover.index : new CoverIndex(downtimes, topology);
    this.cover = { downtimes, topology, key, index };
    return index;
  }

  /** The route's recent success rate, blended with the baseline so a handful of attempts cannot swing it. */
  successRate(route: Route): { rate: number; attempts: number } {
    const r = this.data.rates.get(routeKey(route.method, route.gateway));
    return { rate: blendedRate(r?.successes ?? 0, r?.systemFailures ?? 0), attempts: r ? r.successes + r.systemFailures : 0 };
  }

  /**
   * What to show one user, as the JSON the API answers: the checkout plan (rebuilt when the
   * snapshot changes) with this user's bucket tests applied. The same answer as optionsFor.
   */
  optionsJson(userId: string): string {
    if (this.plan?.data !== this.data) {
      this.plan = {
        data: this.data,
        plan: buildCheckoutPlan(this.data.catalog, this.coverIndex(), {
          failoverProbeFraction: FAILOVER_PROBE_FRACTION,
          warning: probeWarning,
          rate: (route) => this.successRate(route).rate,
        }),
      };
    }
    return answerJson(this.plan.plan, userId);
  }

  /**
   * What to show one user, worked out directly from the snapshot (every downtime against every
   * route, one bucket hash per decision): gateway failover (a share of bucket B still probes the
   * covered first gateway), bucket A hidden, bucket B probe, dynamic order. The definition the
   * checkout plan's answers are tested against.
   */
  optionsFor(userId: string): PaymentOptions {
    const { data } = this;
    const covering = (route: Route) =>
      data.downtimes.filter((d) => d.disabledAt !== undefined && scopeMatchesRoute(d.scope, route, data.topology));
    const shown: { option: PaymentOption; score: number; order: number }[] = [];
    const unavailable: PaymentOptions['unavailable'] = [];
    data.catalog.forEach((entry, order) => {
      const mode = modeOf(entry.method);
      const first = entry.gateways[0]!;
      const probe: PaymentOption = { method: entry.method, mode, gateway: first, state: 'probe', warning: probeWarning(entry.method) };
      const healthy = entry.gateways.find((gateway) => covering({ method: entry.method, gateway }).length === 0);
      if (healthy !== undefined) {
        const score = (entry.priority ?? 0) + 10 * this.successRate({ method: entry.method, gateway: healthy }).rate;
        const cover = first === healthy ? undefined : covering({ method: entry.method, gateway: first })[0];
        const probes = cover !== undefined && bucketOf(userId, cover.id, cover.probePercent * FAILOVER_PROBE_FRACTION) === 'B';
        shown.push({ option: probes ? probe : { method: entry.method, mode, gateway: healthy, state: 'available' }, score, order });
        return;
      }
      const cover = covering({ method: entry.method, gateway: first })[0]!;
      if (bucketOf(userId, cover.id, cover.probePercent) === 'B') shown.push({ option: probe, score: -Infinity, order });
      else unavailable.push({ method: entry.method, downtimeId: cover.id });
    });
    shown.sort((a, b) => (a.score === b.score ? a.order - b.order : b.score - a.score));
    return { options: shown.map((s) => s.option), unavailable };
  }
}
