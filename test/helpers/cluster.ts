/**
 * A jobwait cluster for tests and benchmarks: real server processes on their
 * own ports, all on the test Redis under one prefix.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { TEST_REDIS_URL } from './redis.js';
import { freePort, spawnServer, type ServerProcess } from './server-process.js';

/** Starts one instance of the cluster `prefix` and waits until `/readyz` (Redis reachable) says ready. */
export async function startInstance(prefix: string, port?: number, extraArgs: string[] = []): Promise<ServerProcess> {
  const args = ['--store', 'redis', '--redis-url', TEST_REDIS_URL, '--redis-prefix', prefix, '--rate-limit', '0', ...extraArgs];
  const instance = await spawnServer(port ?? (await freePort()), args);
  const until = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(`${instance.url}/readyz`).catch(() => undefined);
    await res?.arrayBuffer();
    if (res?.status === 200) return instance;
    if (Date.now() > until) {
      await stopInstance(instance, 'SIGKILL');
      throw new Error(`instance on ${instance.url} never became ready:\n${instance.output()}`);
    }
    await delay(50);
  }
}

/** SIGTERM (drain) or SIGKILL (crash), then waits for the exit. */
export async function stopInstance(instance: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill(signal);
  await instance.exited;
}
