#!/usr/bin/env node
// `npm run bench`: every benchmark in turn (quick modes unless --full); each writes its section of docs/benchmarks.md.
import { spawnSync } from 'node:child_process';

const full = process.argv.includes('--full');
const runs = [
  ['bench:latency', full ? ['--full'] : []],
  ['bench:server', full ? [] : ['--quick']],
  ['bench:cluster', []],
  ['bench:soak', full ? [] : ['--quick']],
  ['bench:dashboard', full ? [] : ['--quick']],
  ['bench:webhooks', []],
  ['bench:retention', full ? [] : ['--quick']],
  ['bench:predict', []],
  ['bench:report', full ? [] : ['--quick']],
  ['bench:many', []],
  ['bench:ingest', full ? [] : ['--quick']],
];
let failed = 0;
for (const [script, args] of runs) {
  process.stdout.write(`\n== npm run ${script} ${args.join(' ')}\n`);
  const result = spawnSync('npm', ['run', script, '--', ...args], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
