/**
 * The page's calls to the jobs API. Deliberately not `JobwaitClient`: a page should answer a
 * click at once and show the server's reason, not retry for minutes behind a disabled button,
 * and `JobwaitClient` alone weighs 6.6 KB gzipped, more than this page's whole script.
 * URLs are relative to the page, so the dashboard also works behind a proxy that mounts the
 * server under a path.
 */
import type { CreateJobInput, Job, JobPage, JobStatus } from '@jobwait/client';
import { isJob } from '@jobwait/client/internal';
import { scopeParams, type JobScope } from './job-scope.js';

/** A failed call: `status` 0 when the server could not be reached. */
export class ApiError extends Error {
  /** HTTP status, or 0 for a network failure. */
  readonly status: number;
  /** The server's stable `code` from its problem+json body, when it sent one. */
  readonly code: string | undefined;

  constructor(status: number, code: string | undefined, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** True when the server asks for (another) API key. */
export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}

const KEY_STORAGE = 'jobwait.apiKey';

/** The API key saved in this browser, if any (storage may be disabled: then there is none). */
export function loadApiKey(): string | undefined {
  try {
    return localStorage.getItem(KEY_STORAGE) || undefined;
  } catch {
    return undefined;
  }
}

/** Saves `key`, or forgets the saved one when undefined. Returns false when storage is unavailable. */
export function storeApiKey(key: string | undefined): boolean {
  try {
    if (key === undefined) localStorage.removeItem(KEY_STORAGE);
    else localStorage.setItem(KEY_STORAGE, key);
    return true;
  } catch {
    return false;
  }
}

/** Headers that carry `key`. */
export function authHeaders(key: string | undefined): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Absolute URL of an API path, relative to the page. */
export function apiUrl(path: string): string {
  return new URL(path, document.baseURI).href;
}

/** Calls the API; resolves with the decoded body or rejects with an {@link ApiError}. */
async function request(method: 'GET' | 'POST' | 'DELETE', path: string, key: string | undefined, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(key) };
  const init: RequestInit = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response: Response;
  let text: string;
  try {
    response = await fetch(apiUrl(path), init);
    text = await response.text();
  } catch {
    throw new ApiError(0, undefined, 'The server cannot be reached. Check your connection and try again.');
  }
  let decoded: unknown;
  try {
    decoded = text === '' ? undefined : JSON.parse(text);
  } catch {
    decoded = undefined;
  }
  if (!response.ok) {
    const problem = (typeof decoded === 'object' && decoded !== null ? decoded : {}) as Record<string, unknown>;
    const reason = [problem.detail, problem.error, problem.title].find((v): v is string => typeof v === 'string' && v !== '');
    const code = typeof problem.code === 'string' ? problem.code : undefined;
    throw new ApiError(response.status, code, reason ?? `The server answered ${response.status}.`);
  }
  return decoded;
}

function expectJob(value: unknown): Job {
  if (!isJob(value)) throw new ApiError(502, undefined, 'The server sent something that is not a job.');
  return value;
}

/** `POST /v1/jobs`. */
export async function createJob(input: CreateJobInput, key: string | undefined): Promise<Job> {
  return expectJob(await request('POST', 'v1/jobs', key, input));
}

/** `GET /v1/jobs`: one page, newest first. */
export async function listJobs(
  query: { status?: JobStatus | undefined; scope?: JobScope | undefined; cursor?: string | undefined; limit: number },
  key: string | undefined,
): Promise<JobPage> {
  const params = new URLSearchParams({ limit: String(query.limit), ...scopeParams(query.scope) });
  if (query.status) params.set('status', query.status);
  if (query.cursor) params.set('cursor', query.cursor);
  const page = (await request('GET', `v1/jobs?${params}`, key)) as Partial<JobPage> | undefined;
  if (!page || !Array.isArray(page.jobs)) throw new ApiError(502, undefined, 'The server sent a job list without jobs.');
  return { jobs: page.jobs.filter(isJob), ...(typeof page.nextCursor === 'string' ? { nextCursor: page.nextCursor } : {}) };
}

/** `DELETE /v1/jobs/{id}`. */
export async function cancelJob(id: string, key: string | undefined): Promise<Job> {
  return expectJob(await request('DELETE', `v1/jobs/${encodeURIComponent(id)}`, key));
}

/** `GET /v1/jobs/{id}`, read at once (no long-poll). */
export async function getJob(id: string, key: string | undefined): Promise<Job> {
  return expectJob(await request('GET', `v1/jobs/${encodeURIComponent(id)}`, key));
}

/** Jobs by status, as the server counts them. */
export interface JobCounts {
  counts: Record<JobStatus, number>;
  total: number;
  /** With a scope: the share of its jobs that have ended. */
  progress?: number;
  /** When the server counted (ISO date). */
  at: string;
}

const STATUSES: readonly JobStatus[] = ['pending', 'completed', 'error', 'canceled'];

/**
 * `GET /v1/jobs/counts`: this key's jobs by status, counted by the server whatever their number;
 * with a scope, the jobs of that batch or tag only.
 */
export async function getJobCounts(key: string | undefined, scope?: JobScope): Promise<JobCounts> {
  const params = new URLSearchParams(scopeParams(scope)).toString();
  const body = (await request('GET', params === '' ? 'v1/jobs/counts' : `v1/jobs/counts?${params}`, key)) as Partial<JobCounts> | undefined;
  const counts = body?.counts as Partial<Record<JobStatus, unknown>> | undefined;
  if (!body || typeof body.total !== 'number' || !counts || !STATUSES.every((status) => typeof counts[status] === 'number')) {
    throw new ApiError(502, undefined, 'The server sent counts in a shape this page does not know.');
  }
  return {
    counts: body.counts as Record<JobStatus, number>,
    total: body.total,
    ...(typeof body.progress === 'number' ? { progress: body.progress } : {}),
    at: typeof body.at === 'string' ? body.at : '',
  };
}
