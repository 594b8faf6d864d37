/**
 * The load generator, in its own process: autocannon against GET /v1/payment-options with a
 * different userId on every request (so the per-user bucket logic runs), either as fast as it
 * can on N connections or at a fixed overall rate. Latencies are taken from every 2xx response
 * (sub-millisecond precision). Input (argv[2], JSON): LoadInput. Prints one JSON line: LoadResult.
 */
import autocannon from 'autocannon';

export interface LoadInput {
  url: string;
  path: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  overallRate?: number;
  users: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  bytesPerResponse: number;
}

function percentileOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as LoadInput;
  let n = 0;
  const latencies: number[] = [];
  let bytes = 0;
  const options: autocannon.Options = {
    url: input.url,
    connections: input.connections,
    duration: input.durationS,
    ...(input.overallRate ? { overallRate: input.overallRate } : {}),
    headers: input.headers,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          n += 1;
          return { ...req, path: `${input.path}?userId=user_${n % input.users}` };
        },
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolvePromise, reject) => {
    const instance = autocannon(options, (err, res) => (err ? reject(err as Error) : resolvePromise(res)));
    instance.on('response', (_client, statusCode, resBytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) {
        latencies.push(responseTime);
        bytes += resBytes;
      }
    });
  });
  const sorted = Float64Array.from(latencies).sort();
  const seconds = result.duration;
  const out: LoadResult = {
    requests: result.requests.total,
    seconds,
    perSecond: result.requests.total / seconds,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: {
      p50: percentileOf(sorted, 50),
      p90: percentileOf(sorted, 90),
      p99: percentileOf(sorted, 99),
      p999: percentileOf(sorted, 99.9),
      max: sorted.length ? sorted[sorted.length - 1]! : NaN,
      mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    },
    bytesPerResponse: latencies.length ? bytes / latencies.length : 0,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
