/**
 * The shell commands of the README and docs/*.md, read from their fenced blocks, for a test that
 * runs them as written. ```sh, ```bash and ```shell blocks are scripts: every line not a comment
 * is a command (a trailing `\` continues it). ```console blocks are transcripts: `$ ` lines are
 * commands, the lines under one are its output (`...` stands for anything: a line of its own for
 * any lines, at the end of a line for the rest of it). A `# ` prompt is a root shell.
 * `<!-- docs-commands: skip: <why> -->` on the line before a block (blank lines between allowed)
 * leaves the block out, visibly in the doc, with its reason.
 */
import { readFileSync } from 'node:fs';

/** One command of a doc, where it is and what the doc shows it printing. */
export interface DocCommand {
  /** `README.md:42`: the file (relative to the checkout) and the line of the command. */
  where: string;
  /** The command as written (continuation lines joined as the shell joins them). */
  command: string;
  /** A console block's output lines under the command; undefined in a script block. */
  output?: string[];
}

/** A fenced shell block of a doc. */
export interface DocBlock {
  /** `README.md:20`: the line of the opening fence. */
  where: string;
  lang: string;
  /** The reason given by a skip marker, when the block is skipped. */
  skip?: string;
  commands: DocCommand[];
  /** Lines a transcript runs as root (`# ` prompt): such a block must be skipped. */
  rootPrompts: number;
}

/** The fence languages whose blocks are shell. */
export const SHELL_LANGS: ReadonlySet<string> = new Set(['sh', 'bash', 'shell', 'console']);

const SKIP = /^<!--\s*docs-commands:\s*skip:\s*(.*?)\s*-->$/;

/** The shell blocks of the markdown file at `path`, named `name` in `where`. */
export function docBlocks(path: string, name: string): DocBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const lang = fence[1]!;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (!SHELL_LANGS.has(lang)) continue;
    let before = start - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const skip = before >= 0 ? SKIP.exec(lines[before]!.trim())?.[1] : undefined;
    const block: DocBlock = { where: `${name}:${start + 1}`, lang, commands: [], rootPrompts: 0 };
    if (skip !== undefined) block.skip = skip;
    if (lang === 'console') readTranscript(block, body, name, start + 2);
    else readScript(block, body, name, start + 2);
    blocks.push(block);
  }
  return blocks;
}

function readScript(block: DocBlock, body: string[], name: string, firstLine: number): void {
  for (let j = 0; j < body.length; j++) {
    const line = body[j]!;
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const at = j;
    let command = line;
    while (command.endsWith('\\') && j + 1 < body.length) command = `${command.slice(0, -1)}${body[++j]!.trimStart()}`;
    block.commands.push({ where: `${name}:${firstLine + at}`, command: command.trim() });
  }
}

function readTranscript(block: DocBlock, body: string[], name: string, firstLine: number): void {
  let current: DocCommand | undefined;
  for (let j = 0; j < body.length; j++) {
    const line = body[j]!;
    if (line.startsWith('# ')) {
      block.rootPrompts++;
      current = undefined;
      continue;
    }
    if (line.startsWith('$ ')) {
      const at = j;
      let command = line.slice(2);
      while (command.endsWith('\\') && j + 1 < body.length) command = `${command.slice(0, -1)}${body[++j]!.trimStart()}`;
      current = { where: `${name}:${firstLine + at}`, command: command.trim(), output: [] };
      block.commands.push(current);
      continue;
    }
    if (current) current.output!.push(line);
  }
}

/**
 * Whether `actual` shows what `expected` (a transcript's output lines) says, in order: each line
 * equal, a line ending in `...` a prefix, a line `...` any number of lines.
 */
export function showsOutput(expected: readonly string[], actual: string): boolean {
  const lines = actual.split('\n').map((l) => l.trimEnd());
  const match = (e: number, a: number): boolean => {
    if (e === expected.length) return true;
    const want = expected[e]!.trimEnd();
    if (want.trim() === '...') {
      for (let k = a; k <= lines.length; k++) if (match(e + 1, k)) return true;
      return false;
    }
    for (let k = a; k < lines.length; k++) {
      const ok = want.endsWith('...') ? lines[k]!.startsWith(want.slice(0, -3)) : lines[k] === want;
      if (ok && match(e + 1, k + 1)) return true;
    }
    return false;
  };
  return match(0, 0);
}
