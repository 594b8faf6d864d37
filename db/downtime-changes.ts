/**
 * The open downtimes' change token. Checkout re-reads the open downtimes every DOWNTIME_REFRESH,
 * and on FerretDB 1.24 a read costs about as much per document returned as a whole-collection
 * update does (docs/results/notes.md): with a thousand open it would take the database's whole
 * budget. So every write that changes what checkout reads of an open downtime (it opens or
 * closes, its probe share, severity or wake requests change) is followed by a new token, and the
 * snapshot reads the token (one small document) and the downtimes only when the token moved.
 *
 * Order makes it safe: writers write the downtime, then the token; the reader reads the token,
 * then the downtimes. A write the reader's downtime read missed ends after that read began, so
 * its token is written after the reader's token read, and the next poll sees a token it has not
 * seen. Tokens are random, so concurrent writers cannot restore one a reader has seen.
 */
import { randomUUID } from 'node:crypto';
import { isDuplicateKey } from './mongo';
import type { Database } from './mongo';

const ID = 'open' as const;

/** Marks the open downtimes changed. Call after the write. */
export async function markDowntimesChanged(db: Database): Promise<void> {
  const change = { $set: { token: randomUUID(), at: new Date() } };
  try {
    await db.c.downtimeChanges.updateOne({ _id: ID }, change, { upsert: true });
  } catch (err) {
    // Two first writers raced to create it: the other one did; change it now.
    if (!isDuplicateKey(err)) throw err;
    await db.c.downtimeChanges.updateOne({ _id: ID }, change);
  }
}

/** The current token; undefined before any write marked one (then readers must read the downtimes). */
export async function readDowntimesToken(db: Database): Promise<string | undefined> {
  return (await db.c.downtimeChanges.findOne({ _id: ID }))?.token;
}
