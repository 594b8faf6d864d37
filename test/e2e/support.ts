/** Helpers for the end-to-end tests: an HTTP client for the API on a real socket, polling with a deadline, traffic. */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { TransactionRecord } from '../../common/transaction';
import { JsonReply, jsonClient } from '../../client/json-http';
import { bucketOf } from '../../domain';
import { ApiStack, startApiStack } from '../support/api-stack';

/** Listens on an ephemeral port of the loopback interface and returns the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

export type Reply<T = unknown> = JsonReply<T>;

/** A tiny JSON client over the real socket, as the checkout and the operators use the API. */
export const httpClient = jsonClient;

/**
 * Calls `probe` until it returns a value other than undefined, waiting `intervalMs` between
 * calls; fails with `what` and the last observation once `timeoutMs` has passed.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number; describe?: () => unknown } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() + intervalMs > deadline) {
      const last = opts.describe ? ` (last seen: ${JSON.stringify(opts.describe())})` : '';
      throw new Error(`not reached within ${timeoutMs} ms: ${what}${last}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** What GET /v1/payment-options answers. */
export interface PaymentOptionsBody {
  options: { method: string; mode: string; gateway: string; state: 'available' | 'probe'; warning?: string }[];
  unavailable: { method: string; downtimeId: string }[];
}

/** What GET /v1/downtimes and /v1/downtimes/:id answer (the fields these tests read). */
export interface DowntimeBody {
  id: string;
  scopeKey: string;
  scope: { mode?: string; method?: string; gateway?: string };
  origin: string;
  status: 'scheduled' | 'open' | 'resolved' | 'cancelled';
  phase: string;
  severity: string;
  disabledAt?: string;
  probePercent: number;
  endReason?: string;
  resolvedAt?: string;
  lastProbe?: { verdict: string; samples: number; successes: number; llr: number; upperBound: number; probePercent: number };
  live?: { status: string; phase: string; downtimeId: string } | null;
  timeline?: { kind: string; text: string }[];
  links: { temporalUi: string };
}


/**
 * `count` attempts on one route with `at` spread evenly over [fromMs, toMs]; `outcome(i)` says
 * how attempt i ends (success unless it returns an error code, or null for a failure without one).
 */
export function attempts(
  tag: string,
  route: { method: string; gateway: string },
  count: number,
  fromMs: number,
  toMs: number,
  outcome: (i: number) => string | null | undefined = () => undefined,
): TransactionRecord[] {
  const out: TransactionRecord[] = [];
  for (let i = 0; i < count; i += 1) {
    const at = count === 1 ? fromMs : fromMs + ((toMs - fromMs) * i) / (count - 1);
    const code = outcome(i);
    const tx: TransactionRecord = {
      id: `${tag}-${route.method.replace(':', '_')}-${route.gateway}-${i}`,
      userId: `shopper_${tag}_${i % 97}`,
      method: route.method,
      gateway: route.gateway,
      status: code === undefined ? 'success' : 'failure',
      at: new Date(Math.round(at)).toISOString(),
    };
    if (typeof code === 'string') tx.errorCode = code;
    out.push(tx);
  }
  return out;
}

/** A user that falls in `bucket` for the downtime at every probe share in `percents`. */
export function userInBucket(prefix: string, downtimeId: string, bucket: 'A' | 'B', percents: number[]): string {
  for (let i = 0; i < 100_000; i += 1) {
    const user = `${prefix}_${i}`;
    if (percents.every((p) => bucketOf(user, downtimeId, p) === bucket)) return user;
  }
  throw new Error(`no user in bucket ${bucket} for ${downtimeId}`);
}

/** The real stack an end-to-end test runs against: a worker on the dev server, the API on a real socket. */
export interface E2eStack extends ApiStack {
  api: ReturnType<typeof httpClient>;
}

/** Starts the worker and the API with the test config and `env` over it. */
export async function startStack(env: Record<string, string>): Promise<E2eStack> {
  const stack = await startApiStack({ worker: true, env });
  return { ...stack, api: httpClient(await listen(stack.app)) };
}
