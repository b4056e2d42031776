/**
 * The server's command line and environment, turned into `ServerOptions`.
 * Precedence: flag > environment variable > default.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, SERVER_DEFAULTS, normalizeServerOptions, type ServerOptions } from './server-options.js';

/** Everything needed to run the server: where to listen and how to build it. */
export interface ServerConfig {
  port: number;
  host: string;
  logLevel: string;
  server: ServerOptions;
}

/** Defaults of where to listen. */
export const LISTEN_DEFAULTS = Object.freeze({ port: 8080, host: '127.0.0.1', logLevel: 'info' });

/** `jobwait-server --help`. */
export const SERVER_HELP = `Usage: jobwait-server [options]

Serves the seed timer API (POST /start-timer, GET /status), the jobs API (/v1),
long-poll, server-sent events, /openapi.json and /docs.

Options (flag > environment variable > default):
  --port <n>            port to listen on            PORT                  (default ${LISTEN_DEFAULTS.port}; 0 picks a free one)
  --host <addr>         address to listen on         HOST                  (default ${LISTEN_DEFAULTS.host})
  --store <kind>        sqlite | memory              JOBWAIT_STORE         (default ${SERVER_DEFAULTS.store})
  --data-dir <path>     folder of the SQLite file    JOBWAIT_DATA_DIR      (default ${SERVER_DEFAULTS.dataDir})
  --max-duration <s>    largest job duration, s      JOBWAIT_MAX_DURATION  (default ${SERVER_DEFAULTS.maxDurationSeconds})
  --error-rate <0..1>   share of jobs that fail      JOBWAIT_ERROR_RATE    (default ${SERVER_DEFAULTS.errorRate})
  --seed <int>          seed of the failure draws    JOBWAIT_SEED          (default random)
  --max-wait <s>        longest long-poll hold, s    JOBWAIT_MAX_WAIT      (default ${SERVER_DEFAULTS.maxWaitSeconds})
  --heartbeat-ms <ms>   SSE heartbeat interval       JOBWAIT_HEARTBEAT_MS  (default ${SERVER_DEFAULTS.heartbeatMs})
  --rate-limit <n>      requests/s per key (per IP   JOBWAIT_RATE_LIMIT    (default 100; 0 turns limits off)
                        when open)
  --rate-burst <n>      burst size of that limit     JOBWAIT_RATE_BURST    (default 2 x rate-limit)
  --api-keys-file <p>   file of keys, one per line   JOBWAIT_API_KEYS_FILE (keys are also read from JOBWAIT_API_KEYS,
                                                                          comma-separated; none = open server)
  --log-level <level>   fatal|error|warn|info|debug  JOBWAIT_LOG_LEVEL     (default ${LISTEN_DEFAULTS.logLevel})
  -h, --help            show this help
`;

const FLAGS = {
  port: { type: 'string', env: 'PORT' },
  host: { type: 'string', env: 'HOST' },
  store: { type: 'string', env: 'JOBWAIT_STORE' },
  'data-dir': { type: 'string', env: 'JOBWAIT_DATA_DIR' },
  'max-duration': { type: 'string', env: 'JOBWAIT_MAX_DURATION' },
  'error-rate': { type: 'string', env: 'JOBWAIT_ERROR_RATE' },
  seed: { type: 'string', env: 'JOBWAIT_SEED' },
  'max-wait': { type: 'string', env: 'JOBWAIT_MAX_WAIT' },
  'heartbeat-ms': { type: 'string', env: 'JOBWAIT_HEARTBEAT_MS' },
  'rate-limit': { type: 'string', env: 'JOBWAIT_RATE_LIMIT' },
  'rate-burst': { type: 'string', env: 'JOBWAIT_RATE_BURST' },
  'api-keys-file': { type: 'string', env: 'JOBWAIT_API_KEYS_FILE' },
  'log-level': { type: 'string', env: 'JOBWAIT_LOG_LEVEL' },
} as const;

/** Parses `argv` and `env`; throws `ConfigError` naming the bad option, or returns `'help'`. */
export function parseServerConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...Object.fromEntries(Object.entries(FLAGS).map(([k, v]) => [k, { type: v.type }])), help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError('arguments', `${(error as Error).message}; see --help`);
  }
  if (values.help) return 'help';
  const pick = (name: keyof typeof FLAGS): string | undefined => {
    const value = values[name] ?? env[FLAGS[name].env];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const number = (name: keyof typeof FLAGS): number | undefined => {
    const raw = pick(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new ConfigError(`--${name} (${FLAGS[name].env})`, `must be a number, got ${JSON.stringify(raw)}`);
    return value;
  };
  const port = number('port') ?? LISTEN_DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('--port (PORT)', `must be a whole number from 0 to 65535, got ${port}`);
  const logLevel = pick('log-level') ?? LISTEN_DEFAULTS.logLevel;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new ConfigError('--log-level (JOBWAIT_LOG_LEVEL)', `unknown level ${JSON.stringify(logLevel)}`);
  const server: ServerOptions = { logger: { level: logLevel } };
  const store = pick('store');
  if (store !== undefined) server.store = store as ServerOptions['store'] & string;
  const dataDir = pick('data-dir');
  if (dataDir !== undefined) server.dataDir = dataDir;
  const maxDuration = number('max-duration');
  if (maxDuration !== undefined) server.maxDurationSeconds = maxDuration;
  const errorRate = number('error-rate');
  if (errorRate !== undefined) server.errorRate = errorRate;
  const seed = number('seed');
  if (seed !== undefined) server.seed = seed;
  const maxWait = number('max-wait');
  if (maxWait !== undefined) server.maxWaitSeconds = maxWait;
  const heartbeat = number('heartbeat-ms');
  if (heartbeat !== undefined) server.heartbeatMs = heartbeat;
  const rate = number('rate-limit');
  const burst = number('rate-burst');
  if (rate === 0) server.rateLimit = false;
  else if (rate !== undefined || burst !== undefined) {
    const perSecond = rate ?? 100;
    server.rateLimit = { perSecond, burst: burst ?? Math.max(1, Math.ceil(perSecond * 2)) };
  }
  const keys = (env.JOBWAIT_API_KEYS ?? '').split(/[\s,]+/).filter(Boolean);
  const keysFile = pick('api-keys-file');
  if (keysFile !== undefined) {
    try {
      keys.push(...readFileSync(keysFile, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
    } catch (error) {
      throw new ConfigError('--api-keys-file (JOBWAIT_API_KEYS_FILE)', `cannot read ${keysFile}: ${(error as Error).message}`);
    }
  }
  if (keys.length > 0) server.apiKeys = keys;
  normalizeServerOptions(server);
  return { port, host: pick('host') ?? LISTEN_DEFAULTS.host, logLevel, server };
}
