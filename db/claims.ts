/**
 * Turns that one process takes once, whatever the number of processes: the primitive under the
 * dispatcher's claim of a delivery and the API's wake of an actor.
 *
 * A turn is the insert of a document whose `_id` names it: `${key}#${generation}`. The server
 * refuses the second insert of an id, which is atomic on every MongoDB-wire server. A filtered
 * update or a findAndModify is not enough on its own: FerretDB 1.x runs them as a read and then a
 * write, so two processes can both find the document unclaimed and both "win" it. The caller
 * keeps the generation in its own document and moves it on only after winning, so a turn that
 * was taken cannot be taken again and the next one is open to everybody.
 */
import { Database, isDuplicateKey } from './mongo';

/** True when this call took turn `generation` of `key`; false when another process already had. */
export async function takeTurn(db: Database, key: string, generation: number, now: number): Promise<boolean> {
  try {
    await db.c.claims.insertOne({ _id: `${key}#${generation}`, at: new Date(now) });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}
