/**
 * The optional config file (`--config path.json`, `JOBWAIT_CONFIG`): a JSON
 * object whose keys are the flag names (`"data-dir": "/var/lib/jobwait"`),
 * plus `"api-keys"` (a list), the file's spelling of `JOBWAIT_API_KEYS`.
 * It sits below flags and environment variables: flag > env > file > default.
 * And the other way: the effective configuration as such an object, with
 * secrets masked, for `--print-config`.
 */
import { readFileSync } from 'node:fs';
import { maskApiKey } from '../auth/api-key.js';
import { maskUrlPassword } from '../logging/log-options.js';
import { ConfigError } from './server-options.js';

/** Options read from a config file: flag name → text as a flag would carry it; `api-keys` → list. */
export interface ConfigFile {
  path: string;
  values: Map<string, string>;
  apiKeys: string[] | undefined;
}

/** Key of the file's list of API keys. */
export const API_KEYS_KEY = 'api-keys';

/**
 * Reads and checks the file at `path`. `known` are the flag names it may set; any other key, a
 * value of the wrong type or a file that is not a JSON object throws a `ConfigError` naming it.
 * `null` leaves an option at its default (so `--print-config` output reads back).
 */
export function readConfigFile(path: string, known: readonly string[]): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('--config (JOBWAIT_CONFIG)', `cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('--config (JOBWAIT_CONFIG)', `${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('--config (JOBWAIT_CONFIG)', `${path} must hold a JSON object of options`);
  const values = new Map<string, string>();
  let apiKeys: string[] | undefined;
  for (const [key, value] of Object.entries(parsed)) {
    const where = `${key} (in ${path})`;
    if (key === API_KEYS_KEY) {
      if (value === null) continue;
      if (!Array.isArray(value) || !value.every((k) => typeof k === 'string')) throw new ConfigError(where, 'must be a list of API keys');
      apiKeys = value as string[];
      continue;
    }
    if (!known.includes(key)) throw new ConfigError(where, `unknown option; the file takes the flag names of --help: ${[...known, API_KEYS_KEY].join(', ')}`);
    if (value === null) continue;
    if (typeof value === 'number' && Number.isFinite(value)) values.set(key, String(value));
    else if (typeof value === 'string') values.set(key, value);
    else throw new ConfigError(where, `must be a string or a number, got ${JSON.stringify(value)}`);
  }
  return { path, values, apiKeys };
}

/** Option names whose values are secrets as a whole. */
const SECRET_OPTION = /(token|secret|password|pass)$/;

/**
 * `settings` with secrets masked: options named like a secret (`metrics-token`, `webhook-secret`,
 * `smtp-password`) become `"***"`, passwords inside URLs (`redis://:pw@host`, `smtp://user:pw@host`)
 * become `***`, and API keys keep only their public id (`jw_<id>_…`).
 */
export function maskSecrets(settings: Record<string, unknown>): Record<string, unknown> {
  const masked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value === null || value === undefined) masked[key] = null;
    else if (key === API_KEYS_KEY && Array.isArray(value)) masked[key] = value.map((k) => maskApiKey(String(k)));
    else if (SECRET_OPTION.test(key)) masked[key] = '***';
    else if (typeof value === 'string') masked[key] = maskUrlPassword(value);
    else masked[key] = value;
  }
  return masked;
}
