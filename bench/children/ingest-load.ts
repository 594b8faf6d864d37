/**
 * The ingest load, in a process of its own: sends pre-generated batches with N concurrent senders
 * either to POST /v1/transactions (mode "api") or, as the baseline, straight into MongoDB with
 * insertMany of the same documents in the shape the transactions collection stores (mode "raw").
 * Batches are generated before the clock starts. Input (argv[2], JSON): IngestLoadInput.
 * Prints one JSON line: IngestLoadResult.
 */
import { MongoClient } from 'mongodb';
import { DEFAULT_USER_ERROR_CODES } from '../../domain';
import type { TransactionDoc } from '../../db/mongo';
import { attempts, rng, storedDoc } from '../workload';
import type { Attempt, Route } from '../workload';

export interface IngestLoadInput {
  mode: 'api' | 'raw';
  /** API base URL and ingest key (mode api). */
  url?: string;
  key?: string;
  /** Server and database of the baseline (mode raw). */
  mongoUri?: string;
  db?: string;
  routes: Route[];
  batches: number;
  batchSize: number;
  concurrency: number;
  /** Unique per run: the ids' prefix. */
  tag: string;
  /** `at` falls uniformly in the last `spreadMs` before generation. */
  spreadMs: number;
}

export interface IngestLoadResult {
  mode: 'api' | 'raw';
  transactions: number;
  seconds: number;
  perSecond: number;
  batchMs: { p50: number; p99: number; max: number };
  /** Batches the API answered with something other than 202 (sent again, up to 5 times). */
  retries: number;
  statuses: Record<string, number>;
  accepted: number;
}


/** A request that takes longer than this means the database stopped answering. */
const STALL_MS = 60_000;

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]! : NaN;
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '{}') as IngestLoadInput;
  const random = rng(o.tag.length * 7919 + o.batches);
  const now = Date.now();
  const batches = Array.from({ length: o.batches }, (_, b) => attempts(o.routes, o.batchSize, o.tag, now - o.spreadMs, now, random, b * o.batchSize));
  const userCodes = new Set(DEFAULT_USER_ERROR_CODES);
  const statuses: Record<string, number> = {};
  const batchMs: number[] = [];
  let retries = 0;
  let accepted = 0;

  let send: (batch: Attempt[], b: number) => Promise<void>;
  let close = async () => undefined as void;
  if (o.mode === 'api') {
    const bodies = batches.map((transactions) => JSON.stringify({ transactions }));
    send = async (_batch, b) => {
      for (let attempt = 1; ; attempt += 1) {
        const res = await fetch(`${o.url!}/v1/transactions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${o.key!}`, 'content-type': 'application/json' },
          body: bodies[b],
          signal: AbortSignal.timeout(STALL_MS),
        }).catch((err: unknown) => {
          if (err instanceof Error && err.name === 'TimeoutError') {
            throw new Error(`POST /v1/transactions did not answer within ${STALL_MS / 1000} s: the API or the database stopped answering`);
          }
          throw err;
        });
        const text = await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 202) {
          const body = JSON.parse(text) as { accepted: number; duplicates: number };
          accepted += body.accepted + body.duplicates;
          return;
        }
        if (attempt >= 5) throw new Error(`POST /v1/transactions answered ${res.status} ${text.slice(0, 200)} five times`);
        retries += 1;
        await new Promise((r) => setTimeout(r, 500));
      }
    };
  } else {
    const client = new MongoClient(o.mongoUri!, { maxPoolSize: 50, ignoreUndefined: true });
    await client.connect();
    const collection = client.db(o.db!).collection<TransactionDoc>('transactions');
    const receivedAt = new Date();
    const docs = batches.map((batch, b) => batch.map((a) => storedDoc(a, receivedAt, userCodes, `${o.tag}-${b}`)));
    send = async (_batch, b) => {
      const res = await collection.insertMany(docs[b]!, { ordered: false });
      accepted += res.insertedCount;
    };
    close = () => client.close();
  }

  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      for (let b = next++; b < batches.length; b = next++) {
        const s = performance.now();
        await send(batches[b]!, b);
        batchMs.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await close();
  const sorted = batchMs.sort((a, b) => a - b);
  const transactions = o.batches * o.batchSize;
  const result: IngestLoadResult = {
    mode: o.mode,
    transactions,
    seconds,
    perSecond: transactions / seconds,
    batchMs: { p50: pct(sorted, 50), p99: pct(sorted, 99), max: sorted[sorted.length - 1] ?? NaN },
    retries,
    statuses,
    accepted,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
