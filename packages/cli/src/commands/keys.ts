/**
 * `jobwait keys create|list|revoke|open-access`: manages API keys in the
 * server's data folder (run it on the server's machine), or with `--store
 * redis` in the cluster's Redis; a running server sees a change within a second.
 */
import type { ApiKeyRecord, Engine } from '@jobwait/server';
import { type Command, parseCommandArgs } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { keyTable, listedKey } from '../output/key-format.js';
import { json, line } from '../output/terminal.js';

const USAGE = `Usage:
  jobwait keys create --name <name> [--rate <n/s> --burst <n>] [--webhook-url <url>]
  jobwait keys list
  jobwait keys revoke <id>
  jobwait keys open-access --yes

Manages API keys in the server's SQLite data folder (--data-dir, env JOBWAIT_DATA_DIR, default ./data),
or with --store redis in the Redis a cluster of servers shares.
'create' prints the key once: only its hash is stored. The first key turns keys on for every server on
that data (a running one within a second): each request then needs a valid key, and revoking keys,
even the last one, never turns that off.
'open-access' turns keys off: the servers run open again, every request acting as one tenant without
a key. It needs --yes, and is refused while a key is still active (revoke it first).
Options:
  --store <kind>          sqlite (default) or redis, as the server's --store (env JOBWAIT_STORE)
  --data-dir <path>       the server's data folder (sqlite)
  --redis-url <url>       the servers' Redis (env JOBWAIT_REDIS_URL, default redis://127.0.0.1:6379)
  --redis-prefix <p>      the servers' key prefix (env JOBWAIT_REDIS_PREFIX, default jobwait:)
  --json              print JSON
  -h, --help          show this help`;

/** What creating the first key does to servers on that data, said when it happens. */
const KEYS_TURNED_ON =
  'this was the first key: every server on this data now requires keys (a running one within a second), and revoking keys never turns that off; `jobwait keys open-access --yes` does';

/** The `keys` command. */
export const keysCommand: Command = {
  name: 'keys',
  summary: 'create, list and revoke API keys; open access again',
  usage: USAGE,
  async run({ argv, terminal, env }) {
    const { values, positionals } = parseCommandArgs(argv, {
      name: { type: 'string' },
      rate: { type: 'string' },
      burst: { type: 'string' },
      'webhook-url': { type: 'string' },
      'data-dir': { type: 'string' },
      store: { type: 'string' },
      'redis-url': { type: 'string' },
      'redis-prefix': { type: 'string' },
      yes: { type: 'boolean' },
    });
    if (values.help) return line(terminal, USAGE), EXIT.ok;
    const [action, ...rest] = positionals;
    // Loaded here, not at the top: every other command starts faster without SQLite.
    const { generateApiKey, openEngine, SERVER_DEFAULTS } = await import('@jobwait/server');
    const storeKind = values.store ?? env.JOBWAIT_STORE ?? SERVER_DEFAULTS.store;
    if (storeKind !== 'sqlite' && storeKind !== 'redis') throw new UsageError(`--store must be sqlite or redis for keys (a memory server keeps its keys to itself), got ${JSON.stringify(storeKind)}`);
    const dataDir = values['data-dir'] ?? env.JOBWAIT_DATA_DIR ?? SERVER_DEFAULTS.dataDir;
    const redisUrl = values['redis-url'] ?? env.JOBWAIT_REDIS_URL;
    const redisPrefix = values['redis-prefix'] ?? env.JOBWAIT_REDIS_PREFIX;
    if (redisUrl !== undefined && !/^rediss?:\/\/\S+$/.test(redisUrl)) throw new UsageError('--redis-url must be a redis:// or rediss:// URL');
    if (redisPrefix !== undefined && !/^[\x21-\x7e]{1,100}$/.test(redisPrefix)) throw new UsageError('--redis-prefix must be 1 to 100 printable characters without spaces');
    // The keys live where the server keeps everything else: its engine, on the same file or Redis prefix.
    const openStore = (): Engine =>
      openEngine({ ...SERVER_DEFAULTS, store: storeKind, dataDir, redisUrl: redisUrl ?? SERVER_DEFAULTS.redisUrl, redisPrefix: redisPrefix ?? SERVER_DEFAULTS.redisPrefix });
    if (action === 'create') {
      if (rest.length > 0) throw new UsageError('keys create takes no arguments; name the key with --name');
      if (!values.name || values.name.length > 100) throw new UsageError('keys create needs --name <name> (at most 100 characters)');
      const rate = values.rate === undefined ? undefined : Number(values.rate);
      const burst = values.burst === undefined ? undefined : Number(values.burst);
      if (rate !== undefined && !(rate > 0 && Number.isFinite(rate))) throw new UsageError('--rate must be a number of requests per second > 0');
      if (burst !== undefined && !(burst >= 1 && Number.isFinite(burst))) throw new UsageError('--burst must be a number >= 1');
      if (burst !== undefined && rate === undefined) throw new UsageError('--burst needs --rate');
      const webhookUrl = values['webhook-url'];
      if (webhookUrl !== undefined && !/^https?:\/\/\S+$/.test(webhookUrl)) throw new UsageError('--webhook-url must be an http(s) URL');
      const store = openStore();
      try {
        const made = generateApiKey();
        const record: ApiKeyRecord = { id: made.id, name: values.name, hash: made.hash, createdAt: Date.now() };
        if (rate !== undefined) record.rateLimit = { perSecond: rate, burst: burst ?? Math.max(1, Math.ceil(rate * 2)) };
        if (webhookUrl !== undefined) record.webhookUrl = webhookUrl;
        const wasOpen = !(await store.keys.requiresKeys());
        await store.keys.add(record);
        if (values.json) json(terminal, { id: made.id, name: values.name, key: made.key });
        else {
          line(terminal, made.key);
          terminal.err.write(`created key ${made.id} (${values.name}); it is shown only now, store it safely\n`);
        }
        if (wasOpen) terminal.err.write(`${KEYS_TURNED_ON}\n`);
        return EXIT.ok;
      } finally {
        await store.close();
      }
    }
    if (action === 'list') {
      const store = openStore();
      try {
        const keys = await store.keys.list();
        if (values.json) json(terminal, keys.map(listedKey));
        else if (keys.length === 0) line(terminal, 'no keys: the server runs open');
        else {
          line(terminal, keyTable(keys));
          const mode = await store.keys.accessMode();
          terminal.err.write(mode.keysRequired ? `keys required (${mode.reason})\n` : `running open, keys are not checked (${mode.reason})\n`);
        }
        return EXIT.ok;
      } finally {
        await store.close();
      }
    }
    if (action === 'revoke') {
      if (rest.length !== 1) throw new UsageError('keys revoke takes exactly one argument: the key id');
      const store = openStore();
      try {
        if (!(await store.keys.revoke(rest[0]!, Date.now()))) {
          terminal.err.write(`jobwait keys: no key with id ${rest[0]}\n`);
          return EXIT.requestFailed;
        }
        if (values.json) json(terminal, { id: rest[0], revoked: true });
        else line(terminal, `revoked ${rest[0]}`);
        if ((await store.keys.list()).every((k) => k.revokedAt !== undefined) && (await store.keys.requiresKeys())) {
          terminal.err.write('no active key is left: servers on this data still require keys, so every API request gets 401 until a key is created (or `jobwait keys open-access --yes`)\n');
        }
        return EXIT.ok;
      } finally {
        await store.close();
      }
    }
    if (action === 'open-access') {
      if (rest.length > 0) throw new UsageError('keys open-access takes no arguments');
      if (!values.yes) {
        throw new UsageError(
          'keys open-access turns API keys off for every server on this data: each request is then let in without a key, as one shared tenant. Run it again with --yes to do so',
        );
      }
      const store = openStore();
      try {
        if (!(await store.keys.requiresKeys())) {
          if (values.json) json(terminal, { accessMode: 'open', changed: false });
          else line(terminal, 'access is already open: keys are not checked');
          return EXIT.ok;
        }
        if (!(await store.keys.openAccess(Date.now()))) {
          const active = (await store.keys.list()).filter((k) => k.revokedAt === undefined).map((k) => k.id);
          terminal.err.write(`jobwait keys: ${active.length} key(s) still active (${active.join(', ')}): revoke them first (jobwait keys revoke <id>); keys stay required\n`);
          return EXIT.requestFailed;
        }
        if (values.json) json(terminal, { accessMode: 'open', changed: true });
        else line(terminal, 'access opened: servers on this data run open, every request acts as one tenant without a key');
        terminal.err.write('a running server notices within a second and logs it; creating a key turns keys on again\n');
        return EXIT.ok;
      } finally {
        await store.close();
      }
    }
    throw new UsageError(action === undefined ? 'keys needs an action: create, list, revoke or open-access' : `unknown keys action ${JSON.stringify(action)}`);
  },
};
