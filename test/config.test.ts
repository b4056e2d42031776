/**
 * Issue 9: one configuration story. Flags, `JOBWAIT_*` variables and an
 * optional JSON config file, in that order of precedence over the defaults;
 * bad configuration fails at start naming the option (exit 2 from the real
 * binary); `--help` lists every option with its default; `--print-config`
 * shows the effective configuration with secrets masked.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, effectiveConfig, generateApiKey, parseServerConfig, SERVER_HELP, SERVER_SCHEMA, type ServerConfig } from '@jobwait/server';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'jobwait-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `content` (JSON unless a string) to a config file and returns its path. */
function configFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function parse(argv: string[], env: NodeJS.ProcessEnv = {}): ServerConfig {
  const config = parseServerConfig(argv, env);
  assert.notEqual(config, 'help');
  return config as ServerConfig;
}

/** Asserts parsing fails with a ConfigError whose message matches every pattern. */
function refuses(argv: string[], env: NodeJS.ProcessEnv, ...patterns: RegExp[]): void {
  assert.throws(
    () => parseServerConfig(argv, env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `ConfigError expected, got ${String(error)}`);
      for (const pattern of patterns) assert.match(error.message, pattern);
      return true;
    },
  );
}

/** Runs the real binary (from source) and collects its exit code and output. */
function runBinary(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=jobwait-source', '--import', 'tsx', 'packages/server/src/bin.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('precedence: flag > environment variable > config file > default', () => {
  it('takes each option from the highest source that sets it', () => {
    const path = configFile('precedence.json', { port: 1111, 'max-wait': 30, 'data-dir': '/srv/from-file', 'error-rate': 0.25, 'log-level': 'warn' });
    const config = parse(['--port', '3333'], { JOBWAIT_CONFIG: path, PORT: '2222', JOBWAIT_MAX_WAIT: '40' });
    assert.equal(config.port, 3333, 'flag over env and file');
    assert.equal(config.server.maxWaitSeconds, 40, 'env over file');
    assert.equal(config.server.dataDir, '/srv/from-file', 'file over default');
    assert.equal(config.server.errorRate, 0.25);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.host, '127.0.0.1', 'default when no source sets it');
    assert.equal(config.server.store, undefined, 'left to buildServer defaults');
    const effective = effectiveConfig(config);
    assert.equal(effective.store, 'sqlite');
    assert.equal(effective['heartbeat-ms'], 15_000);
  });

  it('reads the file named by --config over the one in JOBWAIT_CONFIG', () => {
    const a = configFile('a.json', { port: 1001 });
    const b = configFile('b.json', { port: 1002 });
    assert.equal(parse(['--config', b], { JOBWAIT_CONFIG: a }).port, 1002);
    assert.equal(parse([], { JOBWAIT_CONFIG: a }).port, 1001);
  });

  it('takes API keys from the file only when JOBWAIT_API_KEYS is unset', () => {
    const [k1, k2] = [generateApiKey(), generateApiKey()];
    const path = configFile('keys.json', { 'api-keys': [k1.key] });
    assert.deepEqual(parse(['--config', path]).server.apiKeys, [k1.key]);
    assert.deepEqual(parse(['--config', path], { JOBWAIT_API_KEYS: k2.key }).server.apiKeys, [k2.key]);
  });

  it('reads back what --print-config prints', () => {
    const config = parse(['--port', '9090', '--store', 'memory', '--rate-limit', '5', '--seed', '7']);
    const printed = effectiveConfig(config);
    const again = parse(['--config', configFile('printed.json', printed)]);
    assert.deepEqual(effectiveConfig(again), printed);
  });
});

describe('invalid configuration fails fast, naming the option', () => {
  it('names a flag, a variable or a file key, as the user wrote it', () => {
    refuses(['--max-wait', '0'], {}, /invalid --max-wait/, /between 1 and 3600/);
    refuses(['--max-wait', '-1'], {}, /^invalid --max-wait: must be an integer between 1 and 3600, got -1$/);
    refuses(['--max-wait=-1'], {}, /^invalid --max-wait: must be an integer between 1 and 3600, got -1$/);
    refuses([], { JOBWAIT_MAX_WAIT: 'soon' }, /invalid JOBWAIT_MAX_WAIT: must be an integer between 1 and 3600, got "soon"/);
    const path = configFile('bad-value.json', { 'max-wait': 7200 });
    refuses(['--config', path], {}, /invalid max-wait \(in .*bad-value\.json\)/);
    refuses(['--port', '70000'], {}, /invalid --port/);
    refuses(['--store', 'mongo'], {}, /invalid --store/, /one of sqlite, memory, redis, got "mongo"/);
    refuses(['--log-level', 'loud'], {}, /invalid --log-level/);
    refuses(['--metrics-token', 'has space'], {}, /invalid --metrics-token/);
  });

  it('refuses an unknown key, a value of the wrong type and a file that is not a JSON object', () => {
    refuses(['--config', configFile('unknown.json', { port: 8080, 'max-wiat': 5 })], {}, /invalid max-wiat \(in .*unknown\.json\): unknown option/);
    refuses(['--config', configFile('type.json', { port: true })], {}, /invalid port \(in .*type\.json\): must be an integer between 0 and 65535 as a JSON number, got true/);
    refuses(['--config', configFile('string-port.json', { port: '9000' })], {}, /invalid port \(in .*string-port\.json\): must be .* as a JSON number, got "9000"/);
    refuses(['--config', configFile('number-store.json', { store: 1 })], {}, /invalid store \(in .*number-store\.json\): must be one of sqlite, memory, redis as a JSON string, got 1/);
    refuses(['--config', configFile('object-list.json', { 'trust-proxy': { a: 1 } })], {}, /invalid trust-proxy \(in .*object-list\.json\): must be .* as a JSON array of strings/);
    refuses(['--config', configFile('nested.json', { config: 'other.json' })], {}, /invalid config \(in .*nested\.json\): unknown option/);
    refuses(['--config', configFile('array.json', [1, 2])], {}, /must hold a JSON object/);
    refuses(['--config', configFile('broken.json', '{"port": 80,')], {}, /invalid --config \(JOBWAIT_CONFIG\): .*not valid JSON/);
    refuses(['--config', join(dir, 'missing.json')], {}, /invalid --config \(JOBWAIT_CONFIG\): cannot read/);
    refuses(['--no-such-flag'], {}, /invalid arguments/, /--help/);
  });

  it('the binary exits 2 with the option named on stderr, before listening', async () => {
    const flag = await runBinary(['--max-wait', '0', '--store', 'memory']);
    assert.equal(flag.code, 2, flag.stderr);
    assert.match(flag.stderr, /^jobwait-server: invalid --max-wait: /);
    assert.equal(flag.stdout, '');
    const file = await runBinary(['--store', 'memory'], { JOBWAIT_CONFIG: configFile('bin-unknown.json', { prot: 8080 }) });
    assert.equal(file.code, 2, file.stderr);
    assert.match(file.stderr, /^jobwait-server: invalid prot \(in .*bin-unknown\.json\): unknown option/);
  });
});

describe('--help', () => {
  it('lists every option with its variable, its range and its default, within 100 columns', () => {
    for (const option of Object.values(SERVER_SCHEMA)) {
      const name = option.noFlag ? option.env! : `--${option.flag}`;
      const start = SERVER_HELP.indexOf(`  ${name} `) >= 0 ? SERVER_HELP.indexOf(`  ${name} `) : SERVER_HELP.indexOf(`  ${name}\n`);
      assert.ok(start >= 0, `${name} is in --help`);
      const next = SERVER_HELP.indexOf('\n  -', start + 1);
      const entry = SERVER_HELP.slice(start, next).replace(/\s+/g, ' ');
      if (option.env) assert.ok(entry.includes(option.env), `${name} names ${option.env}`);
      if (option.deprecated) continue;
      assert.ok(entry.includes(option.range), `${name} states its range`);
      assert.match(entry, /\[default: /, `${name} states its default`);
    }
    assert.match(SERVER_HELP, /--print-config/);
    assert.match(SERVER_HELP, /flag > environment variable > config file > default/);
    for (const line of SERVER_HELP.split('\n')) assert.ok(line.length <= 100, `fits 100 columns: ${line}`);
  });

  it('the binary prints it and exits 0', async () => {
    const run = await runBinary(['--help']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, SERVER_HELP);
  });
});

describe('--print-config', () => {
  it('prints the effective configuration as JSON with every secret masked, and exits 0', async () => {
    const key = generateApiKey();
    const webhookSecret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const config = configFile('secrets.json', { 'smtp-url': 'smtp://mailer:smtp-pa55@mail.example.com:587', 'max-duration': 600 });
    const run = await runBinary(['--print-config', '--config', config, '--store', 'redis', '--redis-url', 'redis://:redis-pa55@10.0.0.5:6379/2'], {
      JOBWAIT_METRICS_TOKEN: 'metrics-t0ken',
      JOBWAIT_API_KEYS: key.key,
      JOBWAIT_WEBHOOK_SECRET: webhookSecret,
    });
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as Record<string, unknown>;
    for (const secret of ['smtp-pa55', 'redis-pa55', 'metrics-t0ken', key.key, key.key.slice('jw_'.length + 13), webhookSecret]) {
      assert.ok(!run.stdout.includes(secret), `${secret} is masked`);
    }
    assert.equal(printed['redis-url'], 'redis://:***@10.0.0.5:6379/2');
    assert.equal(printed['smtp-url'], 'smtp://mailer:***@mail.example.com:587');
    assert.equal(printed['metrics-token'], '***');
    assert.equal(printed['webhook-secret'], '***');
    assert.deepEqual(printed['api-keys'], [`jw_${key.id}_…`]);
    assert.equal(printed.store, 'redis');
    assert.equal(printed['max-duration'], 600);
    assert.equal(printed.port, 8080, 'defaults included');
    for (const option of Object.values(SERVER_SCHEMA)) if (!option.deprecated) assert.ok(option.flag in printed, `${option.flag} is printed`);
  });
});
