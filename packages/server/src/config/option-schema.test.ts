/**
 * Options declared once: what a schema derives (types, defaults, validation with ranges, `--help`
 * within 100 columns, `--print-config`, deprecation warnings), and the sources that feed it (flags,
 * environment, a config file with typed values).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from './config-error.js';
import { choice, deprecationWarnings, helpEntry, integer, list, number, printOptions, renderHelpEntries, resolveOptions, text, toggle, type OptionsOf, type ResolvedOf } from './option-schema.js';
import { readOptionSources } from './option-sources.js';
import { effectiveConfig, parseServerConfig, SERVER_HELP, type ServerConfig } from './server-config.js';
import { resolveServerOptions, SERVER_DEFAULTS, SERVER_SCHEMA } from './server-options.js';

const dir = mkdtempSync(join(tmpdir(), 'jobwait-options-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** A small schema of every kind. */
const SCHEMA = {
  wait: integer({ flag: 'wait', env: 'T_WAIT', arg: 's', min: 0, max: 3600, default: 60, description: 'longest hold' }),
  rate: number({ flag: 'rate', env: 'T_RATE', min: 0, max: 1, default: 0, description: 'share that fails' }),
  mode: choice({ flag: 'mode', env: 'T_MODE', choices: ['a', 'b'], default: 'a', description: 'which one' }),
  name: text({ flag: 'name', env: 'T_NAME', range: 'a word', description: 'a name', problem: (v) => (/^\w+$/.test(v) ? undefined : 'must be one word') }),
  hosts: list({ flag: 'hosts', env: 'T_HOSTS', range: 'hosts, comma-separated', default: [], description: 'hosts', entryProblem: (e) => (e.includes(' ') ? `${JSON.stringify(e)} has a space` : undefined) }),
  keys: list({ flag: 'keys', env: 'T_KEYS', noFlag: true, separator: /[\s,]+/, range: 'keys', default: [], description: 'keys' }),
  token: text({ flag: 'token', env: 'T_TOKEN', range: 'a token', secret: true, description: 'a secret' }),
  old: toggle({ flag: 'old', env: 'T_OLD', default: true, description: 'the old way', deprecated: 'it is always the new way now' }),
};

/** `fn` throws a ConfigError whose message matches `pattern`. */
function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

describe('what a schema derives', () => {
  it('types: given options are optional; resolved ones are set where a default exists', () => {
    const given: OptionsOf<typeof SCHEMA> = { wait: 5, mode: 'b' };
    // @ts-expect-error a choice takes only its words
    const wrong: OptionsOf<typeof SCHEMA> = { mode: 'c' };
    void wrong;
    const resolved: ResolvedOf<typeof SCHEMA> = resolveOptions(SCHEMA, given);
    const wait: number = resolved.wait;
    const mode: 'a' | 'b' = resolved.mode;
    // @ts-expect-error no default: may be undefined
    const name: string = resolved.name;
    void name;
    assert.deepEqual({ wait, mode, rate: resolved.rate, hosts: resolved.hosts, name: resolved.name }, { wait: 5, mode: 'b', rate: 0, hosts: [], name: undefined });
  });

  it('refuses a value out of range, stating the range and the value', () => {
    refused(() => resolveOptions(SCHEMA, { wait: -1 }), /^invalid wait: must be an integer between 0 and 3600, got -1$/);
    refused(() => resolveOptions(SCHEMA, { wait: 1.5 }), /an integer between 0 and 3600, got 1.5/);
    refused(() => resolveOptions(SCHEMA, { rate: 2 }), /^invalid rate: must be a number between 0 and 1, got 2$/);
    refused(() => resolveOptions(SCHEMA, { mode: 'c' as 'a' }), /^invalid mode: must be one of a, b, got "c"$/);
    refused(() => resolveOptions(SCHEMA, { name: 'two words' }), /^invalid name: must be one word$/);
    refused(() => resolveOptions(SCHEMA, { hosts: ['ok', 'not ok'] }), /"not ok" has a space/);
    refused(() => resolveOptions(SCHEMA, { wiat: 5 } as OptionsOf<typeof SCHEMA>), /^invalid wiat: unknown option/);
  });

  it('normalizes lists: entries trimmed, empty ones dropped, frozen', () => {
    const { hosts } = resolveOptions(SCHEMA, { hosts: [' a ', '', 'b'] });
    assert.deepEqual(hosts, ['a', 'b']);
    assert.ok(Object.isFrozen(hosts));
  });

  it('warns of a deprecated option only when it is given', () => {
    assert.deepEqual(deprecationWarnings(SCHEMA, {}), []);
    assert.deepEqual(deprecationWarnings(SCHEMA, { old: false }), ['--old is deprecated and has no effect: it is always the new way now']);
  });

  it('--help: each option with its range, default and variable, wrapped to the width', () => {
    const help = renderHelpEntries(Object.values(SCHEMA).map(helpEntry), 60);
    for (const line of help.split('\n')) assert.ok(line.length <= 60, line);
    const flat = help.replace(/\s+/g, ' ');
    assert.match(flat, /--wait <s> longest hold; an integer between 0 and 3600 \[default: 60\] \[env: T_WAIT\]/);
    assert.match(flat, /--name a name; a word \[default: none\] \[env: T_NAME\]/);
    assert.match(flat, /T_KEYS keys; keys \[default: none\] \[file: keys\]/, 'an option without a flag shows its variable');
    assert.match(flat, /--old deprecated, no effect: it is always the new way now/);
    assert.doesNotMatch(flat, /--keys/);
  });

  it('--print-config: flag names as keys, null for unset, secrets masked, deprecated left out', () => {
    const resolved = resolveOptions(SCHEMA, { token: 'sesame', hosts: ['h'] });
    const printed = printOptions(SCHEMA, resolved, (_option, value) => value);
    assert.deepEqual(printed, { wait: 60, rate: 0, mode: 'a', name: null, hosts: ['h'], keys: [], token: '***' });
  });
});

describe('sources: flag > environment variable > config file > default', () => {
  it('takes each option from the highest source that sets it, and names it as given', () => {
    const path = file('all.json', { wait: 30, rate: 0.5, mode: 'b', name: 'fromfile' });
    const given = readOptionSources(SCHEMA, ['--wait', '10', '--config', path], { T_WAIT: '20', T_RATE: '0.25' });
    assert.deepEqual(given.values, { wait: 10, rate: 0.25, mode: 'b', name: 'fromfile' });
    assert.equal(given.label('wait'), '--wait');
    assert.equal(given.label('rate'), 'T_RATE');
    assert.equal(given.label('mode'), `mode (in ${path})`);
  });

  it('reads a value that starts with a dash as the value, and refuses it with the range', () => {
    refused(() => readOptionSources(SCHEMA, ['--wait', '-1'], {}), /^invalid --wait: must be an integer between 0 and 3600, got -1$/);
    refused(() => readOptionSources(SCHEMA, ['--wait=-1'], {}), /^invalid --wait: must be an integer between 0 and 3600, got -1$/);
    refused(() => readOptionSources(SCHEMA, ['--wait'], {}), /^invalid --wait: needs a value/);
    refused(() => readOptionSources(SCHEMA, ['--nope', '1'], {}), /^invalid arguments: unknown option "--nope"; see --help$/);
    refused(() => readOptionSources(SCHEMA, ['stray'], {}), /^invalid arguments: unexpected argument "stray"/);
    refused(() => readOptionSources(SCHEMA, ['--keys', 'k'], {}), /unknown option "--keys"/);
  });

  it('converts text by the option type; an empty flag or variable counts as not given', () => {
    const given = readOptionSources(SCHEMA, ['--hosts', 'a, b,,c', '--name', ''], { T_KEYS: 'k1 k2,k3', T_OLD: 'off', T_MODE: '' });
    assert.deepEqual(given.values, { hosts: ['a', 'b', 'c'], keys: ['k1', 'k2', 'k3'], old: false });
    refused(() => readOptionSources(SCHEMA, [], { T_WAIT: 'soon' }), /^invalid T_WAIT: must be an integer between 0 and 3600, got "soon"$/);
    refused(() => readOptionSources(SCHEMA, [], { T_OLD: 'maybe' }), /^invalid T_OLD: must be on or off, got "maybe"$/);
  });

  it('takes typed values from the config file: a number is a JSON number', () => {
    refused(() => readOptionSources(SCHEMA, ['--config', file('s.json', { wait: '9000' })], {}), /^invalid wait \(in .*s\.json\): must be an integer between 0 and 3600 as a JSON number, got "9000"$/);
    refused(() => readOptionSources(SCHEMA, ['--config', file('b.json', { mode: true })], {}), /^invalid mode \(in .*b\.json\): must be one of a, b as a JSON string, got true$/);
    refused(() => readOptionSources(SCHEMA, ['--config', file('o.json', { hosts: { a: 1 } })], {}), /as a JSON array of strings/);
    refused(() => readOptionSources(SCHEMA, ['--config', file('u.json', { wiat: 1 })], {}), /^invalid wiat \(in .*u\.json\): unknown option/);
    const path = file('ok.json', { hosts: 'a,b', keys: ['k'], old: 'on', name: null });
    assert.deepEqual(readOptionSources(SCHEMA, [], { JOBWAIT_CONFIG: path }).values, { hosts: ['a', 'b'], keys: ['k'], old: true });
  });
});

describe('the server schema', () => {
  function parse(argv: string[], env: NodeJS.ProcessEnv = {}): ServerConfig {
    const config = parseServerConfig(argv, env);
    assert.notEqual(config, 'help');
    return config as ServerConfig;
  }

  it('holds every default once; those that follow another option are filled from it', () => {
    assert.equal(SERVER_DEFAULTS.maxWaitSeconds, 60);
    assert.equal(SERVER_DEFAULTS.rateLimit, 100);
    assert.ok(!('seed' in SERVER_DEFAULTS), 'no default: random');
    const resolved = resolveServerOptions({ rateLimit: 7, webhookRetryScheduleMs: [10, 20] });
    assert.equal(resolved.rateBurst, 14);
    assert.deepEqual(resolved.emailRetryScheduleMs, [10, 20]);
    assert.equal(resolveServerOptions({ rateLimit: 7, rateBurst: 3 }).rateBurst, 3);
  });

  it('--help fits 100 columns', () => {
    for (const line of SERVER_HELP.split('\n')) assert.ok(line.length <= 100, `${line.length}: ${line}`);
  });

  it('--hot-reads is still accepted, deprecated: a warning, and no line in --print-config', () => {
    const config = parse(['--hot-reads', 'on']);
    assert.equal(Object.hasOwn(effectiveConfig(config), 'hot-reads'), false);
    assert.deepEqual(deprecationWarnings(SERVER_SCHEMA, config.server), ['--hot-reads is deprecated and has no effect: the hot reads take the early path whenever it answers as the routes do, with no switch; accepted so that existing configs still start']);
    assert.deepEqual(deprecationWarnings(SERVER_SCHEMA, parse([]).server), []);
  });

  it('reads what --print-config prints back to the same configuration', () => {
    const printed = effectiveConfig(parse(['--port', '9090', '--trust-proxy', '10.0.0.0/8', '--rate-limit', '5', '--webhook-retry-schedule-ms', '100,200']));
    const again = effectiveConfig(parse(['--config', file('printed.json', printed)]));
    assert.deepEqual(again, printed);
  });

  it('refuses a string where the file needs a number, naming the key and the file', () => {
    assert.throws(() => parse(['--config', file('port.json', { port: '9000' })]), /^ConfigError: invalid port \(in .*port\.json\): must be an integer between 0 and 65535 as a JSON number, got "9000"$/);
  });
});
