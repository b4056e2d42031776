/**
 * The seed's queue, end to end: a simulated translation service publishes its videos' progress
 * on RabbitMQ; jobwait takes each message as a worker's report (ingest), and the jobs move for
 * every waiter — here a client watching them, the dashboard, a webhook endpoint and a mailbox.
 *
 *   npm run demo:pipeline              # 3 videos, then exit
 *   npm run demo:pipeline -- --keep    # stay up to look at the dashboard (Ctrl-C ends)
 *
 * RabbitMQ at AMQP_URL (default amqp://guest:guest@127.0.0.1:5672); JOBWAIT_PORT moves jobwait
 * (default: a free port). The queue is the demo's own and is deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { JobwaitClient, type Job } from '@jobwait/client';
import { buildServer } from '@jobwait/server';
import { startInbox } from './inbox.js';
import { TranslationService, type Video } from './translation-service.js';

const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const keep = process.argv.includes('--keep');
const queue = `jobwait-demo.translations.${randomBytes(4).toString('hex')}`;
const print = (line: string): void => void process.stdout.write(`${line}\n`);

const inbox = await startInbox(print);
const jobwait = await buildServer({
  store: 'memory',
  logLevel: 'warn',
  ingestSources: [{ kind: 'amqp', name: 'translations', url: amqpUrl, queue, tenants: ['public'], prefetch: 100, deadLetterQueue: `${queue}.dead-letter` }],
  // The demo's webhook endpoint is on this machine; a real deployment's would not need this.
  webhookAllowHosts: ['127.0.0.1'],
  smtpUrl: inbox.smtpUrl,
});
const baseUrl = await jobwait.listen({ port: Number(process.env.JOBWAIT_PORT ?? 0), host: '127.0.0.1' });
print(`jobwait on ${baseUrl} — dashboard: ${baseUrl}/ (consuming RabbitMQ queue ${queue})`);

const connection = await amqp.connect(amqpUrl);
const channel = await connection.createConfirmChannel();
await channel.assertQueue(queue, { durable: true });
const service = new TranslationService(channel, queue);
const videos: Video[] = [
  { id: 'vid-1001', title: 'Keynote 2026', language: 'fr', seconds: 3 },
  { id: 'vid-1002', title: 'Product tour', language: 'de', seconds: 2 },
  { id: 'vid-1003', title: 'Onboarding', language: 'ja', seconds: 2.5, fail: true },
];

// The client watches every job of the tenant as the messages move it; it never talks to RabbitMQ.
const client = new JobwaitClient({ baseUrl });
const watched = new Set<string>();
const watching: Promise<Job>[] = [];
const watchNew = async (): Promise<void> => {
  for (const job of (await client.listJobs({ limit: 100 })).jobs) {
    if (watched.has(job.id)) continue;
    watched.add(job.id);
    watching.push(
      (async () => {
        let last = job;
        for await (const update of client.watchJob(job.id)) {
          last = update;
          const title = (update.metadata as { title?: string } | undefined)?.title ?? update.id;
          const pct = `${Math.round(update.progress * 100)}%`.padStart(4);
          print(`job      ${title.padEnd(14)} ${update.status.padEnd(9)} ${pct} ${update.message ?? ''}`.trimEnd());
        }
        return last;
      })(),
    );
  }
};
const discover = setInterval(() => void watchNew().catch(() => {}), 100);

await Promise.all(videos.map((video) => service.translate(video, { callbackUrl: inbox.webhookUrl, notifyEmail: 'editor@example.com' })));
// Every video's last message is published; wait for jobwait to apply it and the watchers to see the end.
while (watched.size < videos.length) await new Promise((r) => setTimeout(r, 50));
clearInterval(discover);
const finals = await Promise.all(watching);
// Webhooks and emails go out in the background, after the final state: give them a moment.
const deadline = Date.now() + 15_000;
while ((inbox.counts.webhooks < videos.length || inbox.counts.emails < videos.length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
const status = jobwait.ingest.status()[0]!;
print(
  `done: ${finals.filter((j) => j.status === 'completed').length} completed, ${finals.filter((j) => j.status === 'error').length} failed; ` +
    `ingest applied ${status.applied}, duplicates ${status.duplicate}, dead-lettered ${status.deadLettered}; ${inbox.counts.webhooks} webhooks, ${inbox.counts.emails} emails`,
);

const stop = async (): Promise<void> => {
  await jobwait.close();
  await channel.deleteQueue(queue).catch(() => {});
  await channel.deleteQueue(`${queue}.dead-letter`).catch(() => {});
  await connection.close().catch(() => {});
  await inbox.close();
};
if (keep) {
  print(`still serving ${baseUrl}/ — Ctrl-C ends`);
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
} else {
  await stop();
  process.exitCode = finals.length === videos.length && inbox.counts.webhooks >= videos.length ? 0 : 1;
}
