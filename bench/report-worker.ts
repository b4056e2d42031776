/**
 * A child process of `bench/report.ts`, a load generator apart from the server. Two roles:
 *
 * - `waiters`: one long-poll (`Prefer: wait=30` with `If-None-Match` of the version it has, so it
 *   is answered by the next version and asked again at once) and one event stream per job; notes
 *   when each version arrives on each (`performance.timeOrigin + performance.now()`, the clock the
 *   bench's reporter uses too) and hands the arrivals over on `collect`.
 * - `flood`: reports as fast as `concurrency` keep-alive connections allow, round-robin over the
 *   jobs, for `durationMs`: heartbeats, with every tenth a progress (a new version); counts the
 *   answers and their latencies.
 *
 * Protocol (IPC): `waiters` → `opened` (every long-poll sent, every stream has its head) … `collect`
 * → `arrivals`; `flood` → `flooded`; `close` → exit.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';

/** A job the worker reports on or waits on. */
export interface ReportTarget {
  id: string;
  token: string;
  /** The version the job has now (waiters wait for the next). */
  version: number;
}

/** What the bench tells a worker. */
export type ReportWorkerCommand =
  | { type: 'waiters'; host: string; port: number; targets: ReportTarget[] }
  | { type: 'collect' }
  | { type: 'flood'; host: string; port: number; targets: ReportTarget[]; concurrency: number; durationMs: number }
  | { type: 'close' };

/** One version seen by one waiter. */
export interface Arrival {
  kind: 'long-poll' | 'sse';
  id: string;
  version: number;
  /** Wall-clock ms (fractional). */
  at: number;
}

/** What a worker tells the bench. */
export type ReportWorkerReport =
  | { type: 'opened'; longPolls: number; streams: number; errors: string[] }
  | { type: 'arrivals'; arrivals: Arrival[]; errors: string[] }
  | { type: 'flooded'; ok: number; failed: Record<string, number>; latencyMs: number[]; elapsedMs: number };

const now = (): number => performance.timeOrigin + performance.now();
const send = (message: ReportWorkerReport): void => void process.send?.(message);

function waiters(cmd: Extract<ReportWorkerCommand, { type: 'waiters' }>): void {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const errors: string[] = [];
  const fail = (message: string): void => void (errors.length < 20 && errors.push(message));
  let sent = 0;
  let heads = 0;
  let openedSent = false;
  const maybeOpened = (): void => {
    if (!openedSent && sent === cmd.targets.length && heads === cmd.targets.length) {
      openedSent = true;
      send({ type: 'opened', longPolls: sent, streams: heads, errors });
    }
  };
  const longPoll = (target: ReportTarget, version: number, first: boolean): void => {
    const req = request({
      host: cmd.host,
      port: cmd.port,
      path: `/v1/jobs/${target.id}`,
      agent,
      headers: { prefer: 'wait=30', 'if-none-match': `W/"${target.id}.${version}"` },
    });
    req.on('error', (error) => fail(`long-poll ${target.id}: ${error.message}`));
    req.on('response', (res: IncomingMessage) => {
      const at = now();
      res.resume();
      const seen = Number(/\.(\d+)"$/.exec(String(res.headers.etag ?? ''))?.[1]);
      if (res.statusCode === 200 && seen > version) {
        arrivals.push({ kind: 'long-poll', id: target.id, version: seen, at });
        longPoll(target, seen, false);
      } else if (res.statusCode === 200 || res.statusCode === 304) longPoll(target, version, false);
      else fail(`long-poll ${target.id}: HTTP ${res.statusCode}`);
    });
    req.end(() => {
      if (first) {
        sent++;
        maybeOpened();
      }
    });
  };
  const stream = (target: ReportTarget): void => {
    const req = request({ host: cmd.host, port: cmd.port, path: `/v1/jobs/${target.id}/events`, agent, headers: { accept: 'text/event-stream' } });
    req.on('error', (error) => fail(`sse ${target.id}: ${error.message}`));
    req.on('response', (res: IncomingMessage) => {
      heads++;
      maybeOpened();
      if (res.statusCode !== 200) return void fail(`sse ${target.id}: HTTP ${res.statusCode}`);
      let partial = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = now();
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.startsWith('id: ')) continue;
          const version = Number(line.slice(4));
          if (version > target.version) arrivals.push({ kind: 'sse', id: target.id, version, at });
        }
      });
      res.on('error', () => undefined);
    });
    req.end();
  };
  const arrivals: Arrival[] = [];
  for (const target of cmd.targets) {
    longPoll(target, target.version, true);
    stream(target);
  }
  process.on('message', (next: ReportWorkerCommand) => {
    if (next.type === 'collect') send({ type: 'arrivals', arrivals, errors });
  });
}

async function flood(cmd: Extract<ReportWorkerCommand, { type: 'flood' }>): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: cmd.concurrency });
  const latencyMs: number[] = [];
  const failed: Record<string, number> = {};
  let ok = 0;
  let next = 0;
  const started = now();
  const until = started + cmd.durationMs;
  const lane = async (): Promise<void> => {
    while (now() < until) {
      const n = next++;
      const target = cmd.targets[n % cmd.targets.length]!;
      // Every tenth report of a job is a progress (a new version); the rest are heartbeats.
      const round = Math.floor(n / cmd.targets.length);
      const body = round % 10 === 9 ? JSON.stringify({ event: 'progress', progress: Math.min(0.99, round / 10_000) }) : '{"event":"heartbeat"}';
      const t0 = now();
      const status = await new Promise<number | string>((resolve) => {
        const req = request({
          host: cmd.host,
          port: cmd.port,
          method: 'POST',
          path: `/v1/jobs/${target.id}/reports`,
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${target.token}` },
        });
        req.on('error', (error) => resolve(error.message));
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.end(body);
      });
      if (status === 200) {
        ok++;
        latencyMs.push(now() - t0);
      } else failed[String(status)] = (failed[String(status)] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: cmd.concurrency }, lane));
  agent.destroy();
  send({ type: 'flooded', ok, failed, latencyMs, elapsedMs: now() - started });
}

process.on('message', (cmd: ReportWorkerCommand) => {
  if (cmd.type === 'waiters') waiters(cmd);
  else if (cmd.type === 'flood') void flood(cmd);
  else if (cmd.type === 'close') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
