/**
 * What the checkout client sends and gets back: the parts of the API's HTTP contract it uses,
 * written out here so the package stands alone. test/client/contract.test.ts checks each against
 * the OpenAPI document the API serves.
 */

/** One method the shop offers, with the gateways it may go through in order of preference. */
export interface CatalogMethod {
  method: string;
  gateways: string[];
}

/** One option to show: `available`, or `probe` (shown with `warning`, the method is under watch). */
export interface PaymentOption {
  method: string;
  mode?: string;
  gateway?: string;
  state: 'available' | 'probe';
  warning?: string;
}

/** Where an answer came from: the API, the user's last good answer, or the shop's catalog. */
export type OptionsSource = 'api' | 'last-good' | 'catalog';

export interface PaymentOptions {
  options: PaymentOption[];
  /** Methods hidden from this user, with the downtime that hides each (only from the API). */
  unavailable: { method: string; downtimeId?: string }[];
  source: OptionsSource;
  /** Why the API's answer was not used: `timeout`, `network`, `http 502`, `invalid answer`, `empty answer`. */
  fallbackReason?: string;
}

/** One payment attempt, as the checkout reports it. `id` is the attempt's own: the API stores each id once. */
export interface Transaction {
  id: string;
  userId: string;
  method: string;
  gateway: string;
  status: 'success' | 'failure';
  errorCode?: string;
  /** ISO-8601; the server's time when absent. */
  at?: string;
}

/** The API's answer to a report. */
export interface ReportAnswer {
  accepted: number;
  duplicates: number;
  rejected: { index: number; error: string }[];
}

/** The paths and limits the client relies on (checked against the OpenAPI document). */
export const CONTRACT = {
  paymentOptions: { method: 'get', path: '/v1/payment-options', query: 'userId', role: 'checkout' },
  transactions: { method: 'post', path: '/v1/transactions', maxBatch: 1000, role: 'ingest' },
} as const;
