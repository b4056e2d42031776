/** Keys given at start (JOBWAIT_API_KEYS, --api-keys-file) are added to the key store. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/config-error.js';
import { hashSecret, maskApiKey, parseApiKey } from './api-key.js';
import type { KeyStore } from './key-store.js';

/** Adds each `jw_<id>_<secret>` key of `keys` (an id already stored is left as it is). */
export async function bootstrapKeys(store: KeyStore, keys: readonly string[], now: number): Promise<void> {
  for (const key of keys) {
    const parsed = parseApiKey(key.trim());
    if (!parsed) throw new ConfigError('api-keys', `${maskApiKey(key)} is not a jobwait key (jw_<12 chars>_<43 chars>; make one with \`jobwait keys create\`)`);
    await store.add({ id: parsed.id, name: 'bootstrap', hash: hashSecret(parsed.secret), createdAt: now });
  }
}

/** The keys in the file at `path`: one per line; blank lines and `#` comments skipped. */
export function readKeysFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('api-keys-file', `cannot read ${path}: ${(error as Error).message}`);
  }
  return text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}
