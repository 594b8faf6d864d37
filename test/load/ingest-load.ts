/**
 * The load generator of the ingest soak, run as a second process: posts batches of unique
 * transactions to POST /v1/transactions at a fixed rate for a fixed time and prints, as its last
 * line, a JSON summary of what the API answered. Usage: node --import tsx ingest-load.ts '<json>'.
 */
import { performance } from 'node:perf_hooks';

interface Options {
  base: string;
  key: string;
  ratePerSec: number;
  seconds: number;
  batch: number;
  tag: string;
}

const METHODS = [
  ['upi:gpay', 'razorpay'],
  ['upi:phonepe', 'payu'],
  ['card:hdfc_credit', 'razorpay'],
  ['card:icici_debit', 'payu'],
  ['netbanking:sbi', 'payu'],
  ['netbanking:hdfc', 'razorpay'],
  ['wallet:paytm', 'paytm'],
] as const;
const CODES = ['GATEWAY_TIMEOUT', 'INSUFFICIENT_FUNDS', 'USER_CANCELLED', 'BANK_UNAVAILABLE'];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '{}') as Options;
  const batchesPerSec = o.ratePerSec / o.batch;
  const total = Math.round(batchesPerSec * o.seconds);
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let sent = 0;
  let accepted = 0;
  let duplicates = 0;
  let rejected = 0;
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();

  for (let b = 0; b < total; b += 1) {
    const due = started + (b * 1000) / batchesPerSec;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const transactions = Array.from({ length: o.batch }, (_, i) => {
      const n = b * o.batch + i;
      const [method, gateway] = METHODS[n % METHODS.length]!;
      const failed = n % 10 === 0;
      return {
        id: `${o.tag}-${n}`,
        userId: `user_${n % 5000}`,
        method,
        gateway,
        status: failed ? 'failure' : 'success',
        ...(failed ? { errorCode: CODES[n % CODES.length] } : {}),
      };
    });
    sent += transactions.length;
    const t0 = performance.now();
    const request = fetch(`${o.base}/v1/transactions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ transactions }),
    })
      .then(async (res) => {
        latencies.push(performance.now() - t0);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 202) {
          const body = (await res.json()) as { accepted: number; duplicates: number; rejected: unknown[] };
          accepted += body.accepted;
          duplicates += body.duplicates;
          rejected += body.rejected.length;
        } else {
          await res.text();
        }
      })
      .catch((err: unknown) => {
        const key = `error:${err instanceof Error ? err.message : String(err)}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
      });
    const tracked = request.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  await Promise.all(inFlight);
  const elapsedSec = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const summary = {
    sent,
    accepted,
    duplicates,
    rejected,
    statuses,
    batches: total,
    elapsedSec: Math.round(elapsedSec * 10) / 10,
    achievedPerSec: Math.round(sent / elapsedSec),
    latencyMs: { p50: Math.round(percentile(latencies, 50) * 10) / 10, p99: Math.round(percentile(latencies, 99) * 10) / 10, max: Math.round((latencies.at(-1) ?? 0) * 10) / 10 },
  };
  console.log(JSON.stringify(summary));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
