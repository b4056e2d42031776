/**
 * `npm run example:browser`, the command docs/browser.md and the example's README give, runs as
 * written: it prints where the page is, the page's backend starts a job and mints a token, and
 * jobwait answers that token for the page's origin with CORS.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('npm run example:browser starts jobwait and the page backend on two origins', { timeout: 60_000 }, async (t) => {
  const child = spawn('npm', ['run', '--silent', 'example:browser'], { cwd: ROOT, env: { ...process.env, PORT: '0', JOBWAIT_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  t.after(() => {
    // npm and the node under it: the whole group this test started.
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk));
  const page = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /open (http:\/\/localhost:\d+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    void once(child, 'exit').then(() => reject(new Error(`exited early:\n${out}\n${err}`)));
  });
  const jobwait = /jobwait on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  assert.ok(jobwait, out);
  const html = await (await fetch(page.replace('localhost', '127.0.0.1'))).text();
  assert.match(html, /<script type="module" src="\/app.js">/);
  const started = await fetch(`${page.replace('localhost', '127.0.0.1')}/api/videos`, { method: 'POST', body: '{"seconds":1}' });
  assert.equal(started.status, 201);
  const { jobId, token } = (await started.json()) as { jobId: string; token: string };
  const read = await fetch(`${jobwait}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${token}`, origin: page } });
  assert.equal(read.status, 200);
  assert.equal(read.headers.get('access-control-allow-origin'), page);
});
