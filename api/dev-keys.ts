/**
 * Development API keys for `npm start` with no API_KEYS configured: random per data folder,
 * kept in DATA_DIR/dev-api-keys.json (git-ignored), printed once at start. Never used when
 * API_KEYS is set.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Role } from '../common/config';

const ROLES: Role[] = ['ingest', 'checkout', 'operator', 'admin'];

export function devKeys(dataDir: string): { byRole: Record<Role, string>; map: Map<string, Set<Role>> } {
  const file = join(dataDir, 'dev-api-keys.json');
  let byRole: Record<Role, string>;
  if (existsSync(file)) {
    byRole = JSON.parse(readFileSync(file, 'utf8')) as Record<Role, string>;
  } else {
    byRole = Object.fromEntries(ROLES.map((r) => [r, `dev_${r}_${randomBytes(12).toString('hex')}`])) as Record<Role, string>;
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(byRole, null, 2), { mode: 0o600 });
  }
  const map = new Map<string, Set<Role>>();
  for (const role of ROLES) map.set(byRole[role], role === 'admin' ? new Set(ROLES) : new Set([role]));
  return { byRole, map };
}
