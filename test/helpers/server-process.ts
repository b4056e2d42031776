/** Runs `jobwait-server` as a real child process (from source), for crash, signal and cluster tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A server child process. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** Everything it wrote to stdout and stderr. */
  output: () => string;
  /** Resolves with the exit code (or signal name) once it exited. */
  exited: Promise<number | string>;
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** How to start the child beyond its arguments. */
export interface SpawnOptions {
  /** Starts the server under `ulimit -n <fdLimit>` (its soft and hard limit of open files). */
  fdLimit?: number | undefined;
  /**
   * How long the server may take to answer `/healthz` (compiling from source on a busy machine is slow).
   * @default 90000
   */
  startTimeoutMs?: number | undefined;
}

/** Spawns the server with `args` on `port` and waits until `/healthz` answers. */
export async function spawnServer(port: number, args: string[], env: NodeJS.ProcessEnv = {}, options: SpawnOptions = {}): Promise<ServerProcess> {
  const argv = [process.execPath, '--conditions=jobwait-source', '--import', 'tsx', 'packages/server/src/bin.ts', '--port', String(port), '--log-level', 'warn', ...args];
  const [command, ...rest] = options.fdLimit === undefined ? argv : ['bash', '-c', `ulimit -n ${options.fdLimit} && exec "$@"`, 'bash', ...argv];
  const child = spawn(command!, rest, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const url = `http://127.0.0.1:${port}`;
  // Generous by default: tsx compiles the server from source on start, and the test machine is shared.
  const until = Date.now() + (options.startTimeoutMs ?? 90_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${output}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`server did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url, port, output: () => output, exited };
}
