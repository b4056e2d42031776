/**
 * Applies one queue message as a worker's report — the same operation as `POST
 * /v1/jobs/{id}/reports` (JobService.report, jobs/transition.ts), so every waiter, stream,
 * webhook and email hears of it. Decides nothing of a job's life itself: it checks the message at
 * the boundary, finds (or, by `externalId`, creates) the job, and names what happened. A store
 * that fails throws: the source then leaves the message unacknowledged, to be delivered again.
 */
import { JOB_ID_PATTERN } from '../jobs/job-id.js';
import type { JobService, NewJob } from '../jobs/job-service.js';
import type { Report } from '../jobs/transition.js';
import { BatchCommitError } from '../store/job-store.js';
import { parseIngestMessage, type DeadLetterReason, type IngestMessage } from './ingest-message.js';

/** External ids resolved to job ids kept in memory: a job's id never changes, so a hit saves the store's claim. */
const EXTERNAL_IDS_CACHED = 50_000;

/** What one message did. */
export type IngestResult =
  | { kind: 'applied'; jobId: string; messageId: string }
  | { kind: 'duplicate'; jobId: string; messageId: string }
  /** Acknowledged, changed nothing: `late` after the job's end (or cancel), `stale` older than the job's last report. */
  | { kind: 'ignored'; why: 'late' | 'stale'; jobId: string; messageId: string }
  | { kind: 'dead-letter'; reason: DeadLetterReason; detail: string; messageId?: string | undefined };

/** What the applier works with. */
export interface IngestApplierOptions {
  service: JobService;
  /** Largest result, bytes of JSON (`--max-result-bytes`, as for HTTP reports). */
  maxResultBytes: number;
  /** `--retention` in seconds: a message older than this may name a deleted job, and never re-creates it. */
  retentionSeconds: number;
  /** Why a job's `callbackUrl` is refused (private target, bad scheme), or nothing (the create route's check). */
  refuseCallbackUrl?: ((url: string) => Promise<string | undefined>) | undefined;
}

/** Turns messages into reports. One per server; sources share it. */
export class IngestApplier {
  private readonly externalIds = new Map<string, string>();

  constructor(private readonly options: IngestApplierOptions) {}

  /**
   * Applies `bodies` in order, as one group commit where the store has one; each result is known
   * committed once this resolves. A store failure stops the batch: the results so far (committed)
   * come back with the error, so the source acknowledges those and leaves the rest.
   */
  async applyBatch(bodies: readonly (Buffer | string)[], tenants: ReadonlySet<string>): Promise<{ results: IngestResult[]; error?: unknown }> {
    const results: IngestResult[] = [];
    try {
      await this.options.service.batch(async () => {
        for (const body of bodies) results.push(await this.apply(body, tenants));
      });
      return { results };
    } catch (error) {
      // A failed commit stored none of them.
      return { results: error instanceof BatchCommitError ? [] : results, error };
    }
  }

  /** Applies `body` for a source bound to `tenants`. */
  async apply(body: Buffer | string, tenants: ReadonlySet<string>): Promise<IngestResult> {
    const parsed = parseIngestMessage(body, this.options.maxResultBytes);
    if (!parsed.ok) return { kind: 'dead-letter', reason: parsed.reason, detail: parsed.detail, messageId: parsed.messageId };
    const message = parsed.message;
    const { messageId, tenant } = message;
    if (!tenants.has(tenant)) return deadLetter('wrong_tenant', `this source may not write tenant ${JSON.stringify(tenant)}`, messageId);
    const now = this.options.service.now();
    // Its job may be gone already: a message this old must neither find a deleted job's successor nor re-create it.
    if (message.at < now - this.options.retentionSeconds * 1000) {
      return deadLetter('job_removed', `the message is older than the retention (${this.options.retentionSeconds} s): its job may have been deleted, and is never re-created`, messageId);
    }
    let jobId: string;
    let cacheKey: string | undefined;
    if (message.jobId !== undefined) {
      jobId = message.jobId;
    } else {
      cacheKey = `${tenant}\u0000${message.externalId!}`;
      const known = this.externalIds.get(cacheKey);
      if (known !== undefined) jobId = known;
      else {
        const input = await this.newJob(message);
        if (typeof input === 'string') return deadLetter('invalid_message', input, messageId);
        jobId = (await this.options.service.createForExternalId(tenant, message.externalId!, input)).job.id;
        this.remember(cacheKey, jobId);
      }
    }
    const result = await this.options.service.report(jobId, toReport(message), tenant);
    switch (result.kind) {
      case 'missing':
        if (cacheKey !== undefined) {
          this.externalIds.delete(cacheKey);
          return deadLetter('job_removed', `the job of externalId ${JSON.stringify(message.externalId)} was deleted (retention)`, messageId);
        }
        return removedLongAgo(jobId, now, this.options.retentionSeconds)
          ? deadLetter('job_removed', `job ${jobId} was created before the retention and is gone`, messageId)
          : deadLetter('unknown_job', `tenant ${JSON.stringify(tenant)} has no job ${jobId}`, messageId);
      case 'simulated':
        return deadLetter('simulated_job', `job ${jobId} is a simulated timer: only the simulator ends it`, messageId);
      case 'applied':
        return { kind: 'applied', jobId, messageId };
      case 'duplicate':
      case 'unchanged':
        return { kind: 'duplicate', jobId, messageId };
      case 'stale':
        return { kind: 'ignored', why: 'stale', jobId, messageId };
      case 'finished':
      case 'canceled':
        return { kind: 'ignored', why: 'late', jobId, messageId };
    }
  }

  /** The create input of a message's `job`, or why it is refused. */
  private async newJob(message: IngestMessage): Promise<NewJob | string> {
    const input: NewJob = { ...message.job };
    if (input.callbackUrl !== undefined && this.options.refuseCallbackUrl) {
      const refused = await this.options.refuseCallbackUrl(input.callbackUrl);
      if (refused !== undefined) return `job.callbackUrl is refused: ${refused}`;
    }
    return input;
  }

  private remember(key: string, jobId: string): void {
    if (this.externalIds.size >= EXTERNAL_IDS_CACHED) this.externalIds.delete(this.externalIds.keys().next().value!);
    this.externalIds.set(key, jobId);
  }
}

/** The report a message stands for. */
function toReport(message: IngestMessage): Report {
  const report: Report = { event: message.event, at: message.at, messageId: message.messageId };
  if (message.seq !== undefined) report.seq = message.seq;
  if (message.progress !== undefined) report.progress = message.progress;
  if (message.message !== undefined) report.message = message.message;
  if (message.etaSeconds !== undefined) report.etaSeconds = message.etaSeconds;
  if (message.result !== undefined) report.result = message.result;
  if (message.error !== undefined) report.error = { code: message.error.code, message: message.error.message };
  return report;
}

function deadLetter(reason: DeadLetterReason, detail: string, messageId: string): IngestResult {
  return { kind: 'dead-letter', reason, detail, messageId };
}

/** True when job id `id` (a ULID: its first 10 characters are its creation time) is older than the retention. */
function removedLongAgo(id: string, now: number, retentionSeconds: number): boolean {
  if (!JOB_ID_PATTERN.test(id)) return false;
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let created = 0;
  for (const char of id.slice(4, 14)) created = created * 32 + alphabet.indexOf(char);
  return created < now - retentionSeconds * 1000;
}
