/**
 * Issue 6: every `jobwait` command run in-process through `runCli` against a
 * real server on port 0, checking what it prints and the exit code it returns.
 * The progress bar under a real pseudo-terminal and real signals are in
 * test/cli-pty.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { JobwaitClient, type Job, type JobPage } from '@jobwait/client';
import { generateApiKey } from '@jobwait/server';
import { startTestServer, type TestServer } from '../../../test/helpers/jobwait-server.js';
import { COMMANDS, runCli } from './cli.js';
import { EXIT } from './exit-codes.js';

/** A stream that keeps what is written to it, posing as a terminal or not. */
class CaptureStream extends Writable {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns: number = 80,
  ) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    callback();
  }
}

interface RunResult {
  code: number;
  out: string;
  err: string;
}

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Pretend stderr is a terminal (the progress bar is drawn there). */
  tty?: boolean;
}

/** Runs one command line in-process, as the binary would, and captures its output. */
async function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const out = new CaptureStream(false);
  const err = options.tty ? new CaptureStream(true, 100) : new CaptureStream(false);
  const code = await runCli(argv, { out, err }, options.env ?? {}, options.signal ?? new AbortController().signal);
  return { code, out: out.text, err: err.text };
}

/** Parses output that must be exactly one line of JSON. */
function oneJson<T>(text: string): T {
  const lines = text.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one JSON line, got:\n${text}`);
  return JSON.parse(lines[0]!) as T;
}

/** Checks the documented shape of a job. */
function assertJob(value: unknown): asserts value is Job {
  const job = value as Job;
  assert.match(job.id, /^job_[0-9A-Z]{26}$/);
  assert.ok(['pending', 'completed', 'error', 'canceled'].includes(job.status), job.status);
  assert.equal(typeof job.progress, 'number');
  assert.ok(job.progress >= 0 && job.progress <= 1);
  assert.equal(typeof job.etaMs, 'number');
  assert.equal(typeof job.duration, 'number');
  assert.equal(typeof job.version, 'number');
  for (const at of [job.createdAt, job.dueAt!, job.updatedAt]) assert.ok(!Number.isNaN(Date.parse(at)), at);
}

/** A URL on which nothing listens: a port that was just free. */
async function closedUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const ID_LINE = /^job_[0-9A-Z]{26}\n$/;
const nonEmptyLines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

describe('jobwait commands against a real server', () => {
  let server: TestServer;
  let url: string;
  let client: JobwaitClient;
  before(async () => {
    server = await startTestServer();
    url = server.url;
    client = new JobwaitClient({ baseUrl: url });
  });
  after(() => server.close());

  describe('start', () => {
    it('prints only the new job id and exits 0', async () => {
      const r = await run(['start', '0.2', '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      assert.match(r.out, ID_LINE);
      assert.equal(r.err, '');
      const job = await client.getJob(r.out.trim());
      assert.equal(job.duration, 0.2);
    });

    it('--json prints the created job', async () => {
      const r = await run(['start', '30', '--json', '--metadata', '{"video":"a.mp4","n":1}', '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      const job = oneJson<Job>(r.out);
      assertJob(job);
      assert.equal(job.status, 'pending');
      assert.equal(job.duration, 30);
      assert.deepEqual(job.metadata, { video: 'a.mp4', n: 1 });
      await client.cancelJob(job.id);
    });

    it('--reported prints the id and the report token on one line; the token works for jobwait report and complete', async () => {
      const r = await run(['start', '--reported', '--heartbeat-timeout', '30', '--job-timeout', '600', '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      const match = /^(job_[0-9A-Z]{26}) (jwr_[A-Za-z0-9_-]{43})\n$/.exec(r.out);
      assert.ok(match, r.out);
      const [, id, token] = match as unknown as [string, string, string];
      const job = await client.getJob(id);
      assert.equal(job.status, 'pending');
      assert.equal(job.duration, undefined);
      assert.equal(job.heartbeatTimeoutSeconds, 30);
      assert.equal(job.timeoutSeconds, 600);
      assert.equal((await run(['report', id, '--token', token, '--progress', '40%', '--message', 'halfway', '--url', url])).code, EXIT.ok);
      assert.equal((await run(['complete', id, '--token', token, '--result', '{"url":"https://cdn.example/a.mp4"}', '--url', url])).code, EXIT.ok);
      const done = await client.getJob(id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.result, { url: 'https://cdn.example/a.mp4' });
      assert.equal(done.message, 'halfway');
    });

    it('--reported --json prints the created job with its token; --wait says the token on stderr and follows the job', async () => {
      const r = await run(['start', '--reported', '--json', '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      const job = oneJson<Job & { reportToken?: string }>(r.out);
      assert.match(job.reportToken ?? '', /^jwr_/);
      assert.equal(job.etaMs, undefined);
      // --wait: the command says the token on stderr, the worker (here) completes with it, the command ends with it.
      const out = new CaptureStream(false);
      const err = new CaptureStream(false);
      const waiting = runCli(['start', '--reported', '--wait', '--url', url], { out, err }, {}, new AbortController().signal);
      const until = Date.now() + 20_000;
      let said: RegExpExecArray | null = null;
      while (!(said = /^started (job_[0-9A-Z]{26}) \(reported; report token (jwr_[A-Za-z0-9_-]{43})\)$/m.exec(err.text))) {
        if (Date.now() > until) throw new Error(`no token said: ${err.text}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await client.reporter(said[1]!, said[2]!).complete('done', { message: 'dubbed' });
      assert.equal(await waiting, EXIT.ok, err.text);
      assert.match(nonEmptyLines(out.text).at(-1)!, /completed/);
    });

    it('refuses a duration with --reported, --outcome with --reported, and --heartbeat-timeout without it', async () => {
      for (const argv of [['start', '5', '--reported'], ['start', '--reported', '--outcome', 'error'], ['start', '5', '--heartbeat-timeout', '3'], ['start']]) {
        const r = await run([...argv, '--url', url]);
        assert.equal(r.code, EXIT.usage, `${argv.join(' ')}: ${r.err}`);
      }
    });

    it('--wait prints plain lines (no escape codes) ending with the completed line, exit 0', async () => {
      const r = await run(['start', '0.2', '--wait', '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      const lines = nonEmptyLines(r.out);
      assert.ok(lines.length >= 2, `expected a pending line before the end:\n${r.out}`);
      assert.match(lines.at(-1)!, /^job_[0-9A-Z]{26}  completed$/);
      for (const l of lines.slice(0, -1)) assert.match(l, /^job_[0-9A-Z]{26}  pending\s+\d+%  ETA \d+\.\ds$/);
      assert.match(r.err, /^started job_[0-9A-Z]{26} \(0\.2s\)\n$/);
      assert.doesNotMatch(r.out + r.err, /[\r\x1b]/);
    });

    it('--wait --json prints the final job as one JSON line and nothing on stderr', async () => {
      const r = await run(['start', '0.2', '--wait', '--json', '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      const job = oneJson<Job>(r.out);
      assertJob(job);
      assert.equal(job.status, 'completed');
      assert.equal(job.progress, 1);
      assert.equal(r.err, '');
    });

    it('--wait --outcome error exits 1 and prints the error line', async () => {
      const r = await run(['start', '0.2', '--wait', '--outcome', 'error', '--url', url]);
      assert.equal(r.code, EXIT.jobFailed);
      assert.match(nonEmptyLines(r.out).at(-1)!, /^job_[0-9A-Z]{26}  error\s+\S/);
    });

    it('--wait --outcome error --json prints the failed job with its error', async () => {
      const r = await run(['start', '0.2', '--wait', '--outcome', 'error', '--json', '--url', url]);
      assert.equal(r.code, EXIT.jobFailed);
      const job = oneJson<Job>(r.out);
      assert.equal(job.status, 'error');
      assert.equal(typeof job.error?.code, 'string');
      assert.equal(typeof job.error?.message, 'string');
    });

    it('--wait --timeout gives up at the deadline with exit 3 and leaves the job pending', async () => {
      const started = Date.now();
      const r = await run(['start', '5', '--wait', '--timeout', '0.5', '--url', url]);
      const elapsed = Date.now() - started;
      assert.equal(r.code, EXIT.timeout, r.err);
      assert.ok(elapsed >= 450 && elapsed < 3000, `took ${elapsed} ms`);
      assert.match(r.err, /jobwait start: still not finished after 500 ms/);
      const id = /started (job_\w+)/.exec(r.err)![1]!;
      assert.equal((await client.getJob(id)).status, 'pending');
      await client.cancelJob(id);
    });

    for (const strategy of ['auto', 'long-poll', 'sse', 'poll']) {
      it(`--wait --strategy ${strategy} follows the job to completed`, async () => {
        const r = await run(['start', '0.3', '--wait', '--strategy', strategy, '--url', url]);
        assert.equal(r.code, EXIT.ok, r.err);
        assert.match(nonEmptyLines(r.out).at(-1)!, /  completed$/);
      });
    }

    it('takes the server URL from JOBWAIT_URL when --url is absent', async () => {
      const r = await run(['start', '0.2'], { env: { JOBWAIT_URL: url } });
      assert.equal(r.code, EXIT.ok, r.err);
      assert.match(r.out, ID_LINE);
    });

    it('on a TTY draws the progress bar on stderr, redrawn in place, and keeps stdout plain', async () => {
      const r = await run(['start', '0.6', '--wait', '--url', url], { tty: true });
      assert.equal(r.code, EXIT.ok, r.err);
      const frames = r.err.match(/\r\x1b\[2K\[[#.]+\] +\d+%  (ETA \d+\.\ds|completed)/g) ?? [];
      assert.ok(frames.length >= 3, `only ${frames.length} frames:\n${JSON.stringify(r.err)}`);
      assert.ok(frames.some((f) => /ETA \d+\.\ds$/.test(f)), 'no frame with an ETA');
      assert.match(frames.at(-1)!, /\[#+\] 100%  completed$/);
      assert.ok(r.err.endsWith('\n'), 'the bar line is ended');
      // Pending lines are replaced by the bar; stdout gets only the final line.
      assert.match(r.out, /^job_[0-9A-Z]{26}  completed\n$/);
    });
  });

  describe('status', () => {
    it('prints one line for a pending job and exits 0', async () => {
      const job = await client.createJob({ duration: 30 });
      const r = await run(['status', job.id, '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      assert.match(r.out, new RegExp(`^${job.id}  pending\\s+\\d+%  ETA \\d+\\.\\ds\\n$`));
      await client.cancelJob(job.id);
    });

    it('exits 0 whatever the status, and --json prints the job', async () => {
      const job = await client.createJob({ duration: 0.1, outcome: 'error' });
      await client.waitForJob(job.id);
      const r = await run(['status', job.id, '--json', '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      const shown = oneJson<Job>(r.out);
      assertJob(shown);
      assert.equal(shown.id, job.id);
      assert.equal(shown.status, 'error');
    });

    it('exits 4 for a job that does not exist', async () => {
      const r = await run(['status', 'job_00000000000000000000000000', '--url', url]);
      assert.equal(r.code, EXIT.requestFailed);
      assert.equal(r.out, '');
      assert.match(r.err, /^jobwait status: .*404/);
    });
  });

  describe('wait', () => {
    it('--tag waits on every job of the tag, lists the failures and exits 1 when one failed', async () => {
      const { jobs } = await client.createJobs([{ duration: 0.2 }, { duration: 0.3, outcome: 'error' }, { duration: 0.4 }], { tags: ['cli-tag'] });
      const r = await run(['wait', '--tag', 'cli-tag', '--url', url]);
      assert.equal(r.code, EXIT.jobFailed, r.err);
      const lines = nonEmptyLines(r.out);
      for (const job of jobs) assert.ok(lines.some((l) => l.startsWith(`${job.id}  `)), `a line for ${job.id}`);
      assert.ok(lines.includes('3 of 3 done, 1 failed'), r.out);
      assert.match(r.out, new RegExp(`^failed: ${jobs[1]!.id}  error  JOB_FAILED: `, 'm'));
    });

    it('--batch on a TTY draws the summary bar and exits 0 when all completed; --json prints the jobs', async () => {
      const { batch } = await client.createJobs([{ duration: 0.2 }, { duration: 0.3 }]);
      const r = await run(['wait', '--batch', batch.id, '--url', url], { tty: true });
      assert.equal(r.code, EXIT.ok, r.err);
      assert.match(r.err, /\[[#.]+\] 2 of 2 done/);
      assert.match(r.out, /^2 of 2 done$/m);
      const j = await run(['wait', '--batch', batch.id, '--json', '--url', url]);
      assert.equal(j.code, EXIT.ok);
      assert.equal((JSON.parse(j.out) as Job[]).length, 2);
      const both = await run(['wait', '--tag', 'x', '--batch', batch.id, '--url', url]);
      assert.equal(both.code, EXIT.usage);
    });

    it('follows a job to completed with plain lines, exit 0', async () => {
      const job = await client.createJob({ duration: 0.3 });
      const r = await run(['wait', job.id, '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      const lines = nonEmptyLines(r.out);
      assert.match(lines[0]!, new RegExp(`^${job.id}  pending\\s+\\d+%  ETA \\d+\\.\\ds$`), 'shows the state at once, before the long-poll returns');
      assert.match(lines.at(-1)!, new RegExp(`^${job.id}  completed$`));
      assert.doesNotMatch(r.out + r.err, /[\r\x1b]/);
    });

    it('on a TTY draws the bar from the first moment of a long-poll wait, not only at the end', async () => {
      const job = await client.createJob({ duration: 0.8 });
      const r = await run(['wait', job.id, '--url', url], { tty: true });
      assert.equal(r.code, EXIT.ok, r.err);
      const frames = r.err.match(/\r\x1b\[2K\[[#.]+\] +\d+%  ETA \d+\.\ds/g) ?? [];
      assert.ok(frames.length >= 4, `only ${frames.length} pending frames:\n${JSON.stringify(r.err)}`);
      assert.match(r.out, new RegExp(`^${job.id}  completed\\n$`));
    });

    it('exits at once for a job that already ended', async () => {
      const job = await client.createJob({ duration: 0.1 });
      await client.waitForJob(job.id);
      const r = await run(['wait', job.id, '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      assert.equal(r.out, `${job.id}  completed\n`);
    });

    it('--json prints the final job', async () => {
      const job = await client.createJob({ duration: 0.2 });
      const r = await run(['wait', job.id, '--json', '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      const done = oneJson<Job>(r.out);
      assertJob(done);
      assert.equal(done.status, 'completed');
      assert.equal(r.err, '');
    });

    it('exits 1 for a failed job', async () => {
      const job = await client.createJob({ duration: 0.2, outcome: 'error' });
      const r = await run(['wait', job.id, '--url', url]);
      assert.equal(r.code, EXIT.jobFailed);
      assert.match(nonEmptyLines(r.out).at(-1)!, /  error /);
    });

    it('--timeout exits 3', async () => {
      const job = await client.createJob({ duration: 30 });
      const r = await run(['wait', job.id, '--timeout', '0.3', '--url', url]);
      assert.equal(r.code, EXIT.timeout);
      assert.match(r.err, /^jobwait wait: still not finished after 300 ms/m);
      await client.cancelJob(job.id);
    });

    it('exits 130 when interrupted mid-wait, at once, and does not cancel the job', async () => {
      const job = await client.createJob({ duration: 30 });
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 400);
      const started = Date.now();
      const r = await run(['wait', job.id, '--url', url], { signal: controller.signal });
      clearTimeout(timer);
      const elapsed = Date.now() - started;
      assert.equal(r.code, EXIT.interrupted);
      assert.ok(elapsed < 3000, `stopped ${elapsed} ms after start (abort at 400 ms)`);
      assert.match(r.err, /^jobwait wait: interrupted$/m);
      assert.equal((await client.getJob(job.id)).status, 'pending');
      await client.cancelJob(job.id);
    });

    it('exits 130 when interrupted during start --wait, leaving the job pending', async () => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 400);
      const r = await run(['start', '30', '--wait', '--url', url], { signal: controller.signal, tty: true });
      clearTimeout(timer);
      assert.equal(r.code, EXIT.interrupted);
      const id = /started (job_\w+)/.exec(r.err)![1]!;
      assert.equal((await client.getJob(id)).status, 'pending');
      assert.match(r.err, /\n(jobwait start: interrupted)\n$/);
      await client.cancelJob(id);
    });

    it('exits 4 for a job that does not exist', async () => {
      const r = await run(['wait', 'job_00000000000000000000000000', '--url', url]);
      assert.equal(r.code, EXIT.requestFailed);
      assert.match(r.err, /404/);
    });
  });

  describe('cancel', () => {
    it('cancels a pending job (exit 0); a later wait exits 1 with canceled', async () => {
      const job = await client.createJob({ duration: 30 });
      const r = await run(['cancel', job.id, '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      assert.match(r.out, new RegExp(`^${job.id}  canceled\\n$`));
      const w = await run(['wait', job.id, '--url', url]);
      assert.equal(w.code, EXIT.jobFailed);
      assert.match(nonEmptyLines(w.out).at(-1)!, new RegExp(`^${job.id}  canceled$`));
    });

    it('--json prints the canceled job', async () => {
      const job = await client.createJob({ duration: 30 });
      const r = await run(['cancel', job.id, '--json', '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      const canceled = oneJson<Job>(r.out);
      assertJob(canceled);
      assert.equal(canceled.status, 'canceled');
      const w = await run(['wait', job.id, '--json', '--url', url]);
      assert.equal(w.code, EXIT.jobFailed);
      assert.equal(oneJson<Job>(w.out).status, 'canceled');
    });

    it('a wait ends with exit 1 when another client cancels the job meanwhile', async () => {
      const job = await client.createJob({ duration: 30 });
      const waiting = run(['wait', job.id, '--url', url]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await client.cancelJob(job.id);
      const r = await waiting;
      assert.equal(r.code, EXIT.jobFailed);
      assert.match(nonEmptyLines(r.out).at(-1)!, /  canceled$/);
    });

    it('exits 4 for a job that already finished', async () => {
      const job = await client.createJob({ duration: 0.1 });
      await client.waitForJob(job.id);
      const r = await run(['cancel', job.id, '--url', url]);
      assert.equal(r.code, EXIT.requestFailed);
      assert.equal(r.out, '');
      assert.match(r.err, /409/);
      assert.equal((await client.getJob(job.id)).status, 'completed');
    });
  });

  describe('global options before the command', () => {
    it('jobwait --url <url> --json start 0.2 --wait works as with the options after it', async () => {
      const r = await run(['--url', url, '--json', 'start', '0.2', '--wait']);
      assert.equal(r.code, EXIT.ok, r.err);
      const job = oneJson<Job>(r.out);
      assert.equal(job.status, 'completed');
    });

    it('jobwait --url=<url> status <id>, and globals on both sides of the command', async () => {
      const job = await client.createJob({ duration: 30 });
      const r = await run([`--url=${url}`, 'status', job.id]);
      assert.equal(r.code, EXIT.ok, r.err);
      assert.match(r.out, new RegExp(`^${job.id}  pending`));
      const both = await run(['--url', url, 'status', job.id, '--json']);
      assert.equal(both.code, EXIT.ok, both.err);
      assert.equal(oneJson<Job>(both.out).id, job.id);
      await client.cancelJob(job.id);
    });

    it('an --api-key before the command is sent', async () => {
      const key = generateApiKey().key;
      const keyed = await startTestServer({ apiKeys: [key] });
      try {
        const withKey = await run(['--api-key', key, '--url', keyed.url, 'ls']);
        assert.equal(withKey.code, EXIT.ok, withKey.err);
        const wrongKey = await run(['--api-key', generateApiKey().key, '--url', keyed.url, 'ls']);
        assert.equal(wrongKey.code, EXIT.requestFailed);
        assert.match(wrongKey.err, /401/);
      } finally {
        await keyed.close();
      }
    });
  });

  it('--version prints the version', async () => {
    const r = await run(['--version']);
    assert.equal(r.code, EXIT.ok);
    assert.match(r.out, /^\d+\.\d+\.\d+\n$/);
  });
});

describe('jobwait ls', () => {
  let server: TestServer;
  let url: string;
  const ids: Record<'completed' | 'error' | 'pending', string[]> = { completed: [], error: [], pending: [] };
  before(async () => {
    server = await startTestServer();
    url = server.url;
    const client = new JobwaitClient({ baseUrl: url });
    for (let i = 0; i < 2; i++) ids.completed.push((await client.createJob({ duration: 0.1 })).id);
    ids.error.push((await client.createJob({ duration: 0.1, outcome: 'error' })).id);
    for (let i = 0; i < 2; i++) ids.pending.push((await client.createJob({ duration: 60 })).id);
    await Promise.all([...ids.completed, ...ids.error].map((id) => client.waitForJob(id)));
  });
  after(() => server.close());

  const rowsOf = (out: string): string[] => nonEmptyLines(out).filter((l) => l.startsWith('job_'));

  it('prints a table of every job, newest first', async () => {
    const r = await run(['ls', '--url', url]);
    assert.equal(r.code, EXIT.ok, r.err);
    const lines = nonEmptyLines(r.out);
    assert.match(lines[0]!, /^ID\s+STATUS\s+PROGRESS\s+DURATION\s+CREATED$/);
    const rows = rowsOf(r.out);
    assert.equal(rows.length, 5);
    assert.deepEqual(
      rows.map((row) => row.split(/\s+/)[0]),
      [...ids.completed, ...ids.error, ...ids.pending].reverse(),
    );
    assert.match(rows[0]!, /^job_\w+\s+pending\s+\d+%\s+60s\s+\d{4}-\d\d-\d\dT/);
    assert.match(rows.at(-1)!, /^job_\w+\s+completed\s+100%\s+0\.1s\s/);
    assert.doesNotMatch(r.out, /more:/);
  });

  it('--status keeps only jobs in that state', async () => {
    for (const status of ['completed', 'error', 'pending'] as const) {
      const r = await run(['ls', '--status', status, '--url', url]);
      assert.equal(r.code, EXIT.ok, r.err);
      const rows = rowsOf(r.out);
      assert.deepEqual(rows.map((row) => row.split(/\s+/)[0]).sort(), [...ids[status]].sort(), status);
      for (const row of rows) assert.equal(row.split(/\s+/)[1], status);
    }
    const none = await run(['ls', '--status', 'canceled', '--url', url]);
    assert.equal(none.code, EXIT.ok);
    assert.equal(none.out, 'no jobs\n');
  });

  it('--limit pages the list and prints how to get the next page', async () => {
    const first = await run(['ls', '--limit', '2', '--url', url]);
    assert.equal(first.code, EXIT.ok, first.err);
    assert.equal(rowsOf(first.out).length, 2);
    const hint = /^more: jobwait ls --cursor (\S+)$/m.exec(first.out);
    assert.ok(hint, `no pagination hint in:\n${first.out}`);
    const seen = rowsOf(first.out).map((row) => row.split(/\s+/)[0]);
    let cursor: string | undefined = hint[1];
    while (cursor) {
      const next = await run(['ls', '--limit', '2', '--cursor', cursor, '--url', url]);
      assert.equal(next.code, EXIT.ok, next.err);
      seen.push(...rowsOf(next.out).map((row) => row.split(/\s+/)[0]));
      cursor = /^more: jobwait ls --cursor (\S+)$/m.exec(next.out)?.[1];
    }
    assert.deepEqual(seen, [...ids.completed, ...ids.error, ...ids.pending].reverse());
  });

  it('--json prints the page: jobs and nextCursor', async () => {
    const r = await run(['ls', '--limit', '3', '--json', '--url', url]);
    assert.equal(r.code, EXIT.ok, r.err);
    const page = oneJson<JobPage>(r.out);
    assert.equal(page.jobs.length, 3);
    page.jobs.forEach(assertJob);
    assert.equal(typeof page.nextCursor, 'string');
    const last = await run(['ls', '--cursor', page.nextCursor!, '--json', '--url', url]);
    const rest = oneJson<JobPage>(last.out);
    assert.equal(rest.jobs.length, 2);
    assert.equal(rest.nextCursor, undefined);
  });

  it('prints "no jobs" on a server without jobs', async () => {
    const empty = await startTestServer();
    try {
      const r = await run(['ls', '--url', empty.url]);
      assert.equal(r.code, EXIT.ok, r.err);
      assert.equal(r.out, 'no jobs\n');
      const j = await run(['ls', '--json', '--url', empty.url]);
      assert.deepEqual(oneJson<JobPage>(j.out), { jobs: [] });
    } finally {
      await empty.close();
    }
  });
});

describe('jobwait keys', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'jobwait-cli-keys-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const KEY = /^jw_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/;

  it("the open server's start-up hint is a command that runs as written and creates the first key", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jobwait-cli-hint-'));
    const lines: string[] = [];
    const server = await startTestServer({ store: 'sqlite', dataDir, logLevel: 'info' }, { logStream: { write: (line: string) => lines.push(line) } });
    try {
      let hint: string | undefined;
      for (let i = 0; i < 100 && hint === undefined; i++) {
        hint = lines.map((l) => /create one with: npx jobwait (.*?)(?:\)|$)/.exec((JSON.parse(l) as { msg: string }).msg)?.[1]).find(Boolean);
        if (hint === undefined) await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(hint, `no hint in the start-up log:\n${lines.join('')}`);
      assert.equal(hint, `keys create --name me --data-dir ${dataDir}`);
      const r = await run(hint.split(' '));
      assert.equal(r.code, EXIT.ok, r.err);
      assert.match(r.out.trim(), KEY);
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('list says the server runs open while there are no keys', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'jobwait-cli-nokeys-'));
    try {
      const r = await run(['keys', 'list', '--data-dir', empty]);
      assert.equal(r.code, EXIT.ok, r.err);
      assert.equal(r.out, 'no keys: the server runs open\n');
      const j = await run(['keys', 'list', '--json', '--data-dir', empty]);
      assert.deepEqual(oneJson(j.out), []);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('create prints the key once on stdout and a note on stderr; list and revoke manage it', async () => {
    const created = await run(['keys', 'create', '--name', 'x', '--data-dir', dir]);
    assert.equal(created.code, EXIT.ok, created.err);
    const key = created.out.trim();
    assert.match(key, KEY);
    assert.equal(created.out, `${key}\n`);
    const id = key.slice(3, 15);
    assert.match(created.err, new RegExp(`created key ${id} \\(x\\)`));

    const listed = await run(['keys', 'list', '--data-dir', dir]);
    assert.equal(listed.code, EXIT.ok, listed.err);
    const [header, ...rows] = listed.out.trimEnd().split('\n');
    assert.match(header!, /^ID +STATE +NAME +RATE LIMIT +CREATED$/);
    const row = rows.find((r) => r.startsWith(`${id}  `));
    assert.ok(row, listed.out);
    // Each value starts under its column's title.
    const at = (title: string): string => row.slice(header!.indexOf(title)).split(/ {2,}/)[0]!;
    assert.equal(at('STATE'), 'active');
    assert.equal(at('NAME'), 'x');
    assert.equal(at('RATE LIMIT'), 'default');
    assert.match(at('CREATED'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(!listed.out.includes(key.slice(16)), 'the secret is never listed');

    const revoked = await run(['keys', 'revoke', id, '--data-dir', dir]);
    assert.equal(revoked.code, EXIT.ok, revoked.err);
    assert.equal(revoked.out, `revoked ${id}\n`);

    const after_ = await run(['keys', 'list', '--data-dir', dir]);
    assert.match(after_.out, new RegExp(`^${id}  revoked  x     default     \\d{4}-`, 'm'));
  });

  it('--json on create, list and revoke prints the documented shapes (never the hash)', async () => {
    const created = await run(['keys', 'create', '--name', 'json-key', '--rate', '5', '--json', '--data-dir', dir]);
    assert.equal(created.code, EXIT.ok, created.err);
    const made = oneJson<{ id: string; name: string; key: string }>(created.out);
    assert.deepEqual(Object.keys(made).sort(), ['id', 'key', 'name']);
    assert.match(made.key, KEY);
    assert.equal(made.key.slice(3, 15), made.id);
    assert.equal(made.name, 'json-key');

    const listed = await run(['keys', 'list', '--json', '--data-dir', dir]);
    const keys = oneJson<Array<Record<string, unknown>>>(listed.out);
    const mine = keys.find((k) => k.id === made.id);
    assert.ok(mine);
    assert.equal(mine.name, 'json-key');
    // ISO 8601, as jobs print their dates.
    assert.match(String(mine.createdAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Math.abs(Date.parse(String(mine.createdAt)) - Date.now()) < 86_400_000, 'a date of today, not of 1970');
    assert.equal(mine.revokedAt, undefined);
    assert.deepEqual(mine.rateLimit, { perSecond: 5, burst: 10 });
    for (const k of keys) assert.ok(!('hash' in k), 'hash leaked');
    assert.ok(!listed.out.includes(made.key.slice(16)));

    const table = (await run(['keys', 'list', '--data-dir', dir])).out.trimEnd().split('\n');
    const row = table.find((r) => r.startsWith(`${made.id}  `))!;
    assert.equal(row.slice(table[0]!.indexOf('RATE LIMIT')).split(/ {2,}/)[0], '5/s burst 10');

    const revoked = await run(['keys', 'revoke', made.id, '--json', '--data-dir', dir]);
    assert.deepEqual(oneJson(revoked.out), { id: made.id, revoked: true });
    const again = oneJson<Array<Record<string, unknown>>>((await run(['keys', 'list', '--json', '--data-dir', dir])).out);
    const revokedAt = String(again.find((k) => k.id === made.id)?.revokedAt);
    assert.match(revokedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Date.parse(revokedAt) >= Date.parse(String(mine.createdAt)));
  });

  it('revoke of an unknown id exits 4', async () => {
    const r = await run(['keys', 'revoke', 'nosuchkey000', '--data-dir', dir]);
    assert.equal(r.code, EXIT.requestFailed);
    assert.match(r.err, /no key with id nosuchkey000/);
  });

  it('a created key is required by a server on that data folder, and a revoked one refused', async () => {
    const data = mkdtempSync(join(tmpdir(), 'jobwait-cli-keyserver-'));
    const server = await startTestServer({ store: 'sqlite', dataDir: data });
    try {
      const open = await run(['start', '0.1', '--url', server.url]);
      assert.equal(open.code, EXIT.ok, `runs open before any key: ${open.err}`);

      const key = (await run(['keys', 'create', '--name', 'ci', '--data-dir', data])).out.trim();
      assert.match(key, KEY);
      // The server caches "are there keys?" for up to a second.
      let refused: RunResult | undefined;
      for (const end = Date.now() + 3000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
        refused = await run(['ls', '--url', server.url]);
        if (refused.code !== EXIT.ok) break;
      }
      assert.equal(refused?.code, EXIT.requestFailed);
      assert.match(refused.err, /401/);

      const withFlag = await run(['start', '0.2', '--wait', '--api-key', key, '--url', server.url]);
      assert.equal(withFlag.code, EXIT.ok, withFlag.err);
      const withEnv = await run(['ls', '--json', '--url', server.url], { env: { JOBWAIT_API_KEY: key } });
      assert.equal(withEnv.code, EXIT.ok, withEnv.err);
      assert.equal(oneJson<JobPage>(withEnv.out).jobs.length, 1, 'sees only its own job');

      await run(['keys', 'revoke', key.slice(3, 15), '--data-dir', data]);
      const afterRevoke = await run(['ls', '--api-key', key, '--url', server.url]);
      assert.equal(afterRevoke.code, EXIT.requestFailed);
      assert.match(afterRevoke.err, /401/);
    } finally {
      await server.close();
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe('jobwait demo', () => {
  it('runs the seed manual test on its own server and exits 0', async () => {
    const r = await run(['demo', '0.3']);
    assert.equal(r.code, EXIT.ok, r.err);
    const lines = nonEmptyLines(r.out);
    assert.match(lines[0]!, /^POST \/start-timer -> Timer started for 0\.3 seconds \(own server at http:\/\/127\.0\.0\.1:\d+\)$/);
    assert.match(lines[1]!, /^GET \/status -> completed after \d+\.\d\ds and \d+ status requests?$/);
  });

  it('--json against a given server prints the result', async () => {
    const server = await startTestServer();
    try {
      const r = await run(['demo', '0.3', '--json', '--url', server.url]);
      assert.equal(r.code, EXIT.ok, r.err);
      const result = oneJson<{ message: string; result: string; seconds: number; statusRequests: number }>(r.out);
      assert.equal(result.message, 'Timer started for 0.3 seconds');
      assert.equal(result.result, 'completed');
      assert.ok(result.seconds >= 0.3, String(result.seconds));
      assert.ok(Number.isInteger(result.statusRequests) && result.statusRequests >= 1);
    } finally {
      await server.close();
    }
  });
});

describe('usage errors exit 2 with the usage on stderr', () => {
  const cases: Array<{ argv: string[]; usage: string; message: RegExp }> = [
    { argv: ['frobnicate'], usage: 'Usage: jobwait <command>', message: /unknown command "frobnicate"/ },
    { argv: ['start'], usage: 'Usage: jobwait start', message: /exactly one argument/ },
    { argv: ['start', '1', '2'], usage: 'Usage: jobwait start', message: /exactly one argument/ },
    { argv: ['start', 'abc'], usage: 'Usage: jobwait start', message: /duration must be a number of seconds > 0, got "abc"/ },
    { argv: ['start', '0'], usage: 'Usage: jobwait start', message: /duration must be a number/ },
    { argv: ['start', 'Infinity'], usage: 'Usage: jobwait start', message: /duration must be a number/ },
    { argv: ['start', '--', '-1'], usage: 'Usage: jobwait start', message: /duration must be a number/ },
    { argv: ['start', '1', '--wait', '--timeout', 'soon'], usage: 'Usage: jobwait start', message: /--timeout must be a number/ },
    { argv: ['start', '1', '--wait', '--timeout', '-3'], usage: 'Usage: jobwait start', message: /--timeout/ },
    { argv: ['start', '1', '--strategy', 'carrier-pigeon'], usage: 'Usage: jobwait start', message: /--strategy must be one of auto, long-poll, sse, poll/ },
    { argv: ['start', '1', '--outcome', 'maybe'], usage: 'Usage: jobwait start', message: /--outcome must be completed or error/ },
    { argv: ['start', '1', '--metadata', 'not json'], usage: 'Usage: jobwait start', message: /--metadata must be a JSON object/ },
    { argv: ['start', '1', '--metadata', '[1,2]'], usage: 'Usage: jobwait start', message: /--metadata must be a JSON object/ },
    { argv: ['start', '1', '--metadata', 'null'], usage: 'Usage: jobwait start', message: /--metadata must be a JSON object/ },
    { argv: ['start', '1', '--bogus'], usage: 'Usage: jobwait start', message: /bogus/ },
    { argv: ['start', '1', '--url'], usage: 'Usage: jobwait start', message: /--url/ },
    { argv: ['start', '1', '--url', 'not a url'], usage: 'Usage: jobwait start', message: /./ },
    { argv: ['status'], usage: 'Usage: jobwait status', message: /exactly one argument: the job id/ },
    { argv: ['status', 'a', 'b'], usage: 'Usage: jobwait status', message: /exactly one argument/ },
    { argv: ['wait'], usage: 'Usage: jobwait wait', message: /exactly one argument: the job id/ },
    { argv: ['wait', 'job_x', '--timeout', '0'], usage: 'Usage: jobwait wait', message: /--timeout must be a number of seconds > 0/ },
    { argv: ['wait', 'job_x', '--strategy', 'push'], usage: 'Usage: jobwait wait', message: /--strategy must be one of/ },
    { argv: ['cancel'], usage: 'Usage: jobwait cancel', message: /exactly one argument/ },
    { argv: ['ls', 'extra'], usage: 'Usage: jobwait ls', message: /ls takes no arguments/ },
    { argv: ['ls', '--status', 'done'], usage: 'Usage: jobwait ls', message: /--status must be one of pending, completed, error, canceled/ },
    { argv: ['ls', '--limit', '0'], usage: 'Usage: jobwait ls', message: /--limit must be a whole number from 1 to 100/ },
    { argv: ['ls', '--limit', '2.5'], usage: 'Usage: jobwait ls', message: /--limit/ },
    { argv: ['ls', '--limit', '101'], usage: 'Usage: jobwait ls', message: /--limit/ },
    { argv: ['ls', '--limit', 'many'], usage: 'Usage: jobwait ls', message: /--limit/ },
    { argv: ['keys'], usage: 'jobwait keys create --name', message: /keys needs an action/ },
    { argv: ['keys', 'rotate'], usage: 'jobwait keys create --name', message: /unknown keys action "rotate"/ },
    { argv: ['keys', 'create'], usage: 'jobwait keys create --name', message: /needs --name/ },
    { argv: ['keys', 'create', '--name', 'x', '--rate', '0'], usage: 'jobwait keys create --name', message: /--rate must be/ },
    { argv: ['keys', 'create', '--name', 'x', '--burst', '3'], usage: 'jobwait keys create --name', message: /--burst needs --rate/ },
    { argv: ['keys', 'create', '--name', 'x', '--webhook-url', 'ftp://h'], usage: 'jobwait keys create --name', message: /--webhook-url must be/ },
    { argv: ['keys', 'revoke'], usage: 'jobwait keys create --name', message: /exactly one argument: the key id/ },
    { argv: ['demo', '1', '2'], usage: 'Usage: jobwait demo', message: /at most one argument/ },
    { argv: ['demo', 'x'], usage: 'Usage: jobwait demo', message: /duration must be a number/ },
    { argv: ['serve', '--bogus'], usage: 'Usage: jobwait serve', message: /./ },
  ];
  for (const { argv, usage, message } of cases) {
    it(`jobwait ${argv.join(' ')}`, async () => {
      // A closed URL: a usage error must be found before any request is sent.
      const r = await run(argv, { env: { JOBWAIT_URL: 'http://127.0.0.1:9', JOBWAIT_DATA_DIR: '/nonexistent/jobwait-cli-test' } });
      assert.equal(r.code, EXIT.usage, `exit ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
      assert.equal(r.out, '', 'nothing on stdout');
      assert.match(r.err, message);
      assert.ok(r.err.includes(usage), `usage missing from stderr:\n${r.err}`);
    });
  }

  for (const { argv, message } of [
    { argv: ['--bogus', 'start', '1'], message: /unknown global option "--bogus"/ },
    { argv: ['--url'], message: /option --url needs a value/ },
    { argv: ['--timeout', '3', 'start', '1'], message: /unknown global option "--timeout"/ },
  ]) {
    it(`jobwait ${argv.join(' ')} (a global option before the command)`, async () => {
      const r = await run(argv, { env: { JOBWAIT_URL: 'http://127.0.0.1:9' } });
      assert.equal(r.code, EXIT.usage);
      assert.equal(r.out, '');
      assert.match(r.err, message);
      assert.match(r.err, /Usage: jobwait <command>/);
    });
  }

  it('jobwait with no command prints the help on stderr, exit 2', async () => {
    const r = await run([]);
    assert.equal(r.code, EXIT.usage);
    assert.equal(r.out, '');
    assert.match(r.err, /^Usage: jobwait <command>/);
  });
});

describe('--help', () => {
  for (const flag of ['--help', '-h', 'help']) {
    it(`jobwait ${flag} lists every command and the exit codes, exit 0`, async () => {
      const r = await run([flag]);
      assert.equal(r.code, EXIT.ok);
      assert.equal(r.err, '');
      for (const command of COMMANDS) assert.match(r.out, new RegExp(`^  ${command.name} +${command.summary.replace(/[()]/g, '\\$&')}$`, 'm'));
      assert.match(r.out, /Exit codes: 0 completed\/ok, 1 job failed or canceled, 2 usage, 3 timeout, 4 request failed, 130 interrupted/);
    });
  }

  for (const name of ['serve', 'start', 'status', 'wait', 'ls', 'cancel', 'report', 'complete', 'fail', 'keys', 'demo']) {
    it(`jobwait ${name} --help shows its usage, exit 0, without touching a server`, async () => {
      const r = await run([name, '--help'], { env: { JOBWAIT_URL: 'http://127.0.0.1:9' } });
      assert.equal(r.code, EXIT.ok, r.err);
      assert.equal(r.err, '');
      assert.match(r.out, new RegExp(`^Usage:\\s+jobwait ${name}\\b`));
      const command = COMMANDS.find((c) => c.name === name)!;
      // serve prints the server's full option list, loaded with the server only when asked for.
      if (name === 'serve') assert.match(r.out, /--port <n>[\s\S]*--store <kind>/);
      else assert.equal(r.out, `${command.usage}\n`);
      if (name !== 'serve' && name !== 'keys') assert.match(r.out, /--url <url>.*\n.*--api-key <key>.*\n.*--json/);
    });
  }

  it('--help before a command shows that command\'s usage', async () => {
    const r = await run(['--help', 'start']);
    assert.equal(r.code, EXIT.ok, r.err);
    assert.match(r.out, /^Usage: jobwait start/);
  });

  it('-h works after other arguments too', async () => {
    const r = await run(['start', '5', '--wait', '-h']);
    assert.equal(r.code, EXIT.ok);
    assert.match(r.out, /^Usage: jobwait start/);
  });
});

describe('request failures exit 4', () => {
  let down: string;
  before(async () => {
    down = await closedUrl();
  });

  for (const argv of [['start', '1'], ['start', '1', '--json'], ['status', 'job_00000000000000000000000000'], ['ls'], ['cancel', 'job_00000000000000000000000000']]) {
    it(`jobwait ${argv.join(' ')} with the server down fails fast`, async () => {
      const started = Date.now();
      const r = await run([...argv, '--url', down]);
      const elapsed = Date.now() - started;
      assert.equal(r.code, EXIT.requestFailed, r.err);
      assert.equal(r.out, '');
      assert.match(r.err, new RegExp(`^jobwait ${argv[0]}: .*${down.replace(/[.]/g, '\\.')}.* failed`));
      assert.ok(elapsed < 5000, `took ${elapsed} ms to report a server that is down`);
    });
  }

  it('wait --timeout on a server that is down ends by the deadline, not after all retries', async () => {
    const started = Date.now();
    const r = await run(['wait', 'job_00000000000000000000000000', '--timeout', '1', '--url', down]);
    const elapsed = Date.now() - started;
    assert.ok(r.code === EXIT.requestFailed || r.code === EXIT.timeout, `exit ${r.code}: ${r.err}`);
    assert.ok(elapsed < 3000, `took ${elapsed} ms`);
  });

  it('a 401 from a server requiring keys is a request failure, not a usage error', async () => {
    const server = await startTestServer({ apiKeys: ['jw_abcdefghijkl_' + 'A'.repeat(43)] });
    try {
      const r = await run(['ls', '--url', server.url]);
      assert.equal(r.code, EXIT.requestFailed);
      assert.match(r.err, /401/);
    } finally {
      await server.close();
    }
  });
});
