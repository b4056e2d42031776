/**
 * A RabbitMQ queue as a source (AMQP 0-9-1, amqplib). Messages are applied in delivery order, in
 * batches of what arrived meanwhile (at most `prefetch` delivered ahead), one commit per batch;
 * each is acknowledged after its report committed (or its dead letter was confirmed by the broker on the dead-letter queue). When
 * applying fails (the store is down) or the connection drops, the connection is closed and made
 * again with backoff: the broker delivers every unacknowledged message again, and a message
 * applied before the drop is then a duplicate (its id is in the job's receipts).
 */
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { AmqpSourceConfig } from './source-config.js';
import type { IngestSource, MessageHandler } from './ingest-source.js';
import { SourceRunner, type SourceSession } from './source-runner.js';
import type { SourceTally } from './source-tally.js';

/** How often the queue's depth is read for `lag`. */
const LAG_INTERVAL_MS = 1000;
/** A connection attempt that takes longer than this has failed. */
const CONNECT_TIMEOUT_MS = 10_000;
/** AMQP heartbeat, seconds: a silent network cut is noticed within about twice this. */
const HEARTBEAT_SECONDS = 10;

/** A source consuming one RabbitMQ queue. */
export function amqpSource(config: AmqpSourceConfig, handle: MessageHandler, tally: SourceTally): IngestSource {
  const queue = new AmqpQueue(config, handle, tally);
  return new SourceRunner(config.name, 'amqp', tally, (session) => queue.consume(session));
}

/** One RabbitMQ queue's connections. */
class AmqpQueue {
  constructor(
    private readonly config: AmqpSourceConfig,
    private readonly handle: MessageHandler,
    private readonly tally: SourceTally,
  ) {}

  /** One connection's life: resolves when it closed (dropped, failed, or the source stopped). */
  async consume(session: SourceSession): Promise<void> {
    const { url, queue, deadLetterQueue, prefetch } = this.config;
    // Loaded on the first connection: a server without this source never pays for amqplib.
    const { default: amqp } = await import('amqplib');
    const connection: ChannelModel = await amqp.connect(withHeartbeat(url), { timeout: CONNECT_TIMEOUT_MS });
    const closed = new Promise<void>((resolve) => connection.once('close', () => resolve()));
    // Without a listener an 'error' event would crash the process; the close that follows reconnects.
    connection.on('error', (error: Error) => session.error(error.message));
    const close = (): void => void connection.close().catch(() => {});
    let lagTimer: NodeJS.Timeout | undefined;
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', (error: Error) => session.error(error.message));
      // A channel the broker closed (a failed declare, a deleted queue) takes the connection with it: the next one starts afresh.
      channel.once('close', close);
      await channel.assertQueue(queue, { durable: true });
      await channel.assertQueue(deadLetterQueue, { durable: true });
      await channel.prefetch(prefetch);
      // Deliveries wait here until the batch before them is committed and acknowledged; what came in
      // meanwhile (up to `prefetch`) is applied as the next batch, in one commit.
      let waiting: ConsumeMessage[] = [];
      let draining: Promise<void> | undefined;
      // Once a batch could not be applied, the rest of this connection's deliveries wait for the next one.
      let broken = false;
      const drain = async (): Promise<void> => {
        while (waiting.length > 0 && !broken) {
          const batch = waiting;
          waiting = [];
          if (!(await this.deliver(channel, batch, session))) {
            broken = true;
            close();
          }
        }
        draining = undefined;
      };
      const { consumerTag } = await channel.consume(
        queue,
        (delivery) => {
          if (delivery === null) return close(); // the queue was deleted: consume it again once it is back
          waiting.push(delivery);
          // One turn later: deliveries that arrived in the same read join the batch.
          draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(drain);
        },
        { noAck: false },
      );
      session.consuming();
      const readLag = (): void => void channel.checkQueue(queue).then((info) => session.lag(info.messageCount), () => {});
      readLag();
      lagTimer = setInterval(readLag, LAG_INTERVAL_MS);
      const stopped = new Promise<void>((resolve) => {
        if (session.signal.aborted) resolve();
        session.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await Promise.race([closed, stopped]);
      if (session.signal.aborted) {
        // Stop taking deliveries, let the one being applied finish and be acknowledged, then leave.
        await channel.cancel(consumerTag).catch(() => {});
        await draining;
      }
    } finally {
      clearInterval(lagTimer);
      close();
      await closed;
    }
  }

  /**
   * Applies a batch of deliveries (one commit) and acknowledges the committed ones with one `ack`
   * (all up to the last: earlier deliveries on this channel are all acknowledged already); false
   * when the store failed, leaving the rest for redelivery.
   */
  private async deliver(channel: ConfirmChannel, batch: readonly ConsumeMessage[], session: SourceSession): Promise<boolean> {
    try {
      const { results, error } = await this.handle(batch.map((delivery) => delivery.content));
      let deadLetters = 0;
      results.forEach((result, i) => {
        if (result.kind === 'dead-letter') {
          this.deadLetter(channel, batch[i]!, result.reason, result.detail);
          deadLetters++;
        }
      });
      if (deadLetters > 0) await channel.waitForConfirms();
      if (results.length > 0) channel.ack(batch[results.length - 1]!, true);
      for (const result of results) this.tally.record(result);
      if (error !== undefined) session.error((error as Error).message);
      return error === undefined;
    } catch (error) {
      session.error((error as Error).message);
      return false;
    }
  }

  /** Publishes `delivery` on the dead-letter queue with its reason (the caller waits for the broker's confirms). */
  private deadLetter(channel: ConfirmChannel, delivery: ConsumeMessage, reason: string, detail: string): void {
    const headers = { 'x-jobwait-reason': reason, 'x-jobwait-detail': detail.slice(0, 1000), 'x-jobwait-source': this.config.name, 'x-jobwait-queue': this.config.queue };
    (channel as Channel).sendToQueue(this.config.deadLetterQueue, delivery.content, {
      persistent: true,
      headers,
      ...(delivery.properties.messageId === undefined ? {} : { messageId: delivery.properties.messageId as string }),
      ...(delivery.properties.contentType === undefined ? {} : { contentType: delivery.properties.contentType as string }),
    });
  }
}

/** `url` with an AMQP heartbeat unless it names one (amqplib takes it from the URL's query). */
function withHeartbeat(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(HEARTBEAT_SECONDS));
  return parsed.toString();
}
