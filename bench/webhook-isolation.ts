/**
 * `npm run bench:webhooks [-- --before <server entry> [--before-label <text>]] [-- --no-docs]`: how late a prompt
 * receiver's webhook is while another tenant's receiver hangs (issue 20).
 *
 * Per round: a fresh in-process server (SQLite, two API keys, default 10 s attempt limit);
 * tenant A creates N jobs of 0.2 s whose `callbackUrl` accepts the connection and never
 * answers; once they have ended, tenant B creates one 1 s job at a time to a receiver that
 * answers 204 at once, 5 in a row. Delay = arrival of B's webhook − B's job `dueAt` (same
 * machine, same clock). N = 5, 100, 500.
 *
 * `--before <path>` also runs N = 100 against another build of the server (e.g. a copy of the
 * `dist/index.js` of the commit before the isolation), waits bounded at 90 s (censored: ">=").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeBenchSection } from './bench-report.js';

const args = process.argv.slice(2);
const WRITE_DOCS = !args.includes('--no-docs');
const beforeArg = args.indexOf('--before');
const BEFORE = beforeArg >= 0 ? args[beforeArg + 1] : undefined;
const labelArg = args.indexOf('--before-label');
const BEFORE_LABEL = labelArg >= 0 ? args[labelArg + 1] : 'before';
const BACKLOGS = [5, 100, 500];
const B_JOBS = 5;
const WAIT_BOUND_MS = 90_000;
const A_DURATION_S = 0.2;
const B_DURATION_S = 1;

interface ServerModule {
  buildServer(options: Record<string, unknown>): Promise<{ listen(o: { port: number; host: string }): Promise<string>; close(): Promise<void> }>;
  generateApiKey(): { key: string };
}

interface Receiver {
  url: string;
  requests: number;
  arrivals: Map<string, number>;
  close(): Promise<void>;
}

async function receiver(hang: boolean): Promise<Receiver> {
  const r: Receiver = { url: '', requests: 0, arrivals: new Map(), close: async () => {} };
  const server: Server = createServer((req, res) => {
    r.requests += 1;
    if (hang) return;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { id: string } };
      r.arrivals.set(body.data.id, at);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}

async function post(url: string, key: string, body: unknown): Promise<{ id: string; dueAt: string }> {
  const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string; dueAt: string };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One round: delays (ms) of B's webhooks; `undefined` for one not arrived within the bound. */
async function round(server: ServerModule, backlog: number): Promise<(number | undefined)[]> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwait-bench-webhooks-'));
  const a = server.generateApiKey();
  const b = server.generateApiKey();
  const hanging = await receiver(true);
  const prompt = await receiver(false);
  const app = await server.buildServer({ store: 'sqlite', dataDir: dir, logLevel: 'silent', rateLimit: 0, webhookAllowHosts: ['127.0.0.1'], apiKeys: [a.key, b.key] });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    let lastDue = 0;
    for (let n = 0; n < backlog; n++) lastDue = Date.parse((await post(url, a.key, { duration: A_DURATION_S, callbackUrl: `${hanging.url}/hook` })).dueAt);
    await sleep(Math.max(0, lastDue - Date.now()) + 300);
    const delays: (number | undefined)[] = [];
    for (let n = 0; n < B_JOBS; n++) {
      const job = await post(url, b.key, { duration: B_DURATION_S, callbackUrl: `${prompt.url}/hook` });
      const deadline = Date.parse(job.dueAt) + WAIT_BOUND_MS;
      while (!prompt.arrivals.has(job.id) && Date.now() < deadline) await sleep(5);
      const at = prompt.arrivals.get(job.id);
      delays.push(at === undefined ? undefined : at - Date.parse(job.dueAt));
      if (at === undefined) break;
    }
    return delays;
  } finally {
    await app.close();
    await hanging.close();
    await prompt.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function show(delays: (number | undefined)[]): string {
  const known = delays.filter((d): d is number => d !== undefined).sort((x, y) => x - y);
  if (known.length < delays.length || known.length === 0) return `>= ${(WAIT_BOUND_MS / 1000).toFixed(0)} s (not arrived; ${known.length} of ${delays.length} before)`;
  const median = known[Math.floor(known.length / 2)]!;
  return `${median} ms (max ${known.at(-1)} ms)`;
}

const current = (await import('@jobwait/server')) as unknown as ServerModule;
const rows: string[] = [];
for (const backlog of BACKLOGS) {
  const delays = await round(current, backlog);
  process.stdout.write(`isolated, ${backlog} hung: ${JSON.stringify(delays)}\n`);
  rows.push(`| this build | ${backlog} | ${show(delays)} |`);
}
if (BEFORE !== undefined) {
  const before = (await import(pathToFileURL(BEFORE).href)) as ServerModule;
  const delays = await round(before, 100);
  process.stdout.write(`before, 100 hung: ${JSON.stringify(delays)}\n`);
  rows.push(`| one shared pool (${BEFORE_LABEL}) | 100 | ${show(delays)} |`);
}

const markdown = `## Webhooks: a receiver that hangs does not delay other tenants

\`npm run bench:webhooks${BEFORE !== undefined ? ' -- --before <the previous build>' : ''}\` (bench/webhook-isolation.ts). Tenant A creates N jobs of
${A_DURATION_S} s whose \`callbackUrl\` accepts the connection and never answers (attempts time out after the
default 10 s); once they ended, tenant B creates ${B_JOBS} jobs of ${B_DURATION_S} s in turn to a receiver that answers at once.
Delay = B's webhook arriving − B's job \`dueAt\`; median of the ${B_JOBS} (and the largest).

| server | N hung deliveries of A | B's webhook after its job ended |
|---|---|---|
${rows.join('\n')}

Deliveries run at most 4 at once per endpoint and 16 per tenant, within 64 in total; A's backlog
waits in the store at its endpoint's pace while B's goes out at once (docs/webhooks.md).
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()[0]!.toFixed(1)} at the end, Node ${process.version}.
`;
process.stdout.write(`\n${markdown}`);
if (WRITE_DOCS) writeBenchSection('webhooks', markdown);
