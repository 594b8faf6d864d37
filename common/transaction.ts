/**
 * One payment attempt as `POST /v1/transactions` carries it (the HTTP contract in the design).
 * The checkout client's package states the wire format; the server takes it from there, so the
 * two cannot drift apart.
 */
export type { Transaction as TransactionRecord } from '../client/checkout/src/types';
