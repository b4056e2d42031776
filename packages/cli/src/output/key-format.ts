/** Text and JSON forms of API keys for `jobwait keys list`. */
import type { ApiKeyRecord } from '@jobwait/server';

/** A key as `keys list --json` prints it: never its hash; dates ISO 8601, as jobs print theirs. */
export interface ListedKey {
  id: string;
  name: string;
  createdAt: string;
  revokedAt?: string;
  rateLimit?: { perSecond: number; burst: number };
  webhookUrl?: string;
}

/** The JSON form of one key. */
export function listedKey(key: ApiKeyRecord): ListedKey {
  const listed: ListedKey = { id: key.id, name: key.name, createdAt: new Date(key.createdAt).toISOString() };
  if (key.revokedAt !== undefined) listed.revokedAt = new Date(key.revokedAt).toISOString();
  if (key.rateLimit) listed.rateLimit = { perSecond: key.rateLimit.perSecond, burst: key.rateLimit.burst };
  if (key.webhookUrl !== undefined) listed.webhookUrl = key.webhookUrl;
  return listed;
}

/** A table of keys under a header row: id, state, name, its own rate limit, when it was created. */
export function keyTable(keys: ApiKeyRecord[]): string {
  const names = Math.max(4, ...keys.map((k) => k.name.length));
  const limits = keys.map((k) => (k.rateLimit ? `${k.rateLimit.perSecond}/s burst ${k.rateLimit.burst}` : 'default'));
  const limitWidth = Math.max(10, ...limits.map((l) => l.length));
  const row = (id: string, state: string, name: string, limit: string, created: string): string =>
    `${id.padEnd(12)}  ${state.padEnd(7)}  ${name.padEnd(names)}  ${limit.padEnd(limitWidth)}  ${created}`;
  const header = row('ID', 'STATE', 'NAME', 'RATE LIMIT', 'CREATED');
  return [header, ...keys.map((k, i) => row(k.id, k.revokedAt === undefined ? 'active' : 'revoked', k.name, limits[i]!, new Date(k.createdAt).toISOString()))].join('\n');
}
