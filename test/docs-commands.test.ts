/**
 * Runs the shell commands of README.md and docs/*.md as written, and the README's client snippet
 * as a file, against a server started the way the README says (`npm start`), in this checkout as
 * `npm ci` left it (its node_modules and built packages/*, no build here): a doc and the program
 * cannot drift apart unnoticed. What the test changes, visibly:
 * - It works in a temp folder that links this checkout's package.json, node_modules and packages,
 *   so `npx jobwait`, `npm start` and the snippet's `@jobwait/client` resolve exactly as in the
 *   checkout, while `./data` and `./data-keys` are the temp folder's (the checkout stays clean).
 * - Ports: each port the docs name (`localhost:8080`, `127.0.0.1:8081`, `--port 8081`, the
 *   snippet's `baseUrl`) is replaced by a free one, the same one for each doc port; the quick
 *   start's 8080 is the server this test starts with `npm start -- --port <free>`, and
 *   `JOBWAIT_URL` points the CLI's default (http://127.0.0.1:8080) at it.
 * - `jw_…` stands for the key the last `keys create` printed, `job_…` for the last job id printed,
 *   `jwr_…` for the last report token printed (`jobwait start --reported`).
 * - A bare `jobwait` or `jobwait-server` is the installed command: node_modules/.bin is first on
 *   PATH, as under `npm run`. npx runs offline: a missing link fails instead of fetching a package.
 * - A command that starts a server (`npm start`, `jobwait-server`, `jobwait serve` without
 *   --help) runs in the background until the test ends, once its /healthz answers.
 * - curl reports each answer's status (a ~/.curlrc in the temp folder): a 4xx or 5xx fails the
 *   command unless the line's own comment names that status.
 * A transcript (```console) command passes when it prints what the doc shows under it; any other
 * command when it exits 0. Blocks marked `<!-- docs-commands: skip: <why> -->` are listed as skipped.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { docBlocks, showsOutput, type DocBlock, type DocCommand } from './helpers/doc-commands.js';
import { freePort } from './helpers/server-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const BLOCKS: DocBlock[] = DOCS.flatMap((name) => docBlocks(join(ROOT, name), name));

/** A command (npx starts npm, then node; a long-poll holds up to 30 s) that hangs still fails. */
const COMMAND_TIMEOUT_MS = 120_000;
const SERVER_START_MS = 90_000;

/** What one command did. */
interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A process group started in the background, killed when the test ends. */
interface Background {
  child: ChildProcess;
  output: () => string;
}

let work: string;
const ports = new Map<number, number>();
const servers: Background[] = [];
let lastKey: string | undefined;
let lastJob: string | undefined;
let lastReportToken: string | undefined;

/** The free port standing for the doc's `port`. */
async function portFor(port: number): Promise<number> {
  let mapped = ports.get(port);
  if (mapped === undefined) {
    mapped = await freePort();
    ports.set(port, mapped);
  }
  return mapped;
}

/** `text` with the doc's ports replaced by the test's (see the file's comment). */
async function withPorts(text: string): Promise<string> {
  for (const m of text.matchAll(/\b(?:localhost|127\.0\.0\.1):(\d{2,5})\b|--port[ =](\d{2,5})\b/g)) await portFor(Number(m[1] ?? m[2]));
  return text
    .replace(/\b(localhost|127\.0\.0\.1):(\d{2,5})\b/g, (_, host: string, port: string) => `${host}:${ports.get(Number(port))}`)
    .replace(/--port([ =])(\d{2,5})\b/g, (_, sep: string, port: string) => `--port${sep}${ports.get(Number(port))}`);
}

function environment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${join(work, 'node_modules', '.bin')}:${process.env.PATH}`,
    JOBWAIT_URL: `http://127.0.0.1:${ports.get(8080)}`,
    CURL_HOME: work,
    NO_COLOR: '1',
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  };
  // The docs' commands see what a newcomer's shell has: none of the test runner's own settings.
  for (const name of Object.keys(env)) if (/^(JOBWAIT_(?!URL$)|NODE_OPTIONS$|NODE_TEST)/.test(name)) delete env[name];
  return env;
}

/** Runs `command` with bash in the temp folder. */
function run(command: string): Promise<Ran> {
  const child = spawn('bash', ['-o', 'pipefail', '-c', command], { cwd: work, env: environment(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => kill(child), COMMAND_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function kill(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/** Starts a server command in the background and waits until `/healthz` answers on `port`. */
async function startServer(command: string, port: number): Promise<Background> {
  const child = spawn('bash', ['-c', command], { cwd: work, env: environment(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const server = { child, output: () => output };
  servers.push(server);
  const until = Date.now() + SERVER_START_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`\`${command}\` exited (${child.exitCode}) before its /healthz answered:\n${output}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`\`${command}\`: no /healthz on port ${port} within ${SERVER_START_MS} ms:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether `command` starts a long-running server (rather than asking one for --help). */
function startsServer(command: string): boolean {
  const bare = command.replace(/^(\w+=('[^']*'|"[^"]*"|\S*)\s+)*/, '');
  return /^(npm start|npm run start|(npx )?jobwait-server|(npx )?jobwait serve)\b/.test(bare) && !/--(help|print-config|version)\b/.test(bare);
}

/** `doc`'s command with the test's ports, and the key and job id printed before for `jw_…` and `job_…` (outside its comment). */
async function withPlaceholders(doc: DocCommand): Promise<string> {
  const comment = /\s#\s.*$/.exec(doc.command)?.[0] ?? '';
  let command = doc.command.slice(0, doc.command.length - comment.length);
  for (const [placeholder, value, what] of [['jw_…', lastKey, 'key'], ['job_…', lastJob, 'job id'], ['jwr_…', lastReportToken, 'report token']] as const) {
    if (!command.includes(placeholder)) continue;
    assert.ok(value, `${doc.where}: \`${placeholder}\` but no command before it printed a ${what}`);
    command = command.replaceAll(placeholder, value);
  }
  return withPorts(command + comment);
}

/** Runs one doc command as the file's comment says; throws with the command and its output when it fails. */
async function runDocCommand(doc: DocCommand): Promise<void> {
  const shown = doc.output?.filter((l) => l.trim() !== '') ?? [];
  if (startsServer(doc.command) && shown.length === 0) {
    const port = /--port[ =](\d+)/.exec(doc.command)?.[1];
    assert.ok(port, `${doc.where}: \`${doc.command}\` starts a server without --port: the test cannot tell where it listens`);
    // A doc's server gets a port of its own, even where the doc reuses a port (another doc's server holds it here).
    ports.set(Number(port), await freePort());
    await startServer(await withPlaceholders(doc), ports.get(Number(port))!);
    return;
  }
  const command = await withPlaceholders(doc);
  const result = await run(command);
  const statuses = [...result.stderr.matchAll(/^docs-commands: HTTP (\d{3})$/gm)].map((m) => Number(m[1]));
  const stderr = result.stderr.replace(/^docs-commands: HTTP \d{3}\n?/gm, '');
  const report = `${doc.where}: \`${doc.command}\`${command === doc.command ? '' : ` (run as \`${command}\`)`} exited ${result.code}\n--- stdout\n${result.stdout}--- stderr\n${stderr}`;
  if (shown.length > 0) {
    assert.ok(showsOutput(shown, `${result.stdout}\n${stderr}`), `${report}--- the doc shows\n${shown.join('\n')}`);
  } else {
    assert.equal(result.code, 0, report);
    const comment = /\s#\s(.*)$/.exec(doc.command)?.[1] ?? '';
    for (const status of statuses) assert.ok(status < 400 || comment.includes(String(status)), `${report}--- answered HTTP ${status}`);
  }
  lastKey = /\bjw_[A-Za-z0-9]+_[A-Za-z0-9_-]+/.exec(result.stdout)?.[0] ?? lastKey;
  lastJob = /\bjob_[0-9A-Z]{26}\b/.exec(result.stdout)?.[0] ?? lastJob;
  lastReportToken = /\bjwr_[A-Za-z0-9_-]{43}\b/.exec(result.stdout)?.[0] ?? lastReportToken;
}

/** The README's client snippet: the first ```ts block of its client section. */
function clientSnippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.indexOf('## Client (`@jobwait/client`)');
  assert.ok(section >= 0, 'the README has a client section');
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(section));
  assert.ok(match?.[1], 'the client section has a ```ts snippet');
  return match[1];
}

describe("the docs' commands, as written, against a server started with npm start", () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'jobwait-docs-'));
    for (const name of ['package.json', 'node_modules', 'packages', 'examples']) symlinkSync(join(ROOT, name), join(work, name));
    writeFileSync(join(work, '.curlrc'), '-w "%{stderr}docs-commands: HTTP %{http_code}\\n"\n');
    // The quick start's server: `npm start` on the temp folder's ./data.
    await startServer(`npm start -- --port ${await portFor(8080)}`, await portFor(8080));
  });
  after(() => {
    for (const server of servers) kill(server.child);
    rmSync(work, { recursive: true, force: true });
  });

  it('every shell block of the docs runs here or is marked skipped with a reason', (t) => {
    const skipped = BLOCKS.filter((b) => b.skip !== undefined);
    for (const block of skipped) assert.ok(block.skip, `${block.where}: a skip marker needs a reason`);
    for (const block of BLOCKS) {
      assert.ok(block.skip !== undefined || block.rootPrompts === 0, `${block.where}: runs commands as root (# prompt): mark it <!-- docs-commands: skip: <why> -->`);
    }
    const commands = (list: DocBlock[]) => list.reduce((n, b) => n + b.commands.length, 0);
    t.diagnostic(`${BLOCKS.length - skipped.length} blocks (${commands(BLOCKS.filter((b) => b.skip === undefined))} commands) run, ${skipped.length} blocks (${commands(skipped)} commands) skipped:`);
    for (const block of skipped) t.diagnostic(`  skipped ${block.where}: ${block.skip}`);
    assert.ok(BLOCKS.some((b) => b.skip === undefined && b.commands.some((c) => c.command.startsWith('npx jobwait '))), 'the docs run npx jobwait somewhere');
  });

  for (const block of BLOCKS) {
    const commands = block.commands.map((c) => c.command.split(/\s+#/)[0]).join('; ').slice(0, 100);
    const title = `${block.where}: ${commands || `${block.rootPrompts} commands as root`}`;
    it(title, { skip: block.skip ?? false, timeout: COMMAND_TIMEOUT_MS * 3 }, async () => {
      for (const command of block.commands) await runDocCommand(command);
    });
  }

  it("the README's client snippet, as a file, waits on its job and prints it pending before it completes", { timeout: COMMAND_TIMEOUT_MS }, async () => {
    writeFileSync(join(work, 'readme-client-snippet.ts'), await withPorts(clientSnippet()));
    const result = await run('node --import tsx readme-client-snippet.ts');
    const report = `the README's client snippet exited ${result.code}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
    assert.equal(result.code, 0, report);
    const lines = result.stdout.trim().split('\n');
    // onUpdate: the state at once (pending, its progress), then the final version, then the result.
    assert.match(lines[0] ?? '', /^pending (0|0\.\d+)$/, report);
    const completed = lines.indexOf('completed 1');
    assert.ok(completed > 0, report);
    assert.equal(lines[completed + 1], 'completed', report);
  });
});
