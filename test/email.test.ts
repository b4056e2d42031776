/**
 * Issue 4: email on completion, failure and cancel, received by a real SMTP
 * server (the `smtp-server` package) started by the test on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

interface Mail {
  from: string | undefined;
  to: string[];
  raw: string;
}
interface Delivery {
  id: string;
  kind: string;
  event: string;
  target: string;
  status: string;
  attempts: { statusCode?: number; error?: string }[];
  note?: string;
}

/** A real SMTP server: records each message; `rcptTo` and `data` may refuse with an SMTP code. */
async function startSmtpServer(refuse: { rcptTo?: (address: string) => number | undefined; data?: (n: number) => number | undefined } = {}) {
  const mails: Mail[] = [];
  let dataCount = 0;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // No reverse DNS of the client: the sandbox may have no resolver, and the test needs none.
    disableReverseLookup: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      const code = refuse.rcptTo?.(address.address);
      if (code) return callback(Object.assign(new Error(`mailbox ${address.address} refused`), { responseCode: code }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const code = refuse.data?.(dataCount++);
        if (code) return callback(Object.assign(new Error('try again later'), { responseCode: code }));
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}

async function createJob(server: TestServer, body: Record<string, unknown>): Promise<{ id: string }> {
  const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 201);
  return (await res.json()) as { id: string };
}

async function waitForDeliveries(server: TestServer, jobId: string, timeoutMs = 5000): Promise<Delivery[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${server.url}/v1/jobs/${jobId}/deliveries`);
    const list = ((await res.json()) as { deliveries: Delivery[] }).deliveries;
    if (list.length > 0 && list.every((d) => d.status !== 'pending')) return list;
    if (Date.now() > deadline) throw new Error(`deliveries did not settle: ${JSON.stringify(list)}`);
    await delay(20);
  }
}

describe('email notifications', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let server: TestServer;

  before(async () => {
    // data: the first message of all is refused with a temporary 451, to prove retries.
    smtp = await startSmtpServer({ rcptTo: (address) => (address.startsWith('nobody@') ? 550 : undefined), data: (n) => (n === 0 ? 451 : undefined) });
    server = await startTestServer({ store: 'memory', rateLimit: 0, smtpUrl: smtp.url, webhookRetryScheduleMs: [20, 20], webhookAllowHosts: ['127.0.0.1'] });
  });
  after(async () => {
    await server.close();
    await smtp.close();
  });

  it('sends the job id and status to notifyEmail, retrying after a temporary SMTP failure', async () => {
    const job = await createJob(server, { duration: 0.05, notifyEmail: 'user@example.com' });
    const [delivery] = await waitForDeliveries(server, job.id);
    assert.equal(delivery?.kind, 'email');
    assert.equal(delivery?.id, `eml_${job.id}_completed`);
    assert.equal(delivery?.target, 'user@example.com');
    assert.equal(delivery?.status, 'delivered');
    assert.deepEqual(delivery?.attempts.map((a) => a.statusCode), [451, 250]);
    const mail = smtp.mails.find((m) => m.raw.includes(job.id));
    assert.ok(mail, 'the SMTP server received the message');
    assert.deepEqual(mail.to, ['user@example.com']);
    assert.equal(mail.from, 'jobwait@localhost');
    assert.match(mail.raw, new RegExp(`^Subject: jobwait: job ${job.id} completed`, 'm'));
    assert.match(mail.raw, new RegExp(`Job ${job.id} completed\\.`));
    assert.match(mail.raw, /Status: +completed/);
    assert.match(mail.raw, new RegExp(`^Message-ID: <eml_${job.id}_completed@jobwait>`, 'mi'));
  });

  it('says when a job failed or was canceled', async () => {
    const failed = await createJob(server, { duration: 0.05, outcome: 'error', notifyEmail: 'ops@example.com' });
    const canceled = await createJob(server, { duration: 60, notifyEmail: 'ops@example.com' });
    assert.equal((await fetch(`${server.url}/v1/jobs/${canceled.id}`, { method: 'DELETE' })).status, 200);
    assert.equal((await waitForDeliveries(server, failed.id))[0]?.event, 'job.failed');
    assert.equal((await waitForDeliveries(server, canceled.id))[0]?.event, 'job.canceled');
    const failedMail = smtp.mails.find((m) => m.raw.includes(`job ${failed.id}`));
    assert.match(failedMail?.raw ?? '', new RegExp(`Subject: jobwait: job ${failed.id} error`));
    assert.match(failedMail?.raw ?? '', /Error: +JOB_FAILED/);
    assert.match(smtp.mails.find((m) => m.raw.includes(`job ${canceled.id}`))?.raw ?? '', /Status: +canceled/);
  });

  it("tells a reported job's result, message and progress, or its worker's error, and no duration", async () => {
    const report = async (job: { id: string; reportToken: string }, body: Record<string, unknown>): Promise<void> => {
      const res = await fetch(`${server.url}/v1/jobs/${job.id}/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${job.reportToken}` },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200);
    };
    const done = (await createJob(server, { notifyEmail: 'worker@example.com' })) as { id: string; reportToken: string };
    await report(done, { event: 'progress', progress: 0.5 });
    await report(done, { event: 'completed', result: 'https://cdn.example/v.mp4', message: 'uploaded\nBcc: evil@example.com' });
    const failed = (await createJob(server, { notifyEmail: 'worker@example.com' })) as { id: string; reportToken: string };
    await report(failed, { event: 'progress', progress: 0.3 });
    await report(failed, { event: 'failed', error: { code: 'TRANSCODE', message: 'codec not supported' } });
    assert.equal((await waitForDeliveries(server, done.id))[0]?.status, 'delivered');
    assert.equal((await waitForDeliveries(server, failed.id))[0]?.status, 'delivered');
    const doneMail = smtp.mails.find((m) => m.raw.includes(`job ${done.id}`))?.raw ?? '';
    assert.match(doneMail, /Result: +https:\/\/cdn\.example\/v\.mp4/);
    assert.match(doneMail, /Message: +uploaded Bcc: evil@example\.com/, "a worker's line break does not make a line");
    assert.match(doneMail, /Progress: +100 %/);
    assert.match(doneMail, /Started: +\d{4}-/);
    assert.doesNotMatch(doneMail, /Duration|undefined/);
    const failedMail = smtp.mails.find((m) => m.raw.includes(`job ${failed.id}`))?.raw ?? '';
    assert.match(failedMail, /Error: +TRANSCODE: codec not supported/);
    assert.match(failedMail, /Progress: +30 %/);
    assert.doesNotMatch(failedMail, /Duration|undefined/);
  });

  it('gives up at once when the SMTP server refuses for good (5xx)', async () => {
    const job = await createJob(server, { duration: 0.05, notifyEmail: 'nobody@example.com' });
    const [delivery] = await waitForDeliveries(server, job.id);
    assert.equal(delivery?.status, 'failed');
    assert.equal(delivery?.attempts.length, 1);
    assert.equal(delivery?.attempts[0]?.statusCode, 550);
  });

  it('sends a webhook and an email for the same job independently', async () => {
    const job = await createJob(server, { duration: 0.05, notifyEmail: 'both@example.com', callbackUrl: 'http://127.0.0.1:1/hook' });
    // The webhook target refuses connections: the email goes out all the same.
    const deadline = Date.now() + 5000;
    let email: Delivery | undefined;
    while (Date.now() < deadline) {
      const list = ((await (await fetch(`${server.url}/v1/jobs/${job.id}/deliveries`)).json()) as { deliveries: Delivery[] }).deliveries;
      assert.deepEqual(list.map((d) => d.kind).sort(), list.length === 2 ? ['email', 'webhook'] : list.map((d) => d.kind).sort());
      email = list.find((d) => d.kind === 'email' && d.status === 'delivered');
      if (email) break;
      await delay(20);
    }
    assert.ok(email);
  });
});

describe('email without an SMTP server', () => {
  it('records the email delivery as disabled, and the job is unaffected', async () => {
    const server = await startTestServer({ store: 'memory', rateLimit: 0 });
    try {
      const job = await createJob(server, { duration: 0.05, notifyEmail: 'user@example.com' });
      const [delivery] = await waitForDeliveries(server, job.id);
      assert.equal(delivery?.status, 'disabled');
      assert.deepEqual(delivery?.attempts, []);
      assert.match(delivery?.note ?? '', /--smtp-url/);
      const res = await fetch(`${server.url}/v1/jobs/${job.id}`);
      assert.equal(((await res.json()) as { status: string }).status, 'completed');
    } finally {
      await server.close();
    }
  });
});
