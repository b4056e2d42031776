/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) and sums self time per function and
 * per package, for the findings `bench/server.ts --cpu-prof` prints.
 *
 * Usage on its own: `node --import tsx bench/cpu-profile.ts <file.cpuprofile> [top]`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time of one function or package. */
export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

/** Where a file belongs: `node_modules/<package>`, `jobwait:<file>`, `node:internal` or `(native)`. */
function owner(url: string): string {
  if (url === '') return '(native/gc/idle)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /packages\/([^/]+)\/(?:src|dist)\/(.+)$/.exec(url);
  if (src) return `jobwait ${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return 'node: (core)';
  return url.replace(/^file:\/\//, '');
}

/** Self time per function (top `top`) and per package, idle excluded from the shares. */
export function summarizeProfile(path: string, top = 20): { total: number; functions: SelfTime[]; packages: SelfTime[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    busy += us;
    const where = owner(url);
    const name = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    pkg.set(where, (pkg.get(where) ?? 0) + us);
  }
  const rank = (m: Map<string, number>, n: number): SelfTime[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return { total: busy / 1000, functions: rank(fn, top), packages: rank(pkg, 12) };
}

/** The summary as text lines. */
export function formatProfile(path: string, top = 20): string {
  const s = summarizeProfile(path, top);
  const line = (t: SelfTime): string => `  ${(t.share * 100).toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(6)} ms  ${t.name}`;
  return [`${path}: ${s.total.toFixed(0)} ms busy (idle excluded)`, 'self time by package:', ...s.packages.map(line), 'self time by function:', ...s.functions.map(line)].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: cpu-profile.ts <file.cpuprofile> [top]');
  console.log(formatProfile(file, Number(process.argv[3] ?? 25)));
}
