/**
 * Where one hot read's CPU goes: starts the built server as `bench/server.ts` runs it (default
 * logging, rate limit off) under `--cpu-prof`, loads one route with wrk (1 thread, 50 connections,
 * 3 s warm-up, 8 s measured), stops the server and prints its req/s, its CPU per answer over the
 * measured seconds (from /proc, steadier than req/s on a shared machine) and the self time by
 * package and by function.
 *
 * Usage: `node --import tsx bench/read-profile.ts [job|status]`
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
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
  ['--cpu-prof', '--cpu-prof-dir', join(work, 'prof'), build.bin, '--rate-limit', '0', '--data-dir', join(work, 'data'), '--port', String(port), '--host', '127.0.0.1'],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
/** CPU time (user + system) the server has used, ms (10 ms ticks). */
const cpuMs = (): number => {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
const wrk = async (url: string, seconds: number): Promise<number> => {
  const { stdout } = await promisify(execFile)('wrk', ['-t', '1', '-c', '50', '-d', `${seconds}s`, url]);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
};
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
  await wrk(url, 3);
  const before = cpuMs();
  const rps = await wrk(url, 8);
  const cpuUs = ((cpuMs() - before) * 1000) / (rps * 8);
  console.log(`${route === 'job' ? 'GET /v1/jobs/{id}' : 'GET /status'}: ${Math.round(rps)} req/s, server CPU ${cpuUs.toFixed(1)} µs per answer`);
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
