/**
 * Flags, environment variables and the config file, merged in one place:
 * flag > environment variable > config file > default. Every value is
 * converted and checked by its option's declaration, and a refusal names the
 * option as the user gave it (`--max-wait`, `JOBWAIT_MAX_WAIT`,
 * `max-wait (in /etc/jobwait.json)`).
 */
import { ConfigError } from './config-error.js';
import { fileLabel, readConfigFile } from './config-file.js';
import { asOption, type OptionsOf, type Schema } from './option-schema.js';

/** Environment variable naming the config file (the `--config` flag overrides it). */
export const CONFIG_ENV = 'JOBWAIT_CONFIG';

/** The options the sources give, before defaults, and how each was named. */
export interface GivenOptions<S extends Schema> {
  /** Each option some source sets, checked. */
  values: OptionsOf<S>;
  /** How the user named each option it set; for messages about it. */
  label(key: keyof S & string): string;
  /** `-h`/`--help` was given. */
  help: boolean;
  /** `--print-config` was given. */
  printConfig: boolean;
}

/** The command line as option texts: `--name value` and `--name=value`; a value may start with `-` (`--max-wait -1`). */
function readArgv(schema: Schema, argv: readonly string[]): { texts: Map<string, string>; config?: string; help: boolean; printConfig: boolean } {
  const byFlag = new Map(Object.entries(schema).filter(([, option]) => !option.noFlag).map(([key, option]) => [option.flag, key]));
  const texts = new Map<string, string>();
  let config: string | undefined;
  let help = false;
  let printConfig = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (arg === '--print-config') {
      printConfig = true;
      continue;
    }
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    const name = match?.[1];
    const key = name === undefined ? undefined : byFlag.get(name);
    if (name === undefined || (key === undefined && name !== 'config')) {
      throw new ConfigError('arguments', `${arg.startsWith('-') ? 'unknown option' : 'unexpected argument'} ${JSON.stringify(arg)}; see --help`);
    }
    let value = match?.[2];
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new ConfigError(`--${name}`, 'needs a value; see --help');
      value = argv[++i]!;
    }
    if (key === undefined) config = value;
    else texts.set(key, value);
  }
  return { texts, ...(config === undefined ? {} : { config }), help, printConfig };
}

/**
 * Reads `argv`, `env` and the config file they name, for the options of `schema`. An empty flag or
 * variable counts as not given. Throws a `ConfigError` naming the first bad option.
 */
export function readOptionSources<S extends Schema>(schema: S, argv: readonly string[], env: NodeJS.ProcessEnv): GivenOptions<S> {
  const args = readArgv(schema, argv);
  const given = (text: string | undefined): string | undefined => (text === undefined || text === '' ? undefined : text);
  const configPath = given(args.config) ?? given(env[CONFIG_ENV]);
  const file = args.help || configPath === undefined ? undefined : readConfigFile(configPath, schema);
  const labels = new Map<string, string>();
  const values: Record<string, unknown> = {};
  if (!args.help) {
    for (const [key, option] of Object.entries(schema)) {
      const flagText = given(args.texts.get(key));
      const envText = option.env === undefined ? undefined : given(env[option.env]);
      let label: string;
      let read: () => unknown;
      if (flagText !== undefined) {
        label = `--${option.flag}`;
        read = () => option.check(option.fromText(flagText));
      } else if (envText !== undefined) {
        label = option.env!;
        read = () => option.check(option.fromText(envText));
      } else if (file?.values.has(key)) {
        label = fileLabel(option.flag, file.path);
        read = () => option.check(option.fromJson(file.values.get(key)));
      } else continue;
      labels.set(key, label);
      values[key] = asOption(label, read);
    }
  }
  return {
    values: values as OptionsOf<S>,
    label: (key) => labels.get(key) ?? `--${schema[key]!.flag}`,
    help: args.help,
    printConfig: args.printConfig,
  };
}
