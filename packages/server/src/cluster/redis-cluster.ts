/**
 * `--store redis`: the Redis store and feed of one instance, and what keeps
 * its due scheduler in step with the rest of the cluster.
 *
 * Every instance runs a DueScheduler. Its timer is armed by its own creates;
 * for jobs created elsewhere it is armed by their `created` change on the
 * feed, after a resync, and by a cheap poll of the earliest due time (the
 * safety net for a lost message). Several instances may then fire for the same
 * due time: the store's settle is one Lua claim, so exactly one of them
 * settles (and publishes) each job; the others find nothing left.
 */
import type { FastifyInstance } from 'fastify';
import { RedisFeed } from '../feed/redis-feed.js';
import type { JobService } from '../jobs/job-service.js';
import type { RedisLogger } from '../store/redis-connection.js';
import { RedisStore } from '../store/redis-store.js';

/** Options of {@link openRedisCluster}. */
export interface RedisClusterOptions {
  url: string;
  prefix: string;
  retentionSeconds: number;
  /** False when the caller brings its own feed. */
  withFeed: boolean;
  log: RedisLogger;
}

/** The pieces `buildServer` wires in. */
export interface RedisCluster {
  store: RedisStore;
  /** Undefined when `withFeed` was false. */
  feed: RedisFeed | undefined;
  /** Keeps `service`'s scheduler armed for jobs created on other instances, until `app` closes. */
  attach(app: FastifyInstance, service: JobService): void;
}

/** How often an instance looks at the cluster's earliest due time, in case a `created` message was lost. */
const DUE_POLL_MS = 1000;

/** Opens the Redis store (and feed) of one instance. */
export function openRedisCluster(options: RedisClusterOptions): RedisCluster {
  const store = new RedisStore({ url: options.url, prefix: options.prefix, retentionSeconds: options.retentionSeconds, log: options.log });
  const feed = options.withFeed ? new RedisFeed({ publisher: store.redis, prefix: options.prefix, source: store, log: options.log }) : undefined;
  return {
    store,
    feed,
    attach(app, service) {
      const armForNextDue = (): void => {
        store.nextDueAt().then(
          (next) => {
            if (next !== undefined) service.scheduler.jobScheduled(next);
          },
          // The scheduler's own tick reports store failures; this is only a hint.
          () => {},
        );
      };
      feed?.onRemoteChange((change) => {
        if (change.job.state === 'pending') service.scheduler.jobScheduled(change.job.dueAt);
      });
      feed?.onResync(armForNextDue);
      const poll = setInterval(armForNextDue, DUE_POLL_MS);
      poll.unref();
      app.addHook('preClose', async () => clearInterval(poll));
    },
  };
}
