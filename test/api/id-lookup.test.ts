/**
 * The embedded database serves a lookup by `_id` from an index. FerretDB 1.24's SQLite backend
 * indexes `_id` under an expression its own lookups never use, so without the index its wrapper
 * adds (tools/ferretdb/idindex.go) every save of an actor's record parses every record. The plan
 * is read from the data file by SQLite itself (Python's sqlite3): FerretDB's explain runs on
 * pooled connections that keep the schema they first read, and would not show an index added
 * after them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, Database } from '../../db/mongo';
import { freePort, RunningServer, startMongoWireServer } from '../../scripts/local-servers';

let server: RunningServer;
let db: Database;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'id-lookup-'));
  server = await startMongoWireServer({ port: await freePort(), dataDir: join(dir, 'db'), logFile: join(dir, 'server.log') });
  db = await connectDatabase(server.address, 'id_lookup');
});
afterAll(async () => {
  await db?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** SQLite's plan for the statement FerretDB runs for a find, update or delete by `_id` alone. */
function ferretLookupPlan(file: string, table: string): string {
  const script = [
    'import sqlite3, sys',
    "c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)",
    `rows = c.execute("EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM \\"" + sys.argv[2] + "\\" WHERE _ferretdb_sjson->'$._id' = ?", ['"x"']).fetchall()`,
    "print(' | '.join(r[3] for r in rows))",
  ].join('\n');
  const res = spawnSync('python3', ['-c', script, file, table], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`reading the plan failed: ${res.stderr}`);
  return res.stdout.trim();
}

function ferretTable(file: string, collection: string): string {
  const res = spawnSync('python3', ['-c', "import sqlite3, sys; c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True); print(c.execute('SELECT table_name FROM _ferretdb_collections WHERE name = ?', [sys.argv[2]]).fetchone()[0])", file, collection], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`reading FerretDB's metadata failed: ${res.stderr}`);
  return res.stdout.trim();
}

test('a collection created while the database runs has its lookups by _id served from an index', async () => {
  const things = db.db.collection<{ _id: string; n: number }>('things');
  await things.insertMany(Array.from({ length: 200 }, (_, n) => ({ _id: `thing-${n}`, n })));

  if (server.name !== 'ferretdb') {
    const plan = JSON.stringify((await things.find({ _id: 'thing-7' }).explain()).queryPlanner);
    expect(plan).toMatch(/IDHACK|IXSCAN|EXPRESS_IXSCAN/);
    return;
  }
  const file = join(dir, 'db', readdirSync(join(dir, 'db')).find((f) => f.startsWith('id_lookup'))!);
  const table = ferretTable(file, 'things');
  let plan = ferretLookupPlan(file, table);
  for (let i = 0; i < 100 && !plan.includes('USING INDEX'); i += 1) {
    await new Promise((r) => setTimeout(r, 100));
    plan = ferretLookupPlan(file, table);
  }
  expect(plan).toBe(`SEARCH ${table} USING INDEX ${table}_id_lookup (<expr>=?)`);
  // The index changes how a document is found, not what is found.
  await things.updateOne({ _id: 'thing-7' }, { $set: { n: -7 } });
  expect(await things.findOne({ _id: 'thing-7' })).toEqual({ _id: 'thing-7', n: -7 });
  expect(await things.countDocuments({})).toBe(200);
});
