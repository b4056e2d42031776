/**
 * What keeps each instance's due scheduler in step with the rest of a Redis
 * cluster. Every instance runs a scheduler armed by its own creates; for jobs
 * created elsewhere these hints arm it: their `created` change on the feed,
 * the earliest due time after a feed resync, and a cheap poll of the earliest
 * due time (the safety net for a lost message). Several instances may then
 * fire for the same due time: the settle is one Lua claim, so exactly one of
 * them settles (and publishes) each job; the others find nothing left.
 */
import type { Unsubscribe } from '../../feed/change-feed.js';
import { deadlineAt } from '../../jobs/transition.js';
import type { RedisFeed } from './redis-feed.js';
import type { RedisJobStore } from './redis-job-store.js';

/** How often an instance looks at the cluster's earliest due time, in case a `created` message was lost. */
const DUE_POLL_MS = 1000;

/** Calls `listener` with due times of jobs other instances created, until the returned function is called. */
export function watchDueTimes(jobs: RedisJobStore, feed: RedisFeed, listener: (dueAt: number) => void): Unsubscribe {
  const armForNextDue = (): void => {
    jobs.nextDueAt().then(
      (next) => {
        if (next !== undefined) listener(next);
      },
      // The scheduler's own tick reports store failures; this is only a hint.
      () => {},
    );
  };
  const offRemote = feed.onRemoteChange((change) => {
    const deadline = deadlineAt(change.job);
    if (deadline !== undefined) listener(deadline);
  });
  const offResync = feed.onResync(armForNextDue);
  const poll = setInterval(armForNextDue, DUE_POLL_MS);
  poll.unref();
  return () => {
    clearInterval(poll);
    offRemote();
    offResync();
  };
}
