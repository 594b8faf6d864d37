/**
 * nginx in front of the API replicas, on loopback: the load balancer of the scale suite. It runs
 * deploy/nginx.conf, the configuration docker-compose.yml deploys, with the replicas' loopback
 * addresses, a loopback port, and files under the test's directory put in: what the suite proves
 * about retries and failover holds for the deployed balancer. The binary is Debian's, unpacked
 * by scripts/install-tools.sh into the tools cache.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import versions from '../tools/versions.json';
import { ROOT, RunningServer, stopProcess, toolsCache, waitForPort } from './local-servers';

export const nginxPath = () => join(toolsCache(), `nginx-${versions.nginx}`, 'nginx');

/** The nginx binary, installed when missing. */
export function ensureNginx(): string {
  const bin = nginxPath();
  if (!existsSync(bin)) {
    const res = spawnSync('bash', [join(ROOT, 'scripts/install-tools.sh'), 'balancer'], { stdio: 'inherit' });
    if (res.status !== 0) throw new Error('installing nginx failed (see above)');
  }
  return bin;
}

export interface BalancerOptions {
  port: number;
  /** host:port of each API replica. */
  upstreams: string[];
  /** nginx's prefix: its configuration, pid file, temporary files and logs. */
  dir: string;
}

/** deploy/nginx.conf with `o`'s replicas, port and files in place of the deployment's. */
export function nginxConfig(o: BalancerOptions): string {
  let conf = readFileSync(join(ROOT, 'deploy', 'nginx.conf'), 'utf8');
  const put = (what: RegExp, by: string) => {
    if (!what.test(conf)) throw new Error(`deploy/nginx.conf no longer has ${what}: scripts/load-balancer.ts must follow it`);
    conf = conf.replace(what, by);
  };
  const temp = (name: string) => `  ${name}_temp_path ${join(o.dir, `${name}_temp`)};`;
  const root = typeof process.getuid === 'function' && process.getuid() === 0 ? 'user root;\n' : '';
  put(/^worker_processes auto;$/m, `${root}worker_processes 1;\ndaemon off;\npid ${join(o.dir, 'nginx.pid')};\nerror_log ${join(o.dir, 'error.log')} warn;`);
  put(/^http \{$/m, ['http {', ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp)].join('\n'));
  const server = /^ {4}server api:3000 (.*)$/m.exec(conf);
  put(/^ {4}server api:3000 .*$/m, o.upstreams.map((u) => `    server ${u} ${server?.[1] ?? ''}`).join('\n'));
  put(/^ {4}listen 80;$/m, `    listen 127.0.0.1:${o.port};`);
  return conf;
}

/** Starts nginx with nginxConfig(o) and waits until it listens. */
export async function startLoadBalancer(o: BalancerOptions): Promise<RunningServer> {
  const bin = ensureNginx();
  mkdirSync(o.dir, { recursive: true });
  const conf = join(o.dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(o));
  const log = createWriteStream(join(o.dir, 'nginx.out'), { flags: 'a' });
  const child = spawn(bin, ['-p', o.dir, '-c', conf, '-e', join(o.dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  // SIGTERM is nginx's fast shutdown; SIGQUIT its graceful one. Either ends the master and workers.
  await waitForPort('127.0.0.1', o.port, 15_000, child);
  return { name: 'nginx', address: `http://127.0.0.1:${o.port}`, process: child, stop: () => stopProcess(child) };
}
