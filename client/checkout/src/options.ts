/**
 * `paymentOptions(userId)` that fails open. The API is asked with a deadline; when it does not
 * answer in time, answers anything but a well-formed non-empty list, or cannot be reached, the
 * user gets the last good answer the API gave them (while it is recent), else the shop's catalog
 * in its own priority order. Never an empty list, never an exception.
 */
import { CONTRACT, CatalogMethod, PaymentOption, PaymentOptions } from './types';

export interface OptionsConfig {
  baseUrl: string;
  /** A key with the `checkout` role. */
  apiKey: string;
  /** The shop's methods in priority order: the answer when nothing better is known. Not empty. */
  catalog: CatalogMethod[];
  /** How long the API is given, in ms (default 50). */
  deadlineMs?: number;
  /** How long a user's last good answer stays usable, in ms (default 15 minutes). */
  lastGoodMaxAgeMs?: number;
  /** How many users' last good answers are kept, least recently asked dropped first (default 10,000). */
  lastGoodMaxUsers?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export const DEFAULT_DEADLINE_MS = 50;
const DEFAULT_LAST_GOOD_MAX_AGE_MS = 15 * 60_000;
const DEFAULT_LAST_GOOD_MAX_USERS = 10_000;

export interface OptionsStats {
  answers: number;
  fromApi: number;
  fromLastGood: number;
  fromCatalog: number;
}

export class OptionsSource {
  private readonly lastGood = new Map<string, { at: number; answer: PaymentOptions }>();
  private readonly catalogAnswer: PaymentOptions;
  readonly stats: OptionsStats = { answers: 0, fromApi: 0, fromLastGood: 0, fromCatalog: 0 };

  constructor(private readonly config: OptionsConfig) {
    const options = config.catalog.filter((m) => typeof m.method === 'string' && m.method !== '').map((m): PaymentOption => ({ method: m.method, ...(m.gateways[0] ? { gateway: m.gateways[0] } : {}), state: 'available' }));
    if (options.length === 0) throw new Error('checkout client: catalog must name at least one method (it is the answer when the API cannot give one)');
    this.catalogAnswer = { options, unavailable: [], source: 'catalog' };
  }

  async paymentOptions(userId: string): Promise<PaymentOptions> {
    this.stats.answers += 1;
    let reason: string;
    try {
      const res = await (this.config.fetch ?? fetch)(`${this.config.baseUrl}${CONTRACT.paymentOptions.path}?${CONTRACT.paymentOptions.query}=${encodeURIComponent(userId)}`, {
        headers: { authorization: `Bearer ${this.config.apiKey}` },
        signal: AbortSignal.timeout(this.config.deadlineMs ?? DEFAULT_DEADLINE_MS),
      });
      if (res.status === 200) {
        const answer = parseAnswer(await res.text());
        if (typeof answer !== 'string') {
          this.remember(userId, answer);
          this.stats.fromApi += 1;
          return answer;
        }
        reason = answer;
      } else {
        reason = `http ${res.status}`;
        // Let the connection be reused: the body is small.
        await res.arrayBuffer().catch(() => undefined);
      }
    } catch (err) {
      reason = describe(err);
    }
    return this.fallback(userId, reason);
  }

  private fallback(userId: string, reason: string): PaymentOptions {
    const kept = this.lastGood.get(userId);
    if (kept && this.now() - kept.at <= (this.config.lastGoodMaxAgeMs ?? DEFAULT_LAST_GOOD_MAX_AGE_MS)) {
      this.stats.fromLastGood += 1;
      return { ...kept.answer, source: 'last-good', fallbackReason: reason };
    }
    this.stats.fromCatalog += 1;
    return { ...this.catalogAnswer, fallbackReason: reason };
  }

  private remember(userId: string, answer: PaymentOptions): void {
    this.lastGood.delete(userId);
    this.lastGood.set(userId, { at: this.now(), answer });
    const max = this.config.lastGoodMaxUsers ?? DEFAULT_LAST_GOOD_MAX_USERS;
    while (this.lastGood.size > max) this.lastGood.delete(this.lastGood.keys().next().value as string);
  }

  private now(): number {
    return (this.config.now ?? Date.now)();
  }
}

/** The API's answer when it is well formed with at least one option; otherwise why not (an empty list is never shown). */
function parseAnswer(text: string): PaymentOptions | 'invalid answer' | 'empty answer' {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'invalid answer';
  }
  if (typeof body !== 'object' || body === null) return 'invalid answer';
  const { options, unavailable } = body as { options?: unknown; unavailable?: unknown };
  if (!Array.isArray(options)) return 'invalid answer';
  if (options.length === 0) return 'empty answer';
  const valid = options.every((o) => typeof o === 'object' && o !== null && typeof (o as PaymentOption).method === 'string' && ((o as PaymentOption).state === 'available' || (o as PaymentOption).state === 'probe'));
  if (!valid) return 'invalid answer';
  return { options: options as PaymentOption[], unavailable: Array.isArray(unavailable) ? (unavailable as PaymentOptions['unavailable']) : [], source: 'api' };
}

export function describe(err: unknown): string {
  const name = (err as { name?: string }).name;
  return name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network';
}
