/**
 * A child process of `bench/server.ts` that holds many waiters open against a jobwait server:
 * long-polls (`GET /v1/jobs/{id}` with `Prefer: wait=N`) or event streams
 * (`GET /v1/jobs/{id}/events`). A process may hold at most RLIMIT_NOFILE sockets, so the bench
 * spreads 20,000 waiters over a few of these.
 *
 * Keeps no bodies: a long-poll records when its answer's headers arrive; a stream keeps only its
 * unfinished last line and records when the `id:` of the job's final version arrives. Connections
 * are opened at most {@link MAX_CONNECTING} at a time (the server's accept backlog is 511) and
 * spread over several 127.0.0.x source addresses, so ephemeral ports never run short.
 *
 * Protocol (IPC, see {@link WorkerCommand} and {@link WorkerReport}): `open` → `opened` once every
 * request is written (long-poll) or every stream has its headers (SSE) → `done` once every
 * waiter has its final answer or the deadline passed; `close` → `closed`.
 */
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';

/** Waiters still connecting at once, per worker. */
const MAX_CONNECTING = 200;

/** One job the waiters wait on. */
export interface WaitTarget {
  id: string;
  /** Milliseconds since the epoch, as the server reported it. */
  dueAt: number;
  /** Version of the job once final (its created version + 1). */
  finalVersion: number;
}

/** What the bench tells a worker. */
export type WorkerCommand =
  | {
      type: 'open';
      kind: 'long-poll' | 'sse';
      host: string;
      port: number;
      targets: WaitTarget[];
      /** Waiters of this worker; waiter i waits on `targets[(offset + i) % targets.length]`. */
      count: number;
      offset: number;
      localAddresses: string[];
      /** Long-poll hold asked for, seconds. */
      waitSeconds: number;
      /** Waiters still unanswered then (ms since the epoch) are cut and counted missing. */
      deadline: number;
    }
  | { type: 'close' };

/** What a worker tells the bench. */
export type WorkerReport =
  | { type: 'opened'; count: number; failed: number; tookMs: number }
  | {
      type: 'done';
      /** Per answered waiter: when it learned of the final state − the job's dueAt, in ms. */
      lateMs: number[];
      /** Answers before dueAt that did not carry the final state (long-poll timed out early, 304...). */
      early: number;
      /** Failed connections or requests. */
      errors: number;
      /** Unanswered at the deadline. */
      missing: number;
      /** A few error messages, for the report. */
      errorSamples: string[];
    }
  | { type: 'closed' };

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

function report(message: WorkerReport): void {
  process.send?.(message);
}

async function open(cmd: Extract<WorkerCommand, { type: 'open' }>): Promise<void> {
  const started = Date.now();
  const lateMs: number[] = [];
  const errorSamples: string[] = [];
  let early = 0;
  let errors = 0;
  let finished = 0;
  let opened = 0;
  let openFailed = 0;
  let connecting = 0;
  let next = 0;
  const live = new Set<ClientRequest>();
  let openedSent = false;
  let doneSent = false;
  let wakeOpener: (() => void) | undefined;

  const fail = (message: string): void => {
    errors++;
    if (errorSamples.length < 5) errorSamples.push(message);
  };
  const maybeReportOpened = (): void => {
    if (!openedSent && opened + openFailed === cmd.count) {
      openedSent = true;
      report({ type: 'opened', count: opened, failed: openFailed, tookMs: Date.now() - started });
    }
  };
  const finishOne = (): void => {
    finished++;
    if (finished === cmd.count) sendDone();
  };
  const sendDone = (): void => {
    if (doneSent) return;
    doneSent = true;
    if (!openedSent) {
      openedSent = true;
      report({ type: 'opened', count: opened, failed: cmd.count - opened, tookMs: Date.now() - started });
    }
    clearTimeout(deadlineTimer);
    report({ type: 'done', lateMs, early, errors, missing: cmd.count - finished, errorSamples });
  };
  const connected = (): void => {
    connecting--;
    opened++;
    maybeReportOpened();
    wakeOpener?.();
  };
  const connectFailed = (): void => {
    connecting--;
    openFailed++;
    maybeReportOpened();
    wakeOpener?.();
  };

  const deadlineTimer = setTimeout(() => {
    for (const req of live) req.destroy();
    live.clear();
    sendDone();
  }, Math.max(0, cmd.deadline - Date.now()));

  const startOne = (i: number): void => {
    const target = cmd.targets[(cmd.offset + i) % cmd.targets.length]!;
    const localAddress = cmd.localAddresses[i % cmd.localAddresses.length];
    const path = cmd.kind === 'sse' ? `/v1/jobs/${target.id}/events` : `/v1/jobs/${target.id}`;
    const headers: Record<string, string> = cmd.kind === 'sse' ? { accept: 'text/event-stream' } : { prefer: `wait=${cmd.waitSeconds}` };
    let settled = false; // answered, failed or cut: counted once
    let pendingConnect = true;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      live.delete(req);
      finishOne();
    };
    const req = request({ host: cmd.host, port: cmd.port, path, method: 'GET', headers, agent, ...(localAddress ? { localAddress } : {}) });
    live.add(req);
    req.on('error', (error) => {
      if (pendingConnect) {
        pendingConnect = false;
        connectFailed();
      }
      if (!settled) fail(`${cmd.kind} ${target.id}: ${error.message}`);
      settle();
    });
    if (cmd.kind === 'long-poll') {
      req.on('finish', () => {
        if (pendingConnect) {
          pendingConnect = false;
          connected();
        }
      });
    }
    req.on('response', (res: IncomingMessage) => {
      const at = Date.now();
      if (cmd.kind === 'long-poll') {
        res.resume();
        const version = /\.(\d+)"$/.exec(String(res.headers.etag ?? ''))?.[1];
        if (res.statusCode === 200 && Number(version) >= target.finalVersion) lateMs.push(at - target.dueAt);
        else if (res.statusCode === 200 || res.statusCode === 304) early++;
        else fail(`long-poll ${target.id}: HTTP ${res.statusCode}`);
        settle();
        return;
      }
      if (pendingConnect) {
        pendingConnect = false;
        connected();
      }
      if (res.statusCode !== 200) {
        res.resume();
        fail(`sse ${target.id}: HTTP ${res.statusCode}`);
        settle();
        return;
      }
      // Only the unfinished last line is kept; `id: N` lines give the version of each event.
      let partial = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (settled) return;
        const now = Date.now();
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (line.startsWith('id: ') && Number(line.slice(4)) >= target.finalVersion) {
            lateMs.push(now - target.dueAt);
            settle();
            return;
          }
        }
      });
      res.on('end', () => {
        if (!settled) {
          if (Date.now() < target.dueAt) early++;
          else fail(`sse ${target.id}: stream ended without the final event`);
          settle();
        }
      });
      res.on('error', () => undefined);
    });
    req.end();
  };

  while (next < cmd.count) {
    while (next < cmd.count && connecting < MAX_CONNECTING) {
      connecting++;
      startOne(next++);
    }
    if (next < cmd.count) await new Promise<void>((resolve) => (wakeOpener = resolve));
    wakeOpener = undefined;
  }
  maybeReportOpened();
  if (cmd.count === 0) sendDone();
}

process.on('message', (cmd: WorkerCommand) => {
  if (cmd.type === 'open') {
    void open(cmd);
  } else if (cmd.type === 'close') {
    agent.destroy();
    report({ type: 'closed' });
  }
});
process.on('disconnect', () => process.exit(0));
