/**
 * Which open downtimes changed, so that checkout re-reads those and not all of them. Checkout
 * looks for changes every DOWNTIME_REFRESH, and on FerretDB 1.24 any query but a lookup by `_id`
 * decodes every record (docs/results/notes.md): re-reading a thousand open downtimes whenever one
 * of them changed would take the database's whole budget.
 *
 * Every write that changes what checkout reads of a downtime (it opens or closes, its probe share,
 * severity or wake requests change) is followed by a new random stamp for that downtime in this
 * process's document of `downtime_changes`. A reader reads those documents (a few, one per
 * writing process), and re-reads by `_id` each downtime whose stamps differ from the ones it saw.
 *
 * Order makes it safe: writers write the downtime, then its stamp; the reader reads the stamps,
 * then the downtimes. A write the reader's read missed ended after that read began, so its stamp
 * was written after the reader read the stamps, and the next read sees a stamp it has not seen.
 *
 * Each process writes only its own document, whole, from what it holds in memory (its times are
 * the process's wall clock: bookkeeping, not a decision): no two writers change one document, so
 * no change is lost even where the server applies an update as read-modify-write without
 * isolation (FerretDB on SQLite). A stamp of a downtime closed a minute ago is dropped; documents
 * no process wrote for an hour are deleted. Losing a document loses no change: a stamp missing is
 * not a stamp changed, and readers still re-read everything every DOWNTIMES_FULL_READ_MS
 * (api/snapshot.ts).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database, DowntimeChangeDoc } from './mongo';

/** How long a closed downtime's stamp stays: readers poll far more often than this. */
const CLOSED_KEPT_MS = 60_000;
/** A writer's document not written for this long belongs to a process that is gone. */
const ABANDONED_MS = 3_600_000;

interface Entry {
  stamp: string;
  closedAt?: number;
}

/** One process's stamps and its single-flight writes of them. */
class ChangeWriter {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly entries = new Map<string, Entry>();
  /** The next write, not begun yet: marks made now are in it. */
  private next: Promise<void> | undefined;
  private current: Promise<void> = Promise.resolve();
  private lastSweep = 0;

  constructor(private readonly db: Database) {}

  mark(downtimeId: string, closed: boolean): Promise<void> {
    this.entries.set(downtimeId, { stamp: randomBytes(4).toString('hex'), ...(closed ? { closedAt: Date.now() } : {}) });
    this.next ??= this.current
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        this.current = this.write(Date.now());
        return this.current;
      });
    return this.next;
  }

  private async write(now: number): Promise<void> {
    const parts: string[] = [];
    for (const [id, e] of this.entries) {
      if (e.closedAt !== undefined && now - e.closedAt > CLOSED_KEPT_MS) this.entries.delete(id);
      else parts.push(e.closedAt === undefined ? `${id}=${e.stamp}` : `${id}=${e.stamp}=${e.closedAt}`);
    }
    // One string, not a field per downtime: it decodes far faster than a thousand fields.
    const doc: DowntimeChangeDoc = { _id: this.id, at: new Date(now), stamps: parts.join(' ') };
    await this.db.c.downtimeChanges.replaceOne({ _id: this.id }, doc, { upsert: true });
    if (now - this.lastSweep > ABANDONED_MS / 4) {
      this.lastSweep = now;
      await this.db.c.downtimeChanges.deleteMany({ at: { $lt: new Date(now - ABANDONED_MS) } });
    }
  }
}

const writers = new WeakMap<Database, ChangeWriter>();

/**
 * Marks what checkout reads of a downtime changed (`closed`: it closed or was called off). Call
 * after the write; resolves once the mark is stored. Concurrent marks share one write.
 */
export function markDowntimeChanged(db: Database, downtimeId: string, opts: { closed?: boolean } = {}): Promise<void> {
  let writer = writers.get(db);
  if (!writer) {
    writer = new ChangeWriter(db);
    writers.set(db, writer);
  }
  return writer.mark(downtimeId, opts.closed === true);
}

/** Every downtime's stamps as a reader compares them: the same string while nothing changed it. */
export type DowntimeStamps = Map<string, string>;

/** The stamps of every writer, by downtime. */
export async function readDowntimeStamps(db: Database): Promise<DowntimeStamps> {
  const docs = await db.c.downtimeChanges.find({}).toArray();
  docs.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  const stamps: DowntimeStamps = new Map();
  for (const doc of docs) {
    if (typeof doc.stamps !== 'string' || doc.stamps === '') continue;
    for (const part of doc.stamps.split(' ')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const id = part.slice(0, eq);
      const stamp = `${doc._id}/${part.slice(eq + 1)}`;
      const seen = stamps.get(id);
      stamps.set(id, seen === undefined ? stamp : `${seen} ${stamp}`);
    }
  }
  return stamps;
}

/** Does a downtime's stamp (as `readDowntimeStamps` gives it) say a writer marked it closed? */
export const stampSaysClosed = (stamp: string): boolean => stamp.includes('=');

/** The downtimes whose stamps differ from `seen` (new ones included; one whose stamps vanished is not a change). */
export function changedDowntimes(seen: DowntimeStamps, now: DowntimeStamps): string[] {
  const changed: string[] = [];
  for (const [id, stamp] of now) if (seen.get(id) !== stamp) changed.push(id);
  return changed;
}
