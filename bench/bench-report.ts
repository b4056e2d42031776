/**
 * Writes one benchmark's section of docs/benchmarks.md between
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, keeping every other section.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** docs/benchmarks.md of this repository. */
export const BENCHMARKS_MD = join(fileURLToPath(new URL('..', import.meta.url)), 'docs', 'benchmarks.md');

const HEADER = `# Benchmarks

Every figure here comes from a real run of the command shown with it, on the
machine named with it; each benchmark measures its baseline in the same run.
Re-run one with \`npm run bench:<name>\`; \`npm run bench\` runs them all.
`;

/** Replaces (or appends) the section `name` of docs/benchmarks.md with `markdown`. */
export function writeBenchSection(name: string, markdown: string, path = BENCHMARKS_MD): void {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const block = `${open}\n${markdown.trim()}\n${close}`;
  let text = existsSync(path) ? readFileSync(path, 'utf8') : HEADER;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start !== -1 && end > start) text = `${text.slice(0, start)}${block}${text.slice(end + close.length)}`;
  else text = `${text.trimEnd()}\n\n${block}\n`;
  mkdirSync(dirname(path), { recursive: true });
  // Write then rename: benchmarks run side by side must never leave a half-written file.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
