/**
 * The load generator, in its own process, against GET /v1/payment-options with a different
 * userId on every request (so the per-user bucket logic runs). As fast as it can on N
 * connections: autocannon, latencies from every 2xx response. At a fixed overall rate: an
 * open-loop paced sender (node:http, N keep-alive sockets) that sends request i at start + i/rate
 * and measures each latency from that scheduled time, so a slow answer delays nothing it should
 * not and time spent queued in the sender counts (no coordinated omission). autocannon's own rate
 * limit is not used for this: it sends each connection's quota for the second back to back and
 * then waits for the next second, so "2,000 req/s" arrives as a burst at full speed at the top of
 * every second. Input (argv[2], JSON): LoadInput. Prints one JSON line: LoadResult.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
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

function resultOf(latencies: number[], requests: number, seconds: number, counts: { non2xx: number; errors: number; timeouts: number; bytes: number }): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests,
    seconds,
    perSecond: requests / seconds,
    non2xx: counts.non2xx,
    errors: counts.errors,
    timeouts: counts.timeouts,
    latencyMs: {
      p50: percentileOf(sorted, 50),
      p90: percentileOf(sorted, 90),
      p99: percentileOf(sorted, 99),
      p999: percentileOf(sorted, 99.9),
      max: sorted.length ? sorted[sorted.length - 1]! : NaN,
      mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    },
    bytesPerResponse: latencies.length ? counts.bytes / latencies.length : 0,
  };
}

const TIMEOUT_MS = 10_000;

/** Open loop at `rate` requests per second for `durationS`; latency from each scheduled send. */
async function paced(input: LoadInput, rate: number): Promise<LoadResult> {
  const url = new URL(input.url);
  const agent = new Agent({ keepAlive: true, maxSockets: input.connections });
  const total = Math.round(rate * input.durationS);
  const gapMs = 1000 / rate;
  const latencies: number[] = [];
  const counts = { non2xx: 0, errors: 0, timeouts: 0, bytes: 0 };
  let done = 0;
  const start = performance.now() + 20;
  await new Promise<void>((finished) => {
    const settle = () => {
      done += 1;
      if (done === total) finished();
    };
    const send = (i: number) => {
      const scheduled = start + i * gapMs;
      let settled = false;
      /** Each request is settled once: answered, refused, or cut off mid-answer. */
      const settleOnce = (what: () => void) => {
        if (settled) return;
        settled = true;
        what();
        settle();
      };
      const req = request(
        { host: url.hostname, port: url.port, path: `${input.path}?userId=user_${i % input.users}`, headers: input.headers, agent, timeout: TIMEOUT_MS },
        (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => (bytes += chunk.length));
          res.on('end', () =>
            settleOnce(() => {
              const status = res.statusCode ?? 0;
              if (status >= 200 && status < 300) {
                latencies.push(performance.now() - scheduled);
                counts.bytes += bytes;
              } else counts.non2xx += 1;
            }),
          );
          res.on('error', () => settleOnce(() => (counts.errors += 1)));
        },
      );
      let timedOut = false;
      req.on('timeout', () => {
        timedOut = true;
        counts.timeouts += 1;
        req.destroy(new Error('timeout'));
      });
      req.on('error', () => settleOnce(() => (counts.errors += timedOut ? 0 : 1)));
      req.end();
    };
    let next = 0;
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * gapMs <= now) send(next++);
      if (next < total) setTimeout(tick, Math.max(0, start + next * gapMs - performance.now()));
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  agent.destroy();
  // Achieved rate: every request, over the time until the last one was answered.
  return resultOf(latencies, total, (performance.now() - start) / 1000, counts);
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as LoadInput;
  if (input.overallRate) {
    process.stdout.write(`${JSON.stringify(await paced(input, input.overallRate))}\n`);
    return;
  }
  let n = 0;
  const latencies: number[] = [];
  let bytes = 0;
  const options: autocannon.Options = {
    url: input.url,
    connections: input.connections,
    duration: input.durationS,
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
  const out = resultOf(latencies, result.requests.total, result.duration, { non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, bytes });
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
