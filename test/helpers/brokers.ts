/**
 * The real brokers of the ingest tests (RabbitMQ on 127.0.0.1:5672, Redis on 127.0.0.1:6379,
 * started by `.ci/run`): publishing, reading dead letters, and names no other test uses.
 */
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from './redis.js';

/** RabbitMQ the tests use; `JOBWAIT_TEST_AMQP_URL` points them elsewhere. */
export const TEST_AMQP_URL = process.env.JOBWAIT_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A queue or stream name no other test run uses. */
export function uniqueName(name: string): string {
  return `jobwait-test.${name}.${randomBytes(6).toString('hex')}`;
}

/** A dead letter as a test reads it. */
export interface DeadLetter {
  body: string;
  reason: string;
}

/** Publishing to one AMQP queue, and reading its dead-letter queue. */
export interface AmqpPublisher {
  publish(body: string | object): Promise<void>;
  /** Waits until the broker confirmed everything published so far. */
  flush(): Promise<void>;
  /** Takes every message now in the dead-letter queue. */
  deadLetters(): Promise<DeadLetter[]>;
  /** Messages waiting in the queue. */
  depth(): Promise<number>;
  /** Deletes the queue and its dead-letter queue, closes. */
  close(): Promise<void>;
}

/** Declares `queue` (and `<queue>.dead-letter`) and publishes on a confirm channel. */
export async function amqpPublisher(queue: string, url = TEST_AMQP_URL): Promise<AmqpPublisher> {
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  const dlq = `${queue}.dead-letter`;
  await channel.assertQueue(queue, { durable: true });
  await channel.assertQueue(dlq, { durable: true });
  let sent = 0;
  return {
    async publish(body) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      // Respect the channel's flow control: wait for drain when the buffer is full.
      if (!channel.sendToQueue(queue, Buffer.from(text), { persistent: true, contentType: 'application/json' })) await new Promise((r) => channel.once('drain', r));
      if (++sent % 500 === 0) await channel.waitForConfirms();
    },
    flush: () => channel.waitForConfirms(),
    async deadLetters() {
      const out: DeadLetter[] = [];
      for (;;) {
        const got = await channel.get(dlq, { noAck: true });
        if (got === false) return out;
        out.push({ body: got.content.toString(), reason: String(got.properties.headers?.['x-jobwait-reason']) });
      }
    },
    depth: async () => (await channel.checkQueue(queue)).messageCount,
    async close() {
      await channel.deleteQueue(queue).catch(() => {});
      await channel.deleteQueue(dlq).catch(() => {});
      await connection.close().catch(() => {});
    },
  };
}

/** Publishing to one Redis stream, and reading its dead-letter stream. */
export interface StreamPublisher {
  publish(body: string | object): Promise<void>;
  flush(): Promise<void>;
  deadLetters(): Promise<DeadLetter[]>;
  /** Entries the group has not acknowledged (undelivered plus pending). */
  depth(group?: string): Promise<number>;
  close(): Promise<void>;
}

/** Publishes to `stream` with XADD (pipelined), reads `<stream>:dead-letter`. */
export function streamPublisher(stream: string): StreamPublisher {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const dls = `${stream}:dead-letter`;
  let pipeline = redis.pipeline();
  let queued = 0;
  const flush = async (): Promise<void> => {
    if (queued === 0) return;
    const run = pipeline;
    pipeline = redis.pipeline();
    queued = 0;
    await run.exec();
  };
  return {
    async publish(body) {
      pipeline.xadd(stream, '*', 'message', typeof body === 'string' ? body : JSON.stringify(body));
      if (++queued >= 500) await flush();
    },
    flush,
    async deadLetters() {
      const entries = (await redis.xrange(dls, '-', '+')) as [string, string[]][];
      return entries.map(([, fields]) => {
        const map = new Map<string, string>();
        for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
        return { body: map.get('message') ?? '', reason: map.get('reason') ?? '' };
      });
    },
    async depth(group = 'jobwait') {
      const groups = (await redis.xinfo('GROUPS', stream).catch(() => [])) as unknown[][];
      for (const info of groups) {
        const fields = new Map<string, unknown>();
        for (let i = 0; i + 1 < info.length; i += 2) fields.set(String(info[i]), info[i + 1]);
        if (fields.get('name') === group) return Number(fields.get('lag') ?? 0) + Number(fields.get('pending') ?? 0);
      }
      return Number(await redis.xlen(stream));
    },
    async close() {
      await redis.del(stream, dls);
      redis.disconnect();
    },
  };
}
