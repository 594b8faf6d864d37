/** One payment attempt as `POST /v1/transactions` carries it (the HTTP contract in the design). */
export interface TransactionRecord {
  id: string;
  userId: string;
  method: string;
  gateway: string;
  status: 'success' | 'failure';
  errorCode?: string;
  /** ISO-8601; the server's time when absent. */
  at?: string;
}
