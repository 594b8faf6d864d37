/**
 * The checkout's client of the payment downtime orchestrator: what a shop embeds to ask which
 * payment options to show a user, and to report each payment attempt.
 *
 *   const downtimes = new CheckoutClient({ baseUrl, checkoutKey, ingestKey, catalog });
 *   const { options } = await downtimes.paymentOptions(userId);   // 50 ms at most, never throws
 *   downtimes.report([{ id, userId, method, gateway, status, errorCode }]);   // returns at once
 *   await downtimes.close();   // at shutdown: sends what is queued
 *
 * The orchestrator must never stand between a shop and its sale: paymentOptions fails open
 * (src/options.ts) and report never blocks the payment (src/reporter.ts).
 */
import { OptionsConfig, OptionsSource, OptionsStats } from './options';
import { Reporter, ReporterConfig, ReporterStats } from './reporter';
import type { PaymentOptions, Transaction } from './types';

export * from './types';
export { DEFAULT_DEADLINE_MS } from './options';
export type { ReportError } from './reporter';

export interface CheckoutClientConfig extends Omit<OptionsConfig, 'apiKey'>, Omit<ReporterConfig, 'apiKey' | 'baseUrl' | 'fetch'> {
  /** A key with the `checkout` role, for paymentOptions. */
  checkoutKey: string;
  /** A key with the `ingest` role, for report. */
  ingestKey: string;
}

export class CheckoutClient {
  private readonly optionsSource: OptionsSource;
  private readonly reporter: Reporter;

  constructor(config: CheckoutClientConfig) {
    const baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.optionsSource = new OptionsSource({ ...config, baseUrl, apiKey: config.checkoutKey });
    this.reporter = new Reporter({ ...config, baseUrl, apiKey: config.ingestKey });
  }

  /** The options to show `userId`, in display order: from the API within the deadline, else the last good answer, else the catalog. */
  paymentOptions(userId: string): Promise<PaymentOptions> {
    return this.optionsSource.paymentOptions(userId);
  }

  /** Queues payment attempts for the API and returns at once. */
  report(transactions: readonly Transaction[]): void {
    this.reporter.report(transactions);
  }

  /** Sends what is queued, within `deadlineMs`. */
  flush(deadlineMs?: number): Promise<void> {
    return this.reporter.flush(deadlineMs);
  }

  /** Flushes within `deadlineMs`, then stops. */
  close(deadlineMs?: number): Promise<void> {
    return this.reporter.close(deadlineMs);
  }

  stats(): { options: OptionsStats; report: ReporterStats } {
    return { options: { ...this.optionsSource.stats }, report: { ...this.reporter.stats } };
  }
}
