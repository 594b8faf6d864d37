/**
 * The load generator of the payment-options soak, run as a second process: autocannon at a fixed
 * overall rate against GET /v1/payment-options with a different user on every request, printing
 * a JSON summary as its last line. Usage: node --import tsx options-load.ts '<json>'.
 */
import autocannon from 'autocannon';

interface Options {
  base: string;
  key: string;
  rate: number;
  seconds: number;
  connections: number;
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '{}') as Options;
  let n = 0;
  const result = await autocannon({
    url: o.base,
    connections: o.connections,
    duration: o.seconds,
    overallRate: o.rate,
    headers: { authorization: `Bearer ${o.key}` },
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          n += 1;
          return { ...req, path: `/v1/payment-options?userId=shopper_${n % 50_000}` };
        },
      },
    ],
  });
  console.log(
    JSON.stringify({
      requests: result.requests.total,
      perSec: result.requests.average,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
