/**
 * Prometheus metrics of the worker process, on a registry of its own, served on
 * WORKER_METRICS_PORT when it is set: how late the actors' probe looks run, and how the probe's
 * shared database reads are going.
 */
import { createServer, Server } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class WorkerMetrics {
  readonly registry = new Registry();
  /** A look that was due (its timer fired) against when its probe read began. */
  readonly probeLag = new Histogram({
    name: 'probe_look_lag_seconds',
    help: 'How long after it was due a downtime actor\'s timed probe look read its evidence',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  /** Probe reads asked for, and the database reads that served them (several looks share one). */
  readonly probeReads = new Counter({ name: 'probe_reads_total', help: 'Probe reads asked for by downtime actors', registers: [this.registry] });
  readonly probeDbReads = new Counter({ name: 'probe_database_reads_total', help: 'Reads of counters, topology and freeze windows that served the probe reads', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

/** Serves GET /metrics on 127.0.0.1-or-host:port; anything else is 404. */
export function serveMetrics(metrics: WorkerMetrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
      .catch(() => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
