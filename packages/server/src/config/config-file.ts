/**
 * The optional config file (`--config path.json`, `JOBWAIT_CONFIG`): a JSON
 * object whose keys are the options' flag names (`"data-dir": "/var/lib/jobwait"`,
 * `"api-keys": [...]`) and whose values have the option's JSON type: a number
 * is a number (`{"port": "9000"}` is refused), a list is an array (or its
 * comma-separated text). `null` leaves an option at its default, so what
 * `--print-config` prints reads back. It sits below flags and environment
 * variables: flag > env > file > default.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';
import type { Schema } from './option-schema.js';

/** Where the file is named, for messages. */
export const CONFIG_OPTION = '--config (JOBWAIT_CONFIG)';

/** A config file as read: each option it sets, by name in code, with its JSON value as written. */
export interface ConfigFile {
  path: string;
  values: Map<string, unknown>;
}

/** Reads the file at `path`; a key `schema` does not declare, or a file that is not a JSON object, throws a `ConfigError`. */
export function readConfigFile(path: string, schema: Schema): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(CONFIG_OPTION, `cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(CONFIG_OPTION, `${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(CONFIG_OPTION, `${path} must hold a JSON object of options`);
  const byFlag = new Map(Object.entries(schema).map(([key, option]) => [option.flag, key]));
  const values = new Map<string, unknown>();
  for (const [flag, value] of Object.entries(parsed)) {
    const key = byFlag.get(flag);
    if (key === undefined) throw new ConfigError(fileLabel(flag, path), `unknown option; the file takes the flag names of --help: ${[...byFlag.keys()].join(', ')}`);
    if (value !== null) values.set(key, value);
  }
  return { path, values };
}

/** How a message names an option set in the file at `path`. */
export function fileLabel(flag: string, path: string): string {
  return `${flag} (in ${path})`;
}
