/**
 * The jobwait server as `bench/server.ts` runs it: `packages/server/src` transpiled file by file with
 * esbuild into a temporary folder, the same plain JavaScript `tsc` puts in `dist/`, but from the
 * current source and without touching the shared `dist/`.
 *
 * Why not `--import tsx`: tsx compiles with esbuild's `keepNames`, which wraps every function
 * expression in `__name(fn, "name")`. Redefining `name` turns each closure into a dictionary-mode
 * object with a properties store of its own: about 1.6 KB more heap per held long-poll (heap
 * snapshots with 2,000 waiters, issue 8) and a `defineProperty` per closure made. Users run the
 * build (`npm start` runs `dist/bin.js`), so that is what is measured.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

/** A transpiled copy of a jobwait tree's server package. */
export interface ServerBuild {
  /** `bin.js` of the copy: run it with `node`. */
  bin: string;
  /** Removes the copy. */
  remove: () => void;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sources(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * Transpiles `<root>/packages/server/src` to a fresh temporary folder beside a `node_modules` link
 * to `<modules>`, so the copy resolves the same dependencies.
 * @example const server = await buildServerCopy('/work/main', '/work/main/node_modules'); spawn('node', [server.bin]);
 */
export async function buildServerCopy(root: string, modules: string): Promise<ServerBuild> {
  const base = mkdtempSync(join(tmpdir(), 'jobwait-bench-build-'));
  const src = join(root, 'packages', 'server', 'src');
  const out = join(base, 'packages', 'server', 'src');
  mkdirSync(out, { recursive: true });
  symlinkSync(modules, join(base, 'node_modules'), 'dir');
  cpSync(join(root, 'packages', 'server', 'package.json'), join(base, 'packages', 'server', 'package.json'));
  await build({
    entryPoints: sources(src),
    outdir: out,
    outbase: src,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    tsconfig: join(root, 'packages', 'server', 'tsconfig.json'),
    logLevel: 'error',
  });
  return { bin: join(out, 'bin.js'), remove: () => rmSync(base, { recursive: true, force: true }) };
}

