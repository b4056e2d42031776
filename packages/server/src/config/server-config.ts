/**
 * The server's command line, environment and optional config file, turned into `ServerOptions`.
 * Precedence: flag > environment variable > config file > default.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { API_KEYS_KEY, maskSecrets, readConfigFile, type ConfigFile } from './config-file.js';
import { ConfigError, SERVER_DEFAULTS, normalizeServerOptions, type ServerOptions } from './server-options.js';

/** Everything needed to run the server: where to listen and how to build it. */
export interface ServerConfig {
  port: number;
  host: string;
  logLevel: string;
  server: ServerOptions;
  /** `--print-config`: print {@link effectiveConfig} and exit instead of serving. */
  printConfig?: boolean;
  /** Each option's text as given (flag > env > config file), before defaults; for {@link effectiveConfig}. */
  settings?: Readonly<Record<string, string | undefined>>;
}

/** Defaults of where to listen. */
export const LISTEN_DEFAULTS = Object.freeze({ port: 8080, host: '127.0.0.1', logLevel: 'info' });

/** `jobwait-server --help`. */
export const SERVER_HELP = `Usage: jobwait-server [options]

Serves the seed timer API (POST /start-timer, GET /status), the jobs API (/v1),
long-poll, server-sent events, /openapi.json and /docs.

Options (flag > environment variable > config file > default):
  --config <path>       JSON file of these options   JOBWAIT_CONFIG        (default none; keys are the flag names, e.g.
                                                                          {"port": 8080, "data-dir": "/var/lib/jobwait"},
                                                                          plus "api-keys": [...]; unknown keys are refused)
  --port <n>            port to listen on            PORT                  (default ${LISTEN_DEFAULTS.port}; 0 picks a free one)
  --host <addr>         address to listen on         HOST                  (default ${LISTEN_DEFAULTS.host})
  --store <kind>        sqlite | memory | redis      JOBWAIT_STORE         (default ${SERVER_DEFAULTS.store})
  --redis-url <url>     Redis of --store redis       JOBWAIT_REDIS_URL     (default ${SERVER_DEFAULTS.redisUrl})
  --redis-prefix <p>    prefix of its keys/channel   JOBWAIT_REDIS_PREFIX  (default ${SERVER_DEFAULTS.redisPrefix})
  --retention <s>       keep finished jobs, s        JOBWAIT_RETENTION_SECONDS (default ${SERVER_DEFAULTS.retentionSeconds} = 7 days;
                                                                          applied by --store redis)
  --data-dir <path>     folder of the SQLite file    JOBWAIT_DATA_DIR      (default ${SERVER_DEFAULTS.dataDir})
  --max-duration <s>    largest job duration, s      JOBWAIT_MAX_DURATION  (default ${SERVER_DEFAULTS.maxDurationSeconds})
  --error-rate <0..1>   share of jobs that fail      JOBWAIT_ERROR_RATE    (default ${SERVER_DEFAULTS.errorRate})
  --seed <int>          seed of the failure draws    JOBWAIT_SEED          (default random)
  --max-wait <s>        longest long-poll hold, s    JOBWAIT_MAX_WAIT      (default ${SERVER_DEFAULTS.maxWaitSeconds})
  --heartbeat-ms <ms>   SSE heartbeat interval       JOBWAIT_HEARTBEAT_MS  (default ${SERVER_DEFAULTS.heartbeatMs})
  --rate-limit <n>      requests/s per key (per IP   JOBWAIT_RATE_LIMIT    (default 100; 0 turns limits off)
                        when open)
  --rate-burst <n>      burst size of that limit     JOBWAIT_RATE_BURST    (default 2 x rate-limit)
  --api-keys-file <p>   file of keys, one per line   JOBWAIT_API_KEYS_FILE (default none; keys are also read from
                                                                          JOBWAIT_API_KEYS, comma-separated; no key at all
                                                                          = open server)
  --webhook-secret <s>  one whsec_<base64> signing  JOBWAIT_WEBHOOK_SECRET (default: each key gets its own, generated on
                        key for every API key                             first use and kept with the deliveries; a key
                        (prefer the env variable)                         reads its own at GET /v1/webhooks/secret)
  --webhook-allow-hosts <list>                       JOBWAIT_WEBHOOK_ALLOW_HOSTS (default none: loopback, private,
                        hosts, IPs, CIDRs webhooks                        link-local and special addresses are refused)
                        may call though special
  --webhook-retry-schedule-ms <list>                 JOBWAIT_WEBHOOK_RETRY_SCHEDULE_MS (default ${SERVER_DEFAULTS.webhookRetryScheduleMs.join(',')})
                        longest waits between retries, ms (full jitter); also used for email
  --webhook-timeout-ms <ms>  longest attempt, ms     JOBWAIT_WEBHOOK_TIMEOUT_MS (default ${SERVER_DEFAULTS.webhookTimeoutMs})
  --smtp-url <url>      SMTP server for notifyEmail  JOBWAIT_SMTP_URL      (default none: no email; e.g. smtp://127.0.0.1:25)
  --email-from <addr>   From: of those emails        JOBWAIT_EMAIL_FROM    (default "${SERVER_DEFAULTS.emailFrom}")
  --log-level <level>   fatal|error|warn|info|debug  JOBWAIT_LOG_LEVEL     (default ${LISTEN_DEFAULTS.logLevel})
  --trust-proxy <list>  proxies whose                JOBWAIT_TRUST_PROXY   (default none; e.g. 127.0.0.1,10.0.0.0/8:
                        X-Forwarded-For is believed                        per-IP limits and logs then see the client)
  --hot-reads <on|off>  plain GET /v1/jobs/{id} and  JOBWAIT_HOT_READS     (default on; off while --trust-proxy is set)
                        GET /status answered ahead of
                        Fastify's pipeline (same answers)
  --metrics-token <t>   token GET /metrics requires  JOBWAIT_METRICS_TOKEN (default none: /metrics is open)
                        (Authorization: Bearer <t>)
  --print-config        print the effective configuration as JSON, secrets masked, and exit
  -h, --help            show this help
`;

/** Every option that takes a value: its flag name (also its config-file key) and environment variable. */
export const FLAGS = {
  config: { type: 'string', env: 'JOBWAIT_CONFIG' },
  port: { type: 'string', env: 'PORT' },
  host: { type: 'string', env: 'HOST' },
  store: { type: 'string', env: 'JOBWAIT_STORE' },
  'redis-url': { type: 'string', env: 'JOBWAIT_REDIS_URL' },
  'redis-prefix': { type: 'string', env: 'JOBWAIT_REDIS_PREFIX' },
  retention: { type: 'string', env: 'JOBWAIT_RETENTION_SECONDS' },
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
  'webhook-secret': { type: 'string', env: 'JOBWAIT_WEBHOOK_SECRET' },
  'webhook-allow-hosts': { type: 'string', env: 'JOBWAIT_WEBHOOK_ALLOW_HOSTS' },
  'webhook-retry-schedule-ms': { type: 'string', env: 'JOBWAIT_WEBHOOK_RETRY_SCHEDULE_MS' },
  'webhook-timeout-ms': { type: 'string', env: 'JOBWAIT_WEBHOOK_TIMEOUT_MS' },
  'smtp-url': { type: 'string', env: 'JOBWAIT_SMTP_URL' },
  'email-from': { type: 'string', env: 'JOBWAIT_EMAIL_FROM' },
  'trust-proxy': { type: 'string', env: 'JOBWAIT_TRUST_PROXY' },
  'hot-reads': { type: 'string', env: 'JOBWAIT_HOT_READS' },
  'metrics-token': { type: 'string', env: 'JOBWAIT_METRICS_TOKEN' },
} as const;

/** Parses `argv` and `env`; throws `ConfigError` naming the bad option, or returns `'help'`. */
export function parseServerConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(Object.entries(FLAGS).map(([k, v]) => [k, { type: v.type }])),
        help: { type: 'boolean', short: 'h' },
        'print-config': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError('arguments', `${(error as Error).message}; see --help`);
  }
  if (values.help) return 'help';
  const given = (value: string | boolean | undefined): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  const configPath = given(values.config) ?? given(env.JOBWAIT_CONFIG);
  const file: ConfigFile | undefined = configPath === undefined ? undefined : readConfigFile(configPath, Object.keys(FLAGS).filter((k) => k !== 'config'));
  const sourceOf = (name: keyof typeof FLAGS): 'flag' | 'env' | 'file' | undefined =>
    given(values[name]) !== undefined ? 'flag' : given(env[FLAGS[name].env]) !== undefined ? 'env' : file?.values.has(name) ? 'file' : undefined;
  const pick = (name: keyof typeof FLAGS): string | undefined => {
    const source = sourceOf(name);
    return source === 'flag' ? given(values[name]) : source === 'env' ? given(env[FLAGS[name].env]) : source === 'file' ? file?.values.get(name) : undefined;
  };
  /** The option as the user gave it: `--port`, `PORT`, or `port (in config.json)`. */
  const label = (name: keyof typeof FLAGS): string => {
    const source = sourceOf(name);
    return source === 'env' ? FLAGS[name].env : source === 'file' ? `${name} (in ${file?.path})` : `--${name}`;
  };
  const number = (name: keyof typeof FLAGS): number | undefined => {
    const raw = pick(name);
    if (raw === undefined) return undefined;
    const value = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(value)) throw new ConfigError(label(name), `must be a number, got ${JSON.stringify(raw)}`);
    return value;
  };
  const port = number('port') ?? LISTEN_DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(label('port'), `must be a whole number from 0 to 65535, got ${port}`);
  const logLevel = pick('log-level') ?? LISTEN_DEFAULTS.logLevel;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new ConfigError(label('log-level'), `unknown level ${JSON.stringify(logLevel)}`);
  const server: ServerOptions = { logger: { level: logLevel } };
  const store = pick('store');
  if (store !== undefined) server.store = store as ServerOptions['store'] & string;
  const dataDir = pick('data-dir');
  if (dataDir !== undefined) server.dataDir = dataDir;
  const redisUrl = pick('redis-url');
  if (redisUrl !== undefined) server.redisUrl = redisUrl;
  const redisPrefix = pick('redis-prefix');
  if (redisPrefix !== undefined) server.redisPrefix = redisPrefix;
  const retention = number('retention');
  if (retention !== undefined) server.retentionSeconds = retention;
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
  const hotReads = pick('hot-reads');
  if (hotReads !== undefined) {
    if (!['on', 'off', 'true', 'false'].includes(hotReads)) throw new ConfigError(label('hot-reads'), `must be on or off, got ${JSON.stringify(hotReads)}`);
    server.hotReads = hotReads === 'on' || hotReads === 'true';
  }
  const webhookSecret = pick('webhook-secret');
  if (webhookSecret !== undefined) server.webhookSecret = webhookSecret;
  const allowHosts = pick('webhook-allow-hosts');
  if (allowHosts !== undefined) server.webhookAllowHosts = allowHosts;
  const schedule = pick('webhook-retry-schedule-ms');
  if (schedule !== undefined) {
    const steps = schedule.split(',').map((step) => (step.trim() === '' ? Number.NaN : Number(step)));
    if (steps.some((step) => !Number.isFinite(step))) throw new ConfigError(label('webhook-retry-schedule-ms'), `must be comma-separated milliseconds, got ${JSON.stringify(schedule)}`);
    server.webhookRetryScheduleMs = steps;
  }
  const webhookTimeout = number('webhook-timeout-ms');
  if (webhookTimeout !== undefined) server.webhookTimeoutMs = webhookTimeout;
  const smtpUrl = pick('smtp-url');
  if (smtpUrl !== undefined) server.smtpUrl = smtpUrl;
  const emailFrom = pick('email-from');
  if (emailFrom !== undefined) server.emailFrom = emailFrom;
  const trustProxy = pick('trust-proxy');
  if (trustProxy !== undefined) server.trustProxy = trustProxy;
  const metricsToken = pick('metrics-token');
  if (metricsToken !== undefined) server.metricsToken = metricsToken;
  const envKeys = (env.JOBWAIT_API_KEYS ?? '').split(/[\s,]+/).filter(Boolean);
  const keys = envKeys.length > 0 ? envKeys : [...(file?.apiKeys ?? [])];
  const keysFile = pick('api-keys-file');
  if (keysFile !== undefined) {
    try {
      keys.push(...readFileSync(keysFile, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
    } catch (error) {
      throw new ConfigError(label('api-keys-file'), `cannot read ${keysFile}: ${(error as Error).message}`);
    }
  }
  if (keys.length > 0) server.apiKeys = keys;
  try {
    normalizeServerOptions(server);
  } catch (error) {
    // Name the option as the user gave it (flag, variable or file key).
    if (error instanceof ConfigError && Object.hasOwn(FLAGS, error.option)) throw new ConfigError(label(error.option as keyof typeof FLAGS), error.detail);
    throw error;
  }
  const settings = Object.fromEntries(Object.keys(FLAGS).map((name) => [name, pick(name as keyof typeof FLAGS)]));
  return { port, host: pick('host') ?? LISTEN_DEFAULTS.host, logLevel, server, settings, ...(values['print-config'] === true ? { printConfig: true } : {}) };
}

/**
 * The configuration `config` runs with, defaults included, as a config-file object (flag names as
 * keys) with secrets masked: what `--print-config` prints.
 */
export function effectiveConfig(config: ServerConfig): Record<string, unknown> {
  const o = normalizeServerOptions(config.server);
  const raw = config.settings ?? {};
  const known: Record<string, unknown> = {
    port: config.port,
    host: config.host,
    'log-level': config.logLevel,
    store: typeof o.store === 'string' ? o.store : 'custom',
    'redis-url': o.redisUrl,
    'redis-prefix': o.redisPrefix,
    retention: o.retentionSeconds,
    'data-dir': o.dataDir,
    'max-duration': o.maxDurationSeconds,
    'error-rate': o.errorRate,
    seed: o.seed,
    'max-wait': o.maxWaitSeconds,
    'heartbeat-ms': o.heartbeatMs,
    'rate-limit': o.rateLimit === false ? 0 : o.rateLimit.perSecond,
    'rate-burst': o.rateLimit === false ? undefined : o.rateLimit.burst,
    'trust-proxy': o.trustProxy.join(','),
    'hot-reads': o.hotReads ? 'on' : 'off',
    'metrics-token': o.metricsToken,
    'webhook-secret': o.webhookSecret,
    'webhook-allow-hosts': o.webhookAllowHosts.join(','),
    'webhook-retry-schedule-ms': o.webhookRetryScheduleMs.join(','),
    'webhook-timeout-ms': o.webhookTimeoutMs,
    'smtp-url': o.smtpUrl,
    'email-from': o.emailFrom,
  };
  const out: Record<string, unknown> = {};
  // In flag order; an option not mapped above shows its given text (or null for its default).
  for (const name of Object.keys(FLAGS)) if (name !== 'config') out[name] = name in known ? known[name] : raw[name];
  out[API_KEYS_KEY] = o.apiKeys;
  return maskSecrets(out);
}
