/**
 * `jobwait-server`'s command line: its options from flags, environment and config file
 * (flag > environment variable > config file > default), its `--help` and its `--print-config`,
 * all from {@link SERVER_SCHEMA}.
 */
import { maskApiKey } from '../auth/api-key.js';
import { maskUrlPassword } from '../logging/log-options.js';
import { CONFIG_ENV, readOptionSources } from './option-sources.js';
import { deprecationWarnings, helpEntry, helpParagraph, printOptions, renderHelpEntries } from './option-schema.js';
import { resolveServerOptions, SERVER_SCHEMA, type ServerOptions } from './server-options.js';

/** Everything needed to run the server: where to listen and how to build it. */
export interface ServerConfig {
  /** Port to listen on. */
  port: number;
  /** Address to listen on. */
  host: string;
  /** Least level logged. */
  logLevel: string;
  /** The options the sources set, checked; defaults are left to `buildServer()`. */
  server: ServerOptions;
  /** `--print-config`: print {@link effectiveConfig} and exit instead of serving. */
  printConfig?: boolean;
  /** One line per deprecated option given. */
  warnings?: readonly string[];
}

/** `jobwait-server --help`, made from the schema: each line fits 100 columns. */
export const SERVER_HELP = [
  'Usage: jobwait-server [options]\n\n',
  helpParagraph('Serves the seed timer API (POST /start-timer, GET /status), the jobs API (/v1), long-poll, server-sent events, /openapi.json and /docs.'),
  '\nOptions (flag > environment variable > config file > default):\n',
  renderHelpEntries([
    {
      name: '--config <path>',
      text: `JSON file of these options, keyed by flag name, e.g. {"port": 8080, "data-dir": "/var/lib/jobwait", "api-keys": [...]}; values have the option's type; unknown keys are refused [default: none] [env: ${CONFIG_ENV}]`,
    },
    ...Object.values(SERVER_SCHEMA).map(helpEntry),
    { name: '--print-config', text: 'print the effective configuration as JSON, secrets masked, and exit' },
    { name: '-h, --help', text: 'show this help' },
  ]),
].join('');

/** Parses `argv` and `env` (and the config file they name); throws a `ConfigError` naming the bad option, or returns `'help'`. */
export function parseServerConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig | 'help' {
  const given = readOptionSources(SERVER_SCHEMA, argv, env);
  if (given.help) return 'help';
  // Checks what depends on more than one option, and names the option as the user gave it.
  const resolved = resolveServerOptions(given.values, given.label);
  const warnings = deprecationWarnings(SERVER_SCHEMA, given.values);
  return {
    port: resolved.port,
    host: resolved.host,
    logLevel: resolved.logLevel,
    server: given.values,
    ...(given.printConfig ? { printConfig: true } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/**
 * The configuration `config` runs with, defaults included, as a config-file object (flag names as
 * keys) with secrets masked: what `--print-config` prints. Secret options show `***`, passwords in
 * URLs `***`, API keys only their public id.
 */
export function effectiveConfig(config: ServerConfig): Record<string, unknown> {
  const resolved = resolveServerOptions({ ...config.server, port: config.port, host: config.host });
  return printOptions(SERVER_SCHEMA, resolved, (option, value) => {
    if (option === SERVER_SCHEMA.apiKeys) return (value as string[]).map(maskApiKey);
    if (option === SERVER_SCHEMA.ingestSources) return (value as { url: string }[]).map((source) => ({ ...source, url: maskUrlPassword(source.url) }));
    return typeof value === 'string' ? maskUrlPassword(value) : value;
  });
}
