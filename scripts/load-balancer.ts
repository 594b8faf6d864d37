/**
 * nginx in front of the API replicas, on loopback: the load balancer of the scale suite (and the
 * same rules as deploy/nginx.conf, which docker-compose.yml runs). The binary is Debian's,
 * unpacked by scripts/install-tools.sh into the tools cache.
 *
 * What it does for the checkout: round robin over the replicas with keep-alive connections; a
 * replica that refuses the connection, resets it or answers 502/503 has the request passed to the
 * next one, for requests that are safe to send twice (GET, and the ingest, whose transactions
 * carry their ids); a replica that failed is left out for `failTimeout`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
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
  /** How long a replica that failed is left out (nginx fail_timeout), in seconds. */
  failTimeout?: number;
}

/** nginx.conf for the replicas: see the module comment. */
export function nginxConfig(o: BalancerOptions): string {
  const servers = o.upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=${o.failTimeout ?? 2}s;`).join('\n');
  const temp = (name: string) => join(o.dir, `${name}_temp`);
  return `${typeof process.getuid === 'function' && process.getuid() === 0 ? 'user root;\n' : ''}worker_processes 1;
daemon off;
pid ${join(o.dir, 'nginx.pid')};
error_log ${join(o.dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  upstream api {
${servers}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${o.port};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_connect_timeout 1s;
    proxy_read_timeout 30s;
    proxy_next_upstream error timeout http_502 http_503;
    proxy_next_upstream_tries 2;
    location / { proxy_pass http://api; }
    # The ingest is idempotent by transaction id: a batch the dead replica may have stored is sent again.
    location = /v1/transactions {
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_pass http://api;
    }
  }
}
`;
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
