/** Bearer API keys with roles; keys compared in constant time and never logged. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import type { Role } from '../common/config';

const digest = (s: string) => createHash('sha256').update(s).digest();

export class KeyRing {
  private readonly entries: { digest: Buffer; roles: Set<Role> }[];
  /**
   * Keys that matched, so a known key is not hashed again on every request. Only a key equal to
   * a configured one can enter it, so it never holds more entries than the ring has keys.
   */
  private readonly matched = new Map<string, Set<Role>>();
  constructor(keys: Map<string, Set<Role>>) {
    this.entries = [...keys].map(([key, roles]) => ({ digest: digest(key), roles }));
  }
  /**
   * Roles of the key. A key not seen before is compared as fixed-length digests in constant time
   * against every entry; one that matched before is answered from memory (what that reveals is
   * that the caller holds a valid key, which they know). Unknown keys always take the full path.
   */
  rolesOf(key: string): Set<Role> | undefined {
    const known = this.matched.get(key);
    if (known) return known;
    const given = digest(key);
    let found: Set<Role> | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, given)) found = e.roles;
    if (found) this.matched.set(key, found);
    return found;
  }
}

/**
 * An onRequest hook admitting keys with one of the roles: 401 without a known key, 403 without
 * the role. Callback-style, not async: an async hook costs a promise and a microtask on every
 * request, the checkout's hot path included.
 */
export function requireRole(keys: KeyRing, ...allowed: Role[]): onRequestHookHandler {
  return (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) {
      void reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a bearer API key is required' });
      return;
    }
    const roles = keys.rolesOf(match[1]!);
    if (!roles) {
      void reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'unknown API key' });
      return;
    }
    if (!allowed.some((r) => roles.has(r))) {
      void reply.code(403).send({ error: 'forbidden', message: `requires role ${allowed.join(' or ')}` });
      return;
    }
    done();
  };
}
