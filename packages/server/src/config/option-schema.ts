/**
 * Options declared once. Each option states its type, default, description,
 * flag, environment variable and range in one declaration; from a schema of
 * them come the TypeScript type of the options (given and resolved), their
 * validation with messages that state the range, `--help`, `--print-config`
 * and the warnings of deprecated options. Adding an option is one entry.
 */
import { ConfigError } from './config-error.js';

/** Thrown by an option's checks; turned into a {@link ConfigError} naming the option as the user gave it. */
class OptionProblem extends Error {}

function refuse(detail: string): never {
  throw new OptionProblem(detail);
}

/** `value` as a message shows it. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value) || (value !== null && typeof value === 'object')) return JSON.stringify(value) ?? String(value);
  return String(value);
}

/** What every option declares. */
export interface OptionSpec {
  /** Name without dashes (`max-wait`): the flag `--max-wait`, the config-file key and the `--print-config` key. */
  readonly flag: string;
  /** Environment variable (`JOBWAIT_MAX_WAIT`). */
  readonly env?: string;
  /** What it does, in a few words (help text). */
  readonly description: string;
  /** Placeholder of the value in `--help` (`s`, `path`). */
  readonly arg?: string;
  /** `--help`'s words for the default when the value alone does not say it (`random`, `2 x rate-limit`). */
  readonly defaultText?: string;
  /** The whole value is a secret: `--print-config` shows `***`. */
  readonly secret?: boolean;
  /** Not a command-line flag, so it never shows in `ps`: environment variable and config file only. */
  readonly noFlag?: boolean;
  /** Still accepted (old config files and scripts start) but without effect; says what to do instead. */
  readonly deprecated?: string;
}

/** One declared option whose values have type `T`; `HasDefault` says whether a resolved value can be undefined. */
export interface Option<T, HasDefault extends boolean = boolean> extends OptionSpec {
  /** Value when no source gives one. */
  readonly default: HasDefault extends true ? T : T | undefined;
  /** The values it takes, as a phrase (`an integer between 1 and 3600`); in `--help` and in every refusal. */
  readonly range: string;
  /** Checks a value (given in code, or converted from text or JSON) and returns it normalized. */
  check(value: unknown): T;
  /** Converts the text of a flag or environment variable. */
  fromText(text: string): unknown;
  /** Converts a config-file value; JSON types are strict (`"9000"` is not a number). */
  fromJson(value: unknown): unknown;
  /** The value as a config file writes it (what `--print-config` prints). */
  toJson(value: T): unknown;
}

/** Any option, whatever its value type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOption = Option<any, boolean>;

/** Options by their name in code (`maxWaitSeconds`). */
export type Schema = Readonly<Record<string, AnyOption>>;

/** The value type of an option. */
export type ValueOf<O> = O extends Option<infer T, boolean> ? T : never;

/** Options as a caller gives them: each may be left out. */
export type OptionsOf<S extends Schema> = { [K in keyof S]?: ValueOf<S[K]> | undefined };

/** Options with their defaults filled in: only those without a default may be undefined. */
export type ResolvedOf<S extends Schema> = {
  readonly [K in keyof S]: S[K] extends Option<infer T, infer D> ? (D extends true ? T : T | undefined) : never;
};

type Spec<D> = OptionSpec & { readonly default?: D };
type Has<D> = [D] extends [undefined] ? false : true;

function option<T, D extends T | undefined>(
  spec: Spec<D>,
  range: string,
  parts: { check(value: unknown): T; fromText(text: string): unknown; fromJson(value: unknown): unknown; toJson?(value: T): unknown },
): Option<T, Has<D>> {
  return Object.freeze({
    ...spec,
    default: spec.default as Option<T, Has<D>>['default'],
    range,
    check: parts.check,
    fromText: parts.fromText,
    fromJson: parts.fromJson,
    toJson: parts.toJson ?? ((value: T) => value),
  });
}

/** Text of a number given as text: a number, or the text itself (refused by the check, quoted). */
function numberText(text: string): unknown {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  return Number.isNaN(value) ? text : value;
}

function jsonNumber(range: string) {
  return (value: unknown): unknown => (typeof value === 'number' ? value : refuse(`must be ${range} as a JSON number, got ${show(value)}`));
}

function jsonString(range: string) {
  return (value: unknown): unknown => (typeof value === 'string' ? value : refuse(`must be ${range} as a JSON string, got ${show(value)}`));
}

/** A whole number from `min` to `max` (safe integers where a bound is left out). */
export function integer<D extends number | undefined = undefined>(spec: Spec<D> & { min?: number; max?: number }): Option<number, Has<D>> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = spec;
  const range = spec.min === undefined && spec.max === undefined ? 'an integer' : spec.max === undefined ? `an integer of at least ${min}` : `an integer between ${min} and ${max}`;
  return option<number, D>(spec, range, {
    check: (value) => (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : refuse(`must be ${range}, got ${show(value)}`)),
    fromText: numberText,
    fromJson: jsonNumber(range),
  });
}

/** A finite number in a range; `above` excludes its bound (`> 0`), `min` includes it. */
export function number<D extends number | undefined = undefined>(spec: Spec<D> & ({ min: number; above?: never } | { above: number; min?: never }) & { max?: number }): Option<number, Has<D>> {
  const low = spec.above !== undefined ? `greater than ${spec.above}` : spec.max !== undefined ? `between ${spec.min} and ${spec.max}` : `of at least ${spec.min}`;
  const range = spec.above !== undefined && spec.max !== undefined ? `a number ${low} and at most ${spec.max}` : `a number ${low}`;
  const inRange = (n: number): boolean =>
    Number.isFinite(n) && (spec.above !== undefined ? n > spec.above : n >= (spec.min ?? -Infinity)) && (spec.max === undefined || n <= spec.max);
  return option<number, D>(spec, range, {
    check: (value) => (typeof value === 'number' && inRange(value) ? value : refuse(`must be ${range}, got ${show(value)}`)),
    fromText: numberText,
    fromJson: jsonNumber(range),
  });
}

/** One of a few words. */
export function choice<const C extends readonly [string, ...string[]], D extends C[number] | undefined = undefined>(spec: Spec<D> & { choices: C }): Option<C[number], Has<D>> {
  const range = `one of ${spec.choices.join(', ')}`;
  return option<C[number], D>(spec, range, {
    check: (value) => (typeof value === 'string' && spec.choices.includes(value) ? value : refuse(`must be ${range}, got ${show(value)}`)),
    fromText: (text) => text,
    fromJson: jsonString(range),
  });
}

/** Text; `problem` says what is wrong with a string (or nothing when it is fine). */
export function text<D extends string | undefined = undefined>(spec: Spec<D> & { range: string; problem?: (value: string) => string | undefined }): Option<string, Has<D>> {
  return option<string, D>(spec, spec.range, {
    check: (value) => {
      if (typeof value !== 'string') return refuse(`must be ${spec.range}, got ${show(value)}`);
      const problem = spec.problem?.(value);
      return problem === undefined ? value : refuse(problem);
    },
    fromText: (text) => text,
    fromJson: jsonString(spec.range),
  });
}

/**
 * A structured value: JSON text as a flag or variable, the JSON value itself in a file; `normalize`
 * checks it (throwing an Error whose message says what is wrong) and returns it with defaults filled.
 */
export function json<T, D extends T | undefined = undefined>(spec: Spec<D> & { range: string; normalize: (value: unknown) => T }): Option<T, Has<D>> {
  return option<T, D>(spec, spec.range, {
    check: (value) => {
      try {
        return spec.normalize(value);
      } catch (error) {
        return refuse((error as Error).message);
      }
    },
    fromText: (text) => {
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        return refuse(`must be ${spec.range} as JSON: ${(error as Error).message}`);
      }
    },
    fromJson: (value) => value,
  });
}

/** On or off: `on`/`off`/`true`/`false` as text, a boolean (or those words) in a file. */
export function toggle<D extends boolean | undefined = undefined>(spec: Spec<D>): Option<boolean, Has<D>> {
  const range = 'on or off';
  const word = (value: unknown): unknown => (value === 'on' || value === 'true' ? true : value === 'off' || value === 'false' ? false : value);
  return option<boolean, D>(spec, range, {
    check: (value) => (typeof value === 'boolean' ? value : refuse(`must be ${range}, got ${show(value)}`)),
    fromText: word,
    fromJson: word,
  });
}

/**
 * A list of words: comma-separated as text (`separator`), a JSON array of strings (or that text) in a
 * file. Entries are trimmed, empty ones dropped; `entryProblem` says what is wrong with one.
 */
export function list<D extends readonly string[] | undefined = undefined>(
  spec: Spec<D> & { range: string; separator?: RegExp; entryProblem?: (entry: string) => string | undefined },
): Option<readonly string[], Has<D>> {
  const split = (text: string): string[] => text.split(spec.separator ?? /,/);
  return option<readonly string[], D>(spec, spec.range, {
    check: (value) => {
      if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) return refuse(`must be ${spec.range}, got ${show(value)}`);
      const entries = (value as string[]).map((entry) => entry.trim()).filter((entry) => entry !== '');
      for (const entry of entries) {
        const problem = spec.entryProblem?.(entry);
        if (problem !== undefined) refuse(problem);
      }
      return Object.freeze(entries);
    },
    fromText: split,
    fromJson: (value) => (typeof value === 'string' ? split(value) : Array.isArray(value) ? value : refuse(`must be ${spec.range} as a JSON array of strings, got ${show(value)}`)),
    toJson: (value) => [...value],
  });
}

/** A list of numbers: comma-separated as text, a JSON array of numbers (or that text) in a file; `normalize` checks and returns it. */
export function numberList<D extends readonly number[] | undefined = undefined>(spec: Spec<D> & { range: string; normalize: (value: readonly number[]) => readonly number[] }): Option<readonly number[], Has<D>> {
  const split = (text: string): unknown[] => text.split(',').map(numberText);
  return option<readonly number[], D>(spec, spec.range, {
    check: (value) => {
      if (!Array.isArray(value) || !value.every((n) => typeof n === 'number' && Number.isFinite(n))) return refuse(`must be ${spec.range}, got ${show(value)}`);
      try {
        return spec.normalize(value as number[]);
      } catch (error) {
        return refuse((error as Error).message);
      }
    },
    fromText: split,
    fromJson: (value) => (typeof value === 'string' ? split(value) : Array.isArray(value) ? value : refuse(`must be ${spec.range} as a JSON array of numbers, got ${show(value)}`)),
    toJson: (value) => [...value],
  });
}

/** Runs `read` and names the option as `label` in what it refuses. */
export function asOption<T>(label: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof OptionProblem) throw new ConfigError(label, error.message);
    throw error;
  }
}

/** The value of `option` given as `value` (text or checked value), checked; refusals name `label`. */
export function checkOption<T>(option: Option<T>, value: unknown, label = option.flag): T {
  return asOption(label, () => option.check(value));
}

/**
 * `given` with every option checked and every default filled in. A key the schema does not declare
 * is refused: a misspelled option must not be ignored in silence.
 */
export function resolveOptions<S extends Schema>(schema: S, given: OptionsOf<S>, label: (key: keyof S & string) => string = (key) => schema[key]!.flag): ResolvedOf<S> {
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(schema, key) && (given as Record<string, unknown>)[key] !== undefined) throw new ConfigError(key, `unknown option; known: ${Object.keys(schema).join(', ')}`);
  }
  const resolved: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(schema)) {
    const value = (given as Record<string, unknown>)[key];
    resolved[key] = value === undefined ? option.default : checkOption(option, value, label(key));
  }
  return resolved as ResolvedOf<S>;
}

/** One warning for each deprecated option that `given` sets. */
export function deprecationWarnings<S extends Schema>(schema: S, given: OptionsOf<S>): string[] {
  return Object.entries(schema)
    .filter(([key, option]) => option.deprecated !== undefined && (given as Record<string, unknown>)[key] !== undefined)
    .map(([, option]) => `--${option.flag} is deprecated and has no effect: ${option.deprecated}`);
}

/**
 * `resolved` as a config file writes it, keyed by flag name, in schema order: what `--print-config`
 * prints. `mask` hides secrets (a secret option's whole value is masked before it is called);
 * deprecated options are left out; an unset option is `null`.
 */
export function printOptions<S extends Schema>(schema: S, resolved: ResolvedOf<S>, mask: (option: AnyOption, value: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(schema)) {
    if (option.deprecated !== undefined) continue;
    const value = (resolved as Record<string, unknown>)[key];
    out[option.flag] = value === undefined ? null : option.secret ? '***' : mask(option, option.toJson(value));
  }
  return out;
}

/** One entry of `--help` that is not an option of a schema (`--config`, `--help`). */
export interface HelpEntry {
  /** Left column (`--config <path>`). */
  readonly name: string;
  /** What it does. */
  readonly text: string;
}

/** Where help text starts on a line. */
const HELP_TEXT_COLUMN = 30;

/** The `--help` entry of `option`: what it does, its range, default and environment variable. */
export function helpEntry(option: AnyOption): HelpEntry {
  const name = option.noFlag ? (option.env ?? option.flag) : `--${option.flag}${option.arg ? ` <${option.arg}>` : ''}`;
  if (option.deprecated !== undefined) return { name, text: `deprecated, no effect: ${option.deprecated}${option.env && !option.noFlag ? ` [env: ${option.env}]` : ''}` };
  const value = option.default === undefined ? undefined : option.toJson(option.default);
  const defaultText =
    option.defaultText ??
    (value === undefined || (Array.isArray(value) && value.length === 0) ? 'none' : Array.isArray(value) ? value.join(', ') : typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value));
  const sources = [`[default: ${defaultText}]`, ...(option.env && !option.noFlag ? [`[env: ${option.env}]`] : []), ...(option.noFlag ? [`[file: ${option.flag}]`] : [])];
  return { name, text: `${option.description}; ${option.range} ${sources.join(' ')}` };
}

/** `text` in lines of at most `width` characters (a longer word is cut). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  const words = text.split(/\s+/).flatMap((word) => word.match(new RegExp(`.{1,${width}}`, 'g')) ?? []);
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Entries as `--help` lines fitting `width` columns: the name on the left, the text wrapped beside it. */
export function renderHelpEntries(entries: readonly HelpEntry[], width = 100): string {
  const out: string[] = [];
  const indent = ' '.repeat(HELP_TEXT_COLUMN);
  for (const { name, text } of entries) {
    const lines = wrap(text, width - HELP_TEXT_COLUMN);
    const head = `  ${name}`;
    if (head.length <= HELP_TEXT_COLUMN - 2) out.push(`${head.padEnd(HELP_TEXT_COLUMN)}${lines.shift() ?? ''}`.trimEnd());
    else out.push(head);
    for (const line of lines) out.push(`${indent}${line}`);
  }
  return `${out.join('\n')}\n`;
}

/** Wraps a paragraph of `--help` prose to `width` columns. */
export function helpParagraph(text: string, width = 100): string {
  return `${wrap(text, width).join('\n')}\n`;
}
