/**
 * Creates jobs through the API at a steady rate, as a busy server's clients would: for
 * `npm run bench:dashboard` and the busy screenshot of `npm run docs:screenshot`.
 */
import { pathToFileURL } from 'node:url';

/** Options of {@link startCreateLoad}. */
export interface CreateLoadOptions {
  /** The server's base URL. */
  url: string;
  /** Creates per second. */
  rate: number;
  /** Seconds each job runs. */
  jobSeconds: number;
  /** Share of jobs that end in error, from 0 to 1. @default 0.1 */
  errorShare?: number;
  /** Creates in flight at most; past it the load falls behind (and says so) rather than piling up. @default 256 */
  maxInFlight?: number;
  /** Told of each created job: its id, when its create was sent and its `createdAt` (ms since the epoch). */
  onCreated?: (id: string, sentAt: number, createdAt: number) => void;
}

/** A running load. */
export interface CreateLoad {
  /** Stops sending, waits for the creates in flight, and tells what was done. */
  stop(): Promise<CreateLoadResult>;
}

/** What a load did. */
export interface CreateLoadResult {
  created: number;
  failed: number;
  /** Creates not sent because `maxInFlight` were outstanding: the server or this process fell behind. */
  skipped: number;
  /** Id of the last job created (the newest). */
  newest: string | undefined;
}

/** Starts creating jobs at `rate` per second, until stopped. */
export function startCreateLoad(options: CreateLoadOptions): CreateLoad {
  const { url, rate, jobSeconds } = options;
  const errorShare = options.errorShare ?? 0.1;
  const maxInFlight = options.maxInFlight ?? 256;
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let created = 0;
  let failed = 0;
  let skipped = 0;
  let newest: string | undefined;
  let stopped = false;

  const createOne = async (n: number): Promise<void> => {
    const sentAt = Date.now();
    try {
      const body = JSON.stringify({ duration: jobSeconds, outcome: (n * errorShare) % 1 < errorShare - 1e-9 ? 'error' : 'completed' });
      const response = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (response.status !== 201) {
        failed++;
        await response.arrayBuffer();
        return;
      }
      const { id, createdAt } = (await response.json()) as { id: string; createdAt: string };
      created++;
      if (newest === undefined || id > newest) newest = id;
      options.onCreated?.(id, sentAt, Date.parse(createdAt));
    } catch {
      failed++;
    }
  };

  // Catches up on the creates due by now, so the rate holds whatever the timer's jitter.
  const tick = (): void => {
    const due = Math.floor(((Date.now() - started) / 1000) * rate);
    while (sent < due) {
      const n = sent++;
      if (inFlight.size >= maxInFlight) {
        skipped++;
        continue;
      }
      const promise = createOne(n).finally(() => inFlight.delete(promise));
      inFlight.add(promise);
    }
  };
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, 10);

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(inFlight);
      return { created, failed, skipped, newest };
    },
  };
}

/**
 * Run as a process of its own (so the load does not share an event loop with what measures):
 * `node --import tsx bench/create-load.ts <url> <rate> <jobSeconds> <sampleEvery>`. Prints
 * `created <id> <sentAt> <createdAt>` for every `sampleEvery`-th job, and `done <json result>` once a line
 * `stop` arrives on stdin (or stdin closes).
 */
async function main(argv: string[]): Promise<void> {
  const [url, rate, jobSeconds, sampleEvery] = argv;
  if (!url || !(Number(rate) > 0) || !(Number(jobSeconds) > 0) || !(Number(sampleEvery) >= 1)) {
    throw new Error('usage: create-load.ts <url> <rate> <jobSeconds> <sampleEvery>');
  }
  let n = 0;
  const load = startCreateLoad({
    url,
    rate: Number(rate),
    jobSeconds: Number(jobSeconds),
    onCreated: (id, sentAt, createdAt) => {
      if (n++ % Number(sampleEvery) === 0) process.stdout.write(`created ${id} ${sentAt} ${createdAt}\n`);
    },
  });
  await new Promise<void>((resolve) => {
    process.stdin.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('stop')) resolve();
    });
    process.stdin.on('end', () => resolve());
  });
  process.stdout.write(`done ${JSON.stringify(await load.stop())}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
