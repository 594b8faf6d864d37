/** Bearer API keys with roles; keys compared in constant time and never logged. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../common/config';

const digest = (s: string) => createHash('sha256').update(s).digest();

export class KeyRing {
  private readonly entries: { digest: Buffer; roles: Set<Role> }[];
  constructor(keys: Map<string, Set<Role>>) {
    this.entries = [...keys].map(([key, roles]) => ({ digest: digest(key), roles }));
  }
  /** Roles of the key, comparing fixed-length digests in constant time against every entry. */
  rolesOf(key: string): Set<Role> | undefined {
    const given = digest(key);
    let found: Set<Role> | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, given)) found = e.roles;
    return found;
  }
}

export function requireRole(keys: KeyRing, ...allowed: Role[]) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a bearer API key is required' });
    }
    const roles = keys.rolesOf(match[1]!);
    if (!roles) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'unknown API key' });
    if (!allowed.some((r) => roles.has(r))) {
      return reply.code(403).send({ error: 'forbidden', message: `requires role ${allowed.join(' or ')}` });
    }
  };
}
