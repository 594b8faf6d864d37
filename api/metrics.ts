/** Prometheus metrics of the API process, on a registry of its own. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly ingested = new Counter({ name: 'transactions_ingested_total', help: 'Transactions accepted', labelNames: ['result'] as const, registers: [this.registry] });
  readonly rejected = new Counter({ name: 'transactions_rejected_total', help: 'Transactions rejected by validation', registers: [this.registry] });
  readonly optionsLatency = new Histogram({
    name: 'payment_options_seconds',
    help: 'Payment options latency',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [this.registry],
  });
  readonly openDowntimes = new Gauge({ name: 'open_downtimes', help: 'Open downtimes by severity', labelNames: ['severity'] as const, registers: [this.registry] });
  readonly detectionWakes = new Counter({ name: 'detection_wakes_total', help: 'Detection runs started from the ingest by a failure on an uncovered route, by result', labelNames: ['result'] as const, registers: [this.registry] });
  readonly probeWakes = new Counter({ name: 'probe_wake_signals_total', help: 'probeSuccess and probeOutcome signals to downtime actors, by result', labelNames: ['result'] as const, registers: [this.registry] });
  readonly outboxDeliveries = new Gauge({ name: 'outbox_deliveries', help: 'Outbox deliveries (webhooks, PagerDuty, chat, partner mail) by channel and status', labelNames: ['channel', 'status'] as const, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
