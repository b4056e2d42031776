#!/usr/bin/env node
// Builds the dashboard into dist/: minified JS and CSS under assets/ with content hashes in their
// names (so the server can cache them forever), index.html pointing at them, a .gz twin of each
// text file (served when the browser accepts gzip), and a report of the gzipped size.
// Usage: node build.mjs [--quiet]
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('.', import.meta.url));
const srcDir = join(root, 'src');
const distDir = join(root, 'dist');
const assetsDir = join(distDir, 'assets');

/**
 * Builds the dashboard and returns the size of what a first visit downloads.
 * @returns {Promise<{files: {name: string, bytes: number, gzipBytes: number}[], gzipTotal: number}>}
 */
export async function buildDashboard({ quiet = false } = {}) {
  // No wiping first: a running server keeps serving the old page until the new index.html is in place.
  await mkdir(assetsDir, { recursive: true });

  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: join(srcDir, 'app.ts'), styles: join(srcDir, 'styles.css') },
    outdir: assetsDir,
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    // Browsers from 2022 on: fetch streams, <dialog>, :focus-visible.
    target: ['chrome105', 'edge105', 'firefox104', 'safari15.4'],
    // Bundle @jobwait/client from its TypeScript source: the dashboard builds before `tsc -b`.
    conditions: ['jobwait-source'],
    sourcemap: 'linked',
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    logLevel: 'warning',
  });

  // Each entry's output name, e.g. app -> app-5X2KQ7ZB.js.
  const names = {};
  for (const [out, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint || out.endsWith('.map')) continue;
    names[basename(meta.entryPoint)] = basename(out);
  }
  const favicon = await readFile(join(srcDir, 'favicon.svg'));
  names['favicon.svg'] = `favicon-${contentHash(favicon)}.svg`;
  await writeFile(join(assetsDir, names['favicon.svg']), favicon);

  let html = await readFile(join(srcDir, 'index.html'), 'utf8');
  for (const [source, placeholder] of [
    ['app.ts', 'assets/app.js'],
    ['styles.css', 'assets/styles.css'],
    ['favicon.svg', 'assets/favicon.svg'],
  ]) {
    const count = html.split(`"${placeholder}"`).length - 1;
    if (count !== 1 || !names[source]) throw new Error(`index.html must reference "${placeholder}" exactly once (found ${count})`);
    html = html.replace(`"${placeholder}"`, `"assets/${names[source]}"`);
  }
  // Indentation only; text between tags is left alone.
  html = html.replace(/^[ \t]+/gm, '');

  const files = [];
  for (const name of Object.values(names)) {
    const file = join(assetsDir, name);
    const bytes = await readFile(file);
    files.push({ name: relative(distDir, file), bytes: bytes.length, gzipBytes: await writeGzip(file, bytes) });
  }
  // The page last, each file renamed into place whole, so no reader sees a half-written one.
  const index = join(distDir, 'index.html');
  const htmlBytes = Buffer.from(html);
  await writeFile(`${index}.tmp`, htmlBytes);
  const indexGzipBytes = await writeGzip(`${index}.tmp`, htmlBytes);
  await rename(`${index}.tmp.gz`, `${index}.gz`);
  await rename(`${index}.tmp`, index);
  files.unshift({ name: 'index.html', bytes: htmlBytes.length, gzipBytes: indexGzipBytes });

  // Assets of earlier builds go.
  const keep = new Set(Object.values(names).flatMap((name) => [name, `${name}.gz`, `${name}.map`]));
  for (const name of await readdir(assetsDir)) if (!keep.has(name)) await rm(join(assetsDir, name), { force: true });
  const gzipTotal = files.filter((f) => f.name !== `assets/${names['favicon.svg']}`).reduce((sum, f) => sum + f.gzipBytes, 0);
  if (!quiet) {
    for (const f of files) console.log(`  ${f.name.padEnd(34)} ${String(f.bytes).padStart(7)} B  ${String(f.gzipBytes).padStart(6)} B gzipped`);
    console.log(`  JS + CSS + HTML, gzipped: ${gzipTotal} B (${(gzipTotal / 1024).toFixed(1)} KiB)`);
  }
  return { files, gzipTotal };
}

/** Writes the gzipped twin of `file` and returns its size. */
async function writeGzip(file, bytes) {
  const gz = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION });
  await writeFile(`${file}.gz`, gz);
  return gz.length;
}

/** 8 characters of the content's SHA-256, in esbuild's hash alphabet. */
function contentHash(bytes) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const digest = createHash('sha256').update(bytes).digest();
  let out = '';
  for (let i = 0; i < 8; i++) out += alphabet[(digest[i] ?? 0) % 32];
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildDashboard({ quiet: process.argv.includes('--quiet') });
}
