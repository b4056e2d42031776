/**
 * The Lua scripts, one file each in `packages/server/lua/<name>-<number of keys>.lua` (bullmq's
 * `commands/*.lua` layout): read once per process, defined on a connection as ioredis commands
 * (EVALSHA, falling back to EVAL once per connection). A line `--- @include "<name>"` is replaced
 * by `lua/includes/<name>.lua`, so a rule shared by scripts is written once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** Where the scripts are: `lua/` beside `src/` and `dist/` (both two levels below the package). */
const LUA_DIR = new URL('../../../lua/', import.meta.url);

/** Every script's name. */
export type ScriptName =
  | 'create-job' | 'create-batch' | 'list-jobs' | 'changed-since' | 'replace-job' | 'claim-due' | 'current-timer' | 'set-timer' | 'cleanup-expired' | 'count-jobs' | 'server-alive'
  | 'add-key' | 'revoke-key' | 'access-mode' | 'open-access'
  | 'enqueue-delivery' | 'claim-deliveries' | 'complete-delivery' | 'list-deliveries' | 'ensure-setting'
  | 'take-token' | 'swap-model'; // prettier-ignore

interface Script {
  command: string;
  keys: number;
  lua: string;
}

let loaded: Map<string, Script> | undefined;

function scripts(): Map<string, Script> {
  if (loaded) return loaded;
  loaded = new Map();
  for (const file of readdirSync(LUA_DIR)) {
    const match = /^([a-z-]+)-(\d+)\.lua$/.exec(file);
    if (!match) continue;
    const [, name, keys] = match as unknown as [string, string, string];
    const lua = readFileSync(new URL(file, LUA_DIR), 'utf8').replace(/^--- @include "([a-z-]+)"$/gm, (_, include: string) =>
      readFileSync(new URL(`includes/${include}.lua`, LUA_DIR), 'utf8'),
    );
    loaded.set(name, { command: `jobwait_${name.replaceAll('-', '_')}`, keys: Number(keys), lua });
  }
  return loaded;
}

/** Runs the scripts on one connection. */
export interface RedisScripts {
  /** Runs script `name` with its keys and arguments. */
  run<T>(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<T>;
}

/** Defines every script on `redis`. */
export function defineScripts(redis: Redis): RedisScripts {
  const all = scripts();
  for (const script of all.values()) redis.defineCommand(script.command, { numberOfKeys: script.keys, lua: script.lua });
  const commands = redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
  return {
    run<T>(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
      const script = all.get(name);
      if (!script) throw new Error(`no Lua script ${name} in ${LUA_DIR.pathname}`);
      if (keys.length !== script.keys) throw new Error(`Lua script ${name} takes ${script.keys} keys, got ${keys.length}`);
      return commands[script.command]!(...keys, ...args) as Promise<T>;
    },
  };
}
