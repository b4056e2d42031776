/**
 * The package commands as a newcomer types them after `npm ci`, through npx in this checkout:
 * `npx jobwait --help`, `npx jobwait start 3 --wait` (exit 0, a progress bar on a terminal) and
 * `npx jobwait-server --help`. npm links bins at `npm ci` time, before `prepare` builds dist/, and
 * skips a link to a missing file without a word: the bins are committed launchers that load dist/.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';
import { progressFrames, startProcess, underPty } from './helpers/pty.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Each bin, its committed launcher and the program it loads. */
const BINS = [
  { name: 'jobwait', launcher: 'packages/cli/bin/jobwait.js', program: 'packages/cli/dist/bin.js' },
  { name: 'jobwait-server', launcher: 'packages/server/bin/jobwait-server.js', program: 'packages/server/dist/bin.js' },
] as const;

/** npx as typed, but offline: a missing link must fail here, not fetch a stranger's package of that name. */
const NPX_ENV = { npm_config_offline: 'true', npm_config_update_notifier: 'false' };

const npx = (args: string[], env: NodeJS.ProcessEnv = {}) => startProcess('npx', args, { cwd: ROOT, env: { ...NPX_ENV, ...env } }).done;

/** npx starts npm and then node: seconds on a busy machine; a hang still fails. */
const TIMEOUT_MS = 60_000;

describe('npx jobwait and npx jobwait-server in this checkout', () => {
  let server: TestServer;
  before(async () => {
    for (const bin of BINS) {
      assert.ok(existsSync(join(ROOT, bin.program)), `${bin.program} is missing: run \`npm run build\` (npm ci runs it)`);
      const link = join(ROOT, 'node_modules', '.bin', bin.name);
      assert.ok(existsSync(link), `node_modules/.bin/${bin.name} is missing: node_modules predates the committed launchers; run \`npm ci\` (or \`npm rebuild --ignore-scripts jobwait @jobwait/server\`)`);
    }
    server = await startTestServer();
  });
  after(() => server?.close());

  it('node_modules/.bin links each command to its committed launcher, which exists before any build', () => {
    for (const bin of BINS) assert.equal(realpathSync(join(ROOT, 'node_modules', '.bin', bin.name)), realpathSync(join(ROOT, bin.launcher)));
  });

  it('npx jobwait --help lists the commands, exit 0', { timeout: TIMEOUT_MS }, async () => {
    const result = await npx(['jobwait', '--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: jobwait <command>/);
    assert.match(result.stdout, /^  start +start a job/m);
  });

  it('npx jobwait-server --help lists the server options, exit 0', { timeout: TIMEOUT_MS }, async () => {
    const result = await npx(['jobwait-server', '--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: jobwait-server/);
    assert.match(result.stdout, /--port/);
  });

  it('npx jobwait start 3 --wait on a terminal draws the progress bar and exits 0 when completed', { timeout: TIMEOUT_MS }, async () => {
    const { file, args } = underPty(['npx', 'jobwait', 'start', '3', '--wait']);
    const result = await startProcess(file, args, { cwd: ROOT, env: { ...NPX_ENV, JOBWAIT_URL: server.url } }).done;
    assert.equal(result.code, 0, `${JSON.stringify(result.stdout)}\n${result.stderr}`);
    // npm's own spinner shares the terminal while it starts the command and after it ends.
    const output = result.stdout.replace(/[\u2800-\u28ff]\x1b\[1G\x1b\[0K/g, '');
    assert.match(output, /started job_[0-9A-Z]{26} \(3s\)\r\n/);
    const frames = progressFrames(output);
    assert.ok(frames.length >= 2 && new Set(frames.map((f) => f.percent)).size >= 2, `the bar did not move: ${JSON.stringify(output)}`);
    assert.match(output, /\[#+\] 100%  completed\r\njob_[0-9A-Z]{26}  completed\r\n$/);
  });

  it('a launcher whose program is not built says how to build it, exit 1', { timeout: TIMEOUT_MS }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobwait-launcher-'));
    try {
      for (const bin of BINS) {
        // The launcher alone, as in a checkout where `npm run build` has not run.
        const copy = join(dir, bin.name, 'bin', 'launcher.js');
        mkdirSync(join(dir, bin.name, 'bin'), { recursive: true });
        writeFileSync(join(dir, bin.name, 'package.json'), '{"type": "module"}\n');
        copyFileSync(join(ROOT, bin.launcher), copy);
        const result = await startProcess(process.execPath, [copy, '--help'], { cwd: dir }).done;
        assert.equal(result.code, 1, result.stderr);
        assert.equal(result.stdout, '');
        assert.match(result.stderr, new RegExp(`^${bin.name}: not built yet .*run \`npm run build\``));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
