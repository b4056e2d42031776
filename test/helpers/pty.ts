/**
 * Runs a command as a person meets it: under a pseudo-terminal (util-linux `script`, else python3's
 * `pty` module; JOBWAIT_PTY_RUNNER=python forces that one), or piped, collecting its output.
 */
import { spawn, spawnSync } from 'node:child_process';

const has = (file: string, args: string[]): boolean => spawnSync(file, args, { stdio: 'ignore' }).status === 0;

/** What provides the pseudo-terminal here; undefined when nothing does. */
export const PTY_RUNNER: 'script' | 'python' | undefined =
  process.env.JOBWAIT_PTY_RUNNER !== 'python' && has('script', ['--version'])
    ? 'script'
    : has('python3', ['-c', 'import pty']) ? 'python' : undefined;

/** Quotes one argument for /bin/sh. */
export const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/** The command that runs `argv` with a pseudo-terminal as its stdin, stdout and stderr. */
export function underPty(argv: string[]): { file: string; args: string[] } {
  if (PTY_RUNNER === 'script') return { file: 'script', args: ['-qfec', argv.map(shellQuote).join(' '), '/dev/null'] };
  if (PTY_RUNNER === undefined) throw new Error('a pseudo-terminal needs util-linux `script` or python3 with the pty module');
  const program = 'import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))';
  return { file: 'python3', args: ['-c', program, ...argv] };
}

/** How a process ended and what it wrote. */
export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A spawned process whose output is collected as it comes. */
export interface Running {
  child: ReturnType<typeof spawn>;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the output so far matches `pattern`; rejects if the process ends first or after `ms`. */
  waitForOutput(pattern: RegExp, ms?: number): Promise<void>;
  done: Promise<Finished>;
}

/** Options of {@link startProcess}. */
export interface StartOptions {
  /** Working directory. */
  cwd: string;
  /** @default 'ignore' */
  stdin?: 'ignore' | 'pipe';
  /** Added to this process's environment (which always gets NO_COLOR=1). */
  env?: NodeJS.ProcessEnv;
}

/** Spawns `file args` and collects its stdout and stderr. */
export function startProcess(file: string, args: string[], options: StartOptions): Running {
  const child = spawn(file, args, { cwd: options.cwd, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...options.env } });
  let stdout = '';
  let stderr = '';
  let exited = false;
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((l) => l());
  child.stdout!.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), changed()));
  child.stderr!.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), changed()));
  const done = new Promise<Finished>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      exited = true;
      changed();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitForOutput: (pattern, ms = 40_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no ${pattern} within ${ms} ms; stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr)}`)), ms);
        const check = (): void => {
          if (pattern.test(stdout + stderr)) finish();
          else if (exited) finish(new Error(`exited before ${pattern}; stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr)}`));
        };
        const finish = (error?: Error): void => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        listeners.add(check);
        check();
      }),
  };
}

/** Frames of the CLI's progress bar in `text`: percentage and ETA of each. */
export function progressFrames(text: string): Array<{ percent: number; eta: number }> {
  return [...text.matchAll(/\r\x1b\[2K\[[#.]+\] +(\d+)%  ETA (\d+\.\d)s/g)].map((m) => ({ percent: Number(m[1]), eta: Number(m[2]) }));
}
