/**
 * The cluster change feed: every change is published on one Redis pub/sub
 * channel (`<prefix>changes`) and each instance fans it out to its own
 * waiters through a {@link LocalFeed}. One subscriber connection per process,
 * one SUBSCRIBE, whatever the number of waiters.
 *
 * Pub/sub is at-most-once: a message sent while the subscriber is
 * disconnected is gone. So after every (re)subscribe the feed resyncs: each
 * job that has local subscribers is re-read from the store and delivered to
 * them, and each tenant stream gets the jobs changed since shortly before the
 * connection dropped. Waiters treat a delivery as "look again" (long-polls
 * re-read the job, SSE streams compare versions), so a resync that finds
 * nothing new is harmless, and one that finds a missed change delivers it.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { JobRecord } from '../../jobs/job-record.js';
import { closeRedis, watchRedis, type RedisLogger } from './redis-connection.js';
import { redisKeys } from './redis-keys.js';
import type { ChangeFeed, ChangeListener, JobChange, Unsubscribe } from '../../feed/change-feed.js';
import { LocalFeed } from '../../feed/local-feed.js';

/** What a resync reads (the Redis store). */
export interface ResyncSource {
  /** A job by id alone: job subscriptions know no tenant. */
  getById(id: string): Promise<JobRecord | undefined>;
  changedSince(tenant: string, since: number, now: number, limit: number): Promise<JobRecord[]>;
}

/** Options of {@link RedisFeed}. */
export interface RedisFeedOptions {
  /** Connection to PUBLISH on; shared (the store's), not closed by the feed. */
  publisher: Redis;
  /**
   * Connection dedicated to SUBSCRIBE; the feed owns and closes it.
   * @default publisher.duplicate()
   */
  subscriber?: Redis;
  /**
   * Prefix of the channel, the same as the store's key prefix.
   * @default 'jobwait:'
   */
  prefix?: string;
  /** Where a resync re-reads jobs. */
  source: ResyncSource;
  log?: RedisLogger | undefined;
  /** Clock, for tests. */
  now?: () => number;
}

/** Changes published just before a drop may be lost too: a resync reaches back this far before it. */
const RESYNC_SLACK_MS = 2000;
/** Jobs re-read per round trip in a resync. */
const RESYNC_BATCH = 500;
/** Jobs replayed per tenant stream in a resync (as `/v1/events` resumes). */
const RESYNC_TENANT_LIMIT = 1000;
/** A resync that failed (the store connection is down too) is tried again after this. */
const RESYNC_RETRY_MS = 1000;

/** One message on the channel. */
interface WireChange {
  /** Instance that published it: its own messages are already delivered locally. */
  o: string;
  t: string;
  j: JobRecord;
}

/** {@link ChangeFeed} across instances through Redis pub/sub. */
export class RedisFeed implements ChangeFeed {
  /** Identifies this process's messages on the channel. */
  readonly instanceId = randomUUID();
  readonly channel: string;
  private readonly local = new LocalFeed();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly source: ResyncSource;
  private readonly log: RedisLogger | undefined;
  private readonly now: () => number;
  private readonly remoteListeners = new Set<ChangeListener>();
  private readonly resyncListeners = new Set<() => void>();
  /** When the subscription was lost (or, before the first one, when the feed was made); undefined while subscribed. */
  private lostAt: number | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private resyncCount = 0;
  private resolveSubscribed!: () => void;
  private readonly subscribed = new Promise<void>((resolve) => (this.resolveSubscribed = resolve));

  constructor(options: RedisFeedOptions) {
    this.channel = redisKeys(options.prefix ?? 'jobwait:').changesChannel;
    this.publisher = options.publisher;
    this.source = options.source;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    // Resubscribing is done here, not by ioredis, to know when the subscription is back and resync after it.
    this.subscriber = options.subscriber ?? options.publisher.duplicate({ connectionName: `jobwait-feed-${process.pid}`, autoResubscribe: false, maxRetriesPerRequest: null });
    if (!options.subscriber) watchRedis(this.subscriber, 'feed', this.log);
    // Anything published before the first SUBSCRIBE is recovered by the resync that follows it.
    this.lostAt = this.now();
    this.subscriber.on('message', (channel: string, message: string) => this.receive(channel, message));
    this.subscriber.on('close', () => {
      if (!this.closed) this.lostAt ??= this.now();
    });
    this.subscriber.on('ready', () => void this.subscribeAndResync());
    if (this.subscriber.status === 'ready') void this.subscribeAndResync();
  }

  async publish(change: JobChange): Promise<void> {
    // Local waiters first, without a round trip; the channel carries it to the other instances.
    this.local.deliver(change);
    const message: WireChange = { o: this.instanceId, t: change.tenant, j: change.job };
    // Not awaited: one connection keeps the order of messages, and a scheduler that settled a batch
    // publishes it without a round trip per job. QUIT on close still waits for the replies.
    this.publisher.publish(this.channel, JSON.stringify(message)).catch((error: unknown) => {
      // The change is stored already: every read elsewhere is right, and waiters there re-read on their timers or resync.
      this.log?.error({ err: error, jobId: change.job.id }, 'redis feed: publish failed');
    });
  }

  async subscribeJob(jobId: string, listener: ChangeListener): Promise<Unsubscribe> {
    return this.local.subscribeJob(jobId, listener);
  }

  async subscribeTenant(tenant: string, listener: ChangeListener): Promise<Unsubscribe> {
    return this.local.subscribeTenant(tenant, listener);
  }

  /** Runs `listener` for every change published by another instance (the scheduler arms for jobs created elsewhere). */
  onRemoteChange(listener: ChangeListener): Unsubscribe {
    const entry: ChangeListener = (change) => listener(change);
    this.remoteListeners.add(entry);
    return () => this.remoteListeners.delete(entry);
  }

  /** Runs `listener` after every resync (changes may have been missed: look at the store again). */
  onResync(listener: () => void): Unsubscribe {
    const entry = (): void => listener();
    this.resyncListeners.add(entry);
    return () => this.resyncListeners.delete(entry);
  }

  /** Resolves once the channel is subscribed for the first time. */
  whenSubscribed(): Promise<void> {
    return this.subscribed;
  }

  /** True while the subscription is live. */
  get isSubscribed(): boolean {
    return this.lostAt === undefined && this.subscriber.status === 'ready';
  }

  /** Resyncs done so far (the first subscribe counts as one): for metrics and tests. */
  get resyncs(): number {
    return this.resyncCount;
  }

  size(): number {
    return this.local.size();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.resyncTimer);
    this.remoteListeners.clear();
    this.resyncListeners.clear();
    await closeRedis(this.subscriber);
    await this.local.close();
  }

  private receive(channel: string, message: string): void {
    if (channel !== this.channel || this.closed) return;
    const wire = parseWire(message);
    if (!wire) {
      this.log?.warn({ channel }, 'redis feed: ignored a malformed message');
      return;
    }
    if (wire.o === this.instanceId) return;
    const change: JobChange = { tenant: wire.t, job: wire.j };
    this.local.deliver(change);
    for (const listener of [...this.remoteListeners]) listener(change);
  }

  private async subscribeAndResync(): Promise<void> {
    if (this.closed) return;
    try {
      await this.subscriber.subscribe(this.channel);
    } catch (error) {
      // The connection dropped again before the reply: the next 'ready' subscribes again.
      if (!this.closed) this.log?.warn({ err: error }, 'redis feed: SUBSCRIBE failed');
      return;
    }
    this.resolveSubscribed();
    await this.runResync();
  }

  private async runResync(): Promise<void> {
    const lostAt = this.lostAt;
    if (lostAt === undefined || this.closed) return;
    this.lostAt = undefined;
    clearTimeout(this.resyncTimer);
    try {
      await this.resync(lostAt - RESYNC_SLACK_MS);
    } catch (error) {
      if (this.closed) return;
      this.log?.warn({ err: error }, 'redis feed: resync after reconnect failed; retrying');
      this.lostAt = Math.min(this.lostAt ?? lostAt, lostAt);
      this.resyncTimer = setTimeout(() => void this.runResync(), RESYNC_RETRY_MS);
      this.resyncTimer.unref();
    }
  }

  private async resync(since: number): Promise<void> {
    this.resyncCount++;
    const ids = this.local.jobIds();
    for (let i = 0; i < ids.length; i += RESYNC_BATCH) {
      const jobs = await Promise.all(ids.slice(i, i + RESYNC_BATCH).map((id) => this.source.getById(id)));
      for (const job of jobs) if (job && !this.closed) this.local.deliverToJob({ tenant: job.tenant, job });
    }
    const now = this.now();
    for (const tenant of this.local.tenants()) {
      const jobs = await this.source.changedSince(tenant, since, now, RESYNC_TENANT_LIMIT);
      for (const job of jobs) if (!this.closed) this.local.deliverToTenant({ tenant, job });
    }
    for (const listener of [...this.resyncListeners]) listener();
  }
}

/** The message, if it has the shape this feed publishes; the channel is shared only with other jobwait instances. */
function parseWire(message: string): WireChange | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const wire = value as Partial<WireChange>;
  const job = wire.j;
  if (typeof wire.o !== 'string' || typeof wire.t !== 'string' || typeof job !== 'object' || job === null) return undefined;
  if (typeof job.id !== 'string' || typeof job.version !== 'number' || typeof job.createdAt !== 'number' || job.tenant !== wire.t) return undefined;
  return wire as WireChange;
}
