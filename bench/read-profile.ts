/**
 * Where one hot read's CPU goes: starts the built server (as `bench/server.ts` runs it) under
 * `--cpu-prof`, loads one route with autocannon (100 connections, 3 s warm-up, 8 s measured), stops
 * the server and prints its req/s and the self time by package and by function. The table of the
 * "second round" in docs/benchmarks.md was made with it, one change at a time.
 *
 * Usage: `node --import tsx bench/read-profile.ts [job|status]`
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { formatProfile } from './cpu-profile.js';
import { buildServerCopy } from './server-build.js';

const args = process.argv.slice(2);
const route = args.includes('status') ? 'status' : 'job';
const root = join(import.meta.dirname, '..');
const build = await buildServerCopy(root, join(root, 'node_modules'));
const work = mkdtempSync(join(tmpdir(), 'jobwait-read-profile-'));
const port = 9000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;
const child = spawn(
  process.execPath,
  ['--cpu-prof', '--cpu-prof-dir', join(work, 'prof'), build.bin, '--rate-limit', '0', '--log-level', 'warn', '--data-dir', join(work, 'data'), '--port', String(port), '--host', '127.0.0.1'],
  { stdio: ['ignore', 'inherit', 'inherit'] },
);
try {
  for (let i = 0; ; i++) {
    const up = await fetch(`${base}/healthz`).then((res) => res.ok, () => false);
    if (up) break;
    if (i > 600) throw new Error('the server did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const created = await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"duration":3600}' });
  const { id } = (await created.json()) as { id: string };
  await fetch(`${base}/start-timer`, { method: 'POST', body: '{"duration":3600}' });
  const url = `${base}${route === 'job' ? `/v1/jobs/${id}` : '/status'}`;
  await autocannon({ url, connections: 100, duration: 3 });
  const result = await autocannon({ url, connections: 100, duration: 8 });
  console.log(`${route === 'job' ? 'GET /v1/jobs/{id}' : 'GET /status'}: ${Math.round(result.requests.average)} req/s, ${result.non2xx} non-2xx`);
} finally {
  child.kill('SIGINT');
  await new Promise((resolve) => child.once('exit', resolve));
  const profiles = readdirSync(join(work, 'prof')).map((f) => join(work, 'prof', f));
  // The largest profile is the main thread's.
  profiles.sort((a, b) => statSync(b).size - statSync(a).size);
  if (profiles[0]) console.log(formatProfile(profiles[0], 25));
  rmSync(work, { recursive: true, force: true });
  build.remove();
}
