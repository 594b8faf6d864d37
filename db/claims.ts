/**
 * Turns that one process takes once, whatever the number of processes: the primitive under the
 * dispatcher's claim of a delivery and the API's wake of an actor.
 *
 * A turn is the insert of a document whose `_id` names it: `${key}#${turn}`. The server refuses
 * the second insert of an id, which is atomic on every MongoDB-wire server. A filtered update or
 * a findAndModify is not enough on its own: FerretDB 1.x runs them as a read and then a write, so
 * two processes can both find a document unclaimed and both "win" it. The caller keeps the turn
 * it reached in a document of its own and moves it on only after winning, so a turn that was
 * taken cannot be taken again and the next one is open to everybody.
 */
import { Database, isDuplicateKey } from './mongo';

/** True when this call took turn `turn` of `key`; false when another process already had. */
export async function takeTurn(db: Database, key: string, turn: number, now: number): Promise<boolean> {
  try {
    await db.c.claims.insertOne({ _id: `${key}#${turn}`, at: new Date(now) });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/**
 * Takes turn `from` of `key`, or, when that turn was taken more than `abandonedAfterMs` ago by a
 * process that never moved the caller's document past it (it died in between), the next one.
 * Resolves to the turn taken, or undefined when another process holds the current one.
 */
export async function takeNextTurn(db: Database, key: string, from: number, now: number, abandonedAfterMs: number): Promise<number | undefined> {
  for (let turn = from; ; turn += 1) {
    if (await takeTurn(db, key, turn, now)) return turn;
    const taken = await db.c.claims.findOne({ _id: `${key}#${turn}` });
    if (taken === null || taken.at.getTime() > now - abandonedAfterMs) return undefined;
  }
}

/**
 * Once across every process per `gapMs`: true for the one caller that takes `key`'s next turn when
 * no turn of it was taken within the gap. The turn reached is kept in a document `_id: key` of
 * the same collection.
 */
export async function oncePerGap(db: Database, key: string, now: number, gapMs: number): Promise<boolean> {
  const latest = await db.c.claims.findOne({ _id: key });
  if (latest && latest.at.getTime() > now - gapMs) return false;
  const turn = await takeNextTurn(db, key, latest ? (latest.turn ?? 0) + 1 : 0, now, gapMs);
  if (turn === undefined) return false;
  await db.c.claims.updateOne({ _id: key }, { $set: { at: new Date(now), turn } }, { upsert: true });
  return true;
}
