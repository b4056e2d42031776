/**
 * Issue 9: the nginx configuration of docs/operations.md, as written there,
 * in front of two jobwait instances sharing one Redis (`--store redis`):
 * long-polls are held and answered on completion, event streams arrive
 * unbuffered, request ids pass through, and both instances serve. nginx runs
 * from the Debian package in a temp prefix as the current user, on 127.0.0.1.
 * Also: `--trust-proxy` makes per-IP limits see the client behind a proxy.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Job } from '@jobwait/client';
import { buildServer } from '@jobwait/server';
import { startInstance, stopInstance } from './helpers/cluster.js';
import { deleteKeys, uniquePrefix } from './helpers/redis.js';
import { freePort, type ServerProcess } from './helpers/server-process.js';

const DOCS = fileURLToPath(new URL('../docs/operations.md', import.meta.url));

/** The nginx block of docs/operations.md, between its markers. */
function docsNginxConfig(): string {
  const text = readFileSync(DOCS, 'utf8');
  const match = /<!-- nginx-config:start -->\s*```nginx\n([\s\S]*?)```\s*<!-- nginx-config:end -->/.exec(text);
  if (!match) throw new Error('docs/operations.md has no nginx block between <!-- nginx-config:start/end --> markers');
  return match[1]!;
}

/** The docs' block with its upstream servers replaced by `upstreams` (in order), listening on 127.0.0.1:`port`, logging under `prefix`. */
function renderDocsConfig(upstreams: string[], port: number, prefix: string): string {
  let next = 0;
  const rendered = docsNginxConfig()
    .replace(/^(\s*)server\s+[\w.-]+:\d+([^;]*);/gm, (_, indent: string, params: string) => {
      const upstream = upstreams[next++];
      if (upstream === undefined) throw new Error('the docs name more upstream servers than the test started');
      return `${indent}server ${upstream}${params};`;
    })
    .replace(/^(\s*)listen\s+80;/m, `$1listen 127.0.0.1:${port};`)
    .replace(/^(\s*)access_log\s+\S+\s+jobwait;/m, `$1access_log ${prefix}/access.log jobwait;`);
  assert.equal(next, upstreams.length, 'the docs name one upstream server per instance');
  assert.ok(rendered.includes(`listen 127.0.0.1:${port};`), 'the docs listen on port 80');
  assert.ok(rendered.includes(`access_log ${prefix}/access.log jobwait;`), "the docs' server logs with their log_format jobwait");
  return rendered;
}

/** A whole nginx.conf around `http`, everything under `prefix`, one foreground process as the current user. */
function mainConfig(prefix: string, http: string): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
${http}
}
`;
}

const nginxVersion = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
const haveNginx = nginxVersion.status === 0;

describe('the docs nginx configuration', () => {
  it('keeps long-polls and streams working: no buffering, timeouts above the longest hold, HTTP/1.1 keep-alive upstream', () => {
    const config = docsNginxConfig();
    assert.match(config, /proxy_buffering off;/);
    assert.match(config, /proxy_http_version 1\.1;/);
    assert.match(config, /proxy_set_header Connection "";/);
    assert.match(config, /keepalive \d+;/);
    assert.match(config, /proxy_set_header X-Request-Id \$jobwait_request_id;/);
    const timeout = /proxy_read_timeout (\d+)s;/.exec(config);
    assert.ok(timeout && Number(timeout[1]) > 60, 'proxy_read_timeout above the 60 s long-poll maximum');
  });
});

describe('nginx in front of two instances (--store redis)', { skip: haveNginx ? false : 'nginx is not installed (apt-get install -y nginx)' }, () => {
  const prefix = uniquePrefix('nginx');
  let dir: string;
  let instances: ServerProcess[] = [];
  let nginx: ChildProcess | undefined;
  let url: string;
  const accessLog = (): string[] => readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobwait-nginx-'));
    for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
    const started = await Promise.allSettled([0, 1].map(() => startInstance(prefix, undefined, ['--heartbeat-ms', '300'])));
    instances = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, mainConfig(dir, renderDocsConfig(instances.map((i) => `127.0.0.1:${i.port}`), port, dir)));
    const check = spawnSync('nginx', ['-t', '-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { encoding: 'utf8' });
    assert.equal(check.status, 0, `nginx -t: ${check.stderr}`);
    nginx = spawn('nginx', ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await fetch(`${url}/readyz`).catch(() => undefined);
      await res?.arrayBuffer();
      if (res?.status === 200) break;
      if (nginx.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not come up: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
      await delay(50);
    }
  });

  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx!.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await Promise.all(instances.map((i) => stopInstance(i)));
    await deleteKeys(prefix);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function createJob(duration: number): Promise<Job> {
    const res = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ duration }) });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as Job;
  }

  it('passes X-Request-Id through, and gives one to requests that sent none', async () => {
    const own = await fetch(`${url}/healthz`, { headers: { 'x-request-id': 'edge-trace-0042' } });
    assert.equal(own.headers.get('x-request-id'), 'edge-trace-0042', 'jobwait got and echoed the client id');
    const made = await fetch(`${url}/healthz`);
    const id = made.headers.get('x-request-id');
    assert.match(id ?? '', /^[0-9a-f]{32}$/, "nginx's $request_id reached jobwait");
    await delay(100);
    assert.ok(accessLog().some((line) => line.includes(`request_id=${id}`)), "the same id is in nginx's access log");
  });

  it('holds long-polls on both instances and answers them when the job completes', async () => {
    const job = await createJob(3);
    const dueAt = Date.parse(job.dueAt!);
    const started = Date.now();
    // Four long-polls round-robin over the two instances; the job was made on one of them.
    const answers = await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const res = await fetch(`${url}/v1/jobs/${job.id}`, { headers: { prefer: 'wait=30' } });
        return { status: res.status, applied: res.headers.get('preference-applied'), job: (await res.json()) as Job, at: Date.now() };
      }),
    );
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.equal(answer.applied, 'wait=30');
      assert.equal(answer.job.status, 'completed');
      assert.ok(answer.at >= dueAt - 50, `held until the job was due (answered ${dueAt - answer.at} ms early)`);
      assert.ok(answer.at - dueAt < 10_000, `answered ${answer.at - dueAt} ms after the job was due`);
    }
    assert.ok(Date.now() - started >= 2000, 'the proxy did not answer early');
    await delay(100);
    const upstreams = new Set(
      accessLog()
        .filter((line) => line.includes(`"GET /v1/jobs/${job.id}`) && line.includes('" 200 '))
        .map((line) => /upstream=(\S+)/.exec(line)?.[1]),
    );
    assert.deepEqual([...upstreams].sort(), instances.map((i) => `127.0.0.1:${i.port}`).sort(), 'long-polls were held by both instances');
  });

  it('streams server-sent events unbuffered: the first event and heartbeats arrive long before the stream ends', async () => {
    for (let round = 0; round < 2; round++) {
      // Two rounds: with round robin, the streams land on both instances.
      const job = await createJob(5);
      const dueAt = Date.parse(job.dueAt!);
      const res = await fetch(`${url}/v1/jobs/${job.id}/events`, { headers: { accept: 'text/event-stream' } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      let firstEventAt: number | undefined;
      let heartbeatAt: number | undefined;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        if (firstEventAt === undefined && /event: job\ndata: .*"status":"pending"/.test(text)) firstEventAt = Date.now();
        if (heartbeatAt === undefined && text.includes(': heartbeat')) heartbeatAt = Date.now();
      }
      const endedAt = Date.now();
      assert.ok(firstEventAt !== undefined, `the pending snapshot arrived: ${text}`);
      assert.ok(firstEventAt < dueAt - 1000, `the first event arrived ${dueAt - firstEventAt} ms before the job was due, not buffered`);
      assert.ok(heartbeatAt !== undefined && heartbeatAt < dueAt, 'heartbeats arrived while the job ran');
      assert.match(text, /event: job\ndata: .*"status":"completed"/);
      assert.ok(endedAt >= dueAt - 50, 'the stream ended after the job completed');
    }
  });

  it('keeps /metrics to the internal network, as configured', async () => {
    const res = await fetch(`${url}/metrics`);
    await res.arrayBuffer();
    assert.equal(res.status, 403, 'loopback is not in 10.0.0.0/8');
  });
});

describe('behind a proxy (--trust-proxy)', () => {
  const request = (app: Awaited<ReturnType<typeof buildServer>>, client: string) =>
    app.inject({ method: 'GET', url: '/v1/jobs', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': client } });

  it('rate-limits each client named by X-Forwarded-For when the proxy is trusted', async () => {
    const app = await buildServer({ store: 'memory', logLevel: 'silent', rateLimit: 0.01, rateBurst: 1, trustProxy: ['127.0.0.1'] });
    try {
      assert.equal((await request(app, '198.51.100.1')).statusCode, 200);
      assert.equal((await request(app, '198.51.100.2')).statusCode, 200, 'another client has its own bucket');
      assert.equal((await request(app, '198.51.100.1')).statusCode, 429);
    } finally {
      await app.close();
    }
  });

  it('ignores X-Forwarded-For from an untrusted peer (no spoofing around the limit)', async () => {
    const app = await buildServer({ store: 'memory', logLevel: 'silent', rateLimit: 0.01, rateBurst: 1 });
    try {
      assert.equal((await request(app, '198.51.100.1')).statusCode, 200);
      assert.equal((await request(app, '198.51.100.2')).statusCode, 429, 'one bucket: the peer address');
    } finally {
      await app.close();
    }
  });
});
