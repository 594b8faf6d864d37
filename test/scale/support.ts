/**
 * The scale suite's stack: two API processes and two workers (real child processes, as the fault
 * suite starts them) on one Temporal server and one database, with nginx in front of the APIs on
 * loopback (scripts/load-balancer.ts). Clients go through the balancer, as a checkout would;
 * a test may also ask one API directly, or kill and restart either.
 */
import { join } from 'node:path';
import { startLoadBalancer } from '../../scripts/load-balancer';
import type { RunningServer } from '../../scripts/local-servers';
import { Env, FaultStack, FaultStackOptions, ManagedProcess, freePort, startApi, startFaultStack, stopFaultStack } from '../faults/support';

export interface ScaleStack extends FaultStack {
  /** The environment of each API replica (the same but for PORT). */
  apiEnvs: [Env, Env];
  balancer: RunningServer;
  /** The balancer's URL: where clients send their requests. */
  base: string;
  /** Starts API replica `i` (0 or 1) again on its port, e.g. after it was killed. */
  restartApi(i: 0 | 1, name: string): Promise<ManagedProcess>;
}

export async function startScaleStack(o: Omit<FaultStackOptions, 'workers' | 'api'>): Promise<ScaleStack> {
  const fault = await startFaultStack({ ...o, workers: ['worker-1', 'worker-2'], api: 'api-1' });
  let balancer: RunningServer | undefined;
  try {
    const second: Env = { ...fault.env, PORT: String(await freePort()) };
    fault.apis.push(await startApi(second, fault.dir, 'api-2'));
    const apiEnvs: [Env, Env] = [fault.env, second];
    const port = await freePort();
    balancer = await startLoadBalancer({ port, upstreams: apiEnvs.map((e) => `127.0.0.1:${e.PORT}`), dir: join(fault.dir, 'nginx') });
    return Object.assign(fault, {
      apiEnvs,
      balancer,
      base: balancer.address,
      async restartApi(i: 0 | 1, name: string) {
        const p = await startApi(apiEnvs[i], fault.dir, name);
        fault.apis.push(p);
        return p;
      },
    });
  } catch (err) {
    await balancer?.stop();
    await stopFaultStack(fault);
    throw err;
  }
}

export async function stopScaleStack(stack: Partial<ScaleStack> | undefined): Promise<void> {
  await stack?.balancer?.stop();
  await stopFaultStack(stack);
}

/** One answer the checkout got through the balancer. */
export interface Answer {
  at: number;
  status: number;
  error?: string;
}

/** `loops` checkout loops asking the balancer for payment options, each as fast as it is answered plus `pauseMs`. */
export function checkoutLoad(base: string, key: string, loops = 4, pauseMs = 10) {
  const answers: Answer[] = [];
  let stopped = false;
  let n = 0;
  const run = async () => {
    while (!stopped) {
      const at = Date.now();
      n += 1;
      try {
        const res = await fetch(`${base}/v1/payment-options?userId=load_shopper_${n % 500}`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) });
        const body = (await res.json().catch(() => undefined)) as { options?: unknown[] } | undefined;
        // The shop has a catalog: an answer without a single option would leave its checkout empty.
        answers.push({ at, status: res.status, ...(res.status === 200 && !(Array.isArray(body?.options) && body.options.length > 0) ? { error: 'no options in the answer' } : {}) });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause;
        answers.push({ at, status: 0, error: cause?.code ?? (err as Error).message });
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  const running = Promise.all(Array.from({ length: loops }, run));
  return {
    answers,
    async stop() {
      stopped = true;
      await running;
      return answers;
    },
  };
}

/** The answers in [from, to): how many, and those that failed (not 200, or no options). */
export function window(answers: Answer[], from: number, to: number) {
  const inside = answers.filter((a) => a.at >= from && a.at < to);
  return { answers: inside.length, failed: inside.filter((a) => a.status !== 200 || a.error !== undefined) };
}
