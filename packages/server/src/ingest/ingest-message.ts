/**
 * A queue message (schemas/ingest-message.schema.json, the one description publishers read),
 * parsed and checked at the boundary: its bytes are JSON, fit the schema, fit the size limits and
 * carry a real time. What fails is dead-lettered with a {@link DeadLetterReason}; what passes is
 * an {@link IngestMessage} the applier trusts.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import type { NewJob } from '../jobs/job-service.js';
import type { JobError, ReportEvent } from '../jobs/transition.js';
import { reportBodyLimit } from '../routes/report-schemas.js';

/** Where the schema is: `schemas/` beside `src/` and `dist/` (both two levels below the package). */
const SCHEMA_URL = new URL('../../schemas/ingest-message.schema.json', import.meta.url);

/** Why a message was dead-lettered: stable codes, in the dead letter and in `jobwait_ingest_messages_total{reason}`. */
export type DeadLetterReason =
  | 'malformed_json'
  | 'invalid_message'
  | 'too_large'
  | 'result_too_large'
  | 'wrong_tenant'
  | 'unknown_job'
  | 'job_removed'
  | 'simulated_job';

/** A message that passed {@link parseIngestMessage}: the schema's members, `at` in ms since the epoch. */
export interface IngestMessage {
  messageId: string;
  tenant: string;
  jobId?: string | undefined;
  externalId?: string | undefined;
  event: ReportEvent;
  at: number;
  seq?: number | undefined;
  progress?: number | undefined;
  message?: string | undefined;
  etaSeconds?: number | undefined;
  result?: unknown;
  error?: JobError | undefined;
  /** How to create the job of an `externalId` seen for the first time. */
  job?: Pick<NewJob, 'heartbeatTimeoutSeconds' | 'timeoutSeconds' | 'webhookEvents' | 'callbackUrl' | 'notifyEmail' | 'metadata'> | undefined;
}

/** What {@link parseIngestMessage} found: the message, or why it cannot be applied (and the message id, when it had one). */
export type ParsedMessage = { ok: true; message: IngestMessage } | { ok: false; reason: DeadLetterReason; detail: string; messageId?: string | undefined };

let validator: ValidateFunction | undefined;

/** The schema file, compiled once per process. */
function validate(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({ allErrors: false, strict: false });
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object);
  }
  return validator;
}

/** The schema, as published (for docs and tests). */
export function ingestMessageSchema(): object {
  return JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object;
}

/**
 * Parses message bytes. A message larger than a report body may be (`--max-result-bytes` plus
 * 16 KiB) is `too_large` before it is parsed; a result over `--max-result-bytes` is `result_too_large`.
 */
export function parseIngestMessage(body: Buffer | string, maxResultBytes: number): ParsedMessage {
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (bytes > reportBodyLimit(maxResultBytes)) return { ok: false, reason: 'too_large', detail: `the message is ${bytes} bytes; at most ${reportBodyLimit(maxResultBytes)} are taken` };
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: 'malformed_json', detail: (error as Error).message };
  }
  const messageId = value && typeof value === 'object' && typeof (value as { messageId?: unknown }).messageId === 'string' ? (value as { messageId: string }).messageId : undefined;
  const check = validate();
  if (!check(value)) {
    const first = check.errors?.[0];
    const where = first?.instancePath === '' || first?.instancePath === undefined ? 'the message' : first.instancePath;
    return { ok: false, reason: 'invalid_message', detail: `${where} ${first?.message ?? 'does not fit the schema'} (schemas/ingest-message.schema.json)`, messageId };
  }
  const raw = value as Omit<IngestMessage, 'at'> & { at: string };
  const at = Date.parse(raw.at);
  if (!Number.isFinite(at)) return { ok: false, reason: 'invalid_message', detail: `at is not a real date-time: ${JSON.stringify(raw.at)}`, messageId };
  if (raw.result !== undefined) {
    const resultBytes = Buffer.byteLength(JSON.stringify(raw.result));
    if (resultBytes > maxResultBytes) return { ok: false, reason: 'result_too_large', detail: `the result is ${resultBytes} bytes of JSON; at most ${maxResultBytes} (--max-result-bytes)`, messageId };
  }
  return { ok: true, message: { ...raw, at } };
}
