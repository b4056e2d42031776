/**
 * Issue 19 in a real browser: examples/browser-app's page, served by its backend from
 * http://localhost:<port>, watches its job on jobwait at http://127.0.0.1:<port> (another origin)
 * with only a read token. The same token is refused for another job, for create and cancel, and
 * once expired; the page's getToken callback then brings a fresh one and the stream resumes
 * without missing the final event. A page from an origin jobwait does not allow is blocked by the
 * browser. Debian's Chromium through playwright-core.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildServer, generateApiKey } from '@jobwait/server';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { startBackend, type Backend } from '../examples/browser-app/backend.js';
import { launchChromium, watchForErrors } from './helpers/dashboard-browser.js';

interface PageState {
  states: string[];
  tokenRefreshes: number;
  jobId?: string;
  jobwaitUrl?: string;
  token?: string;
  done: boolean;
}

/** What `fetch` from the page gave: a status and the problem's code, or the browser's refusal. */
type Outcome = { status: number; code?: string } | { blocked: string };

/** Runs `fetch(url, init)` in `page` with the token as a Bearer header. */
function fetchFromPage(page: Page, url: string, token: string, method = 'GET', body?: string): Promise<Outcome> {
  return page.evaluate(
    async ({ url, token, method, body }) => {
      try {
        const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) } };
        if (body) init.body = body;
        const response = await fetch(url, init);
        const text = await response.text();
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as { code?: string }).code;
        } catch {
          code = undefined;
        }
        return { status: response.status, ...(code ? { code } : {}) };
      } catch (error) {
        return { blocked: String(error) };
      }
    },
    { url, token, method, body },
  );
}

describe('browser app: a page on another origin watches its job with a read token', { timeout: 120_000 }, () => {
  let browser: Browser;
  let jobwait: FastifyInstance;
  let jobwaitUrl: string;
  let backend: Backend;
  let offset = 0;
  const key = generateApiKey();

  before(async () => {
    browser = await launchChromium();
    backend = await startBackend({ jobwaitUrl: () => jobwaitUrl, apiKey: key.key, tokenTtlSeconds: 60 });
    // The server's clock runs ahead when the test says so: that is how a token expires mid-stream.
    jobwait = await buildServer({ store: 'memory', apiKeys: [key.key], corsOrigin: [backend.origin], rateLimit: 0, logLevel: 'silent' }, { now: () => Date.now() + offset });
    jobwaitUrl = await jobwait.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await browser?.close();
    await backend?.close();
    await jobwait?.close();
  });

  const pageState = (page: Page): Promise<PageState> => page.evaluate(() => (window as unknown as { example: PageState }).example);

  test('watches to completion with only a token; refused elsewhere; resumes after expiry with a fresh token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchForErrors(page, [/Failed to load resource/, /Access-Control-Allow-Origin|CORS/i]);
    const jobwaitRequests: { url: string; authorization?: string }[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(jobwaitUrl)) jobwaitRequests.push({ url: request.url(), ...(request.headers().authorization ? { authorization: request.headers().authorization } : {}) });
    });
    // Long enough that the checks below are done before it ends: the token must expire while the job runs.
    await page.goto(`${backend.origin}/?seconds=10`);
    await page.click('#start');
    await page.waitForFunction(() => (window as unknown as { example: PageState }).example.states.length > 0, undefined, { timeout: 10_000 });
    const first = await pageState(page);
    assert.equal(first.states[0], 'pending@1');
    assert.match((await page.textContent('#status')) ?? '', /^Encoding… \d+%$/);
    const token = first.token!;
    const jobId = first.jobId!;
    assert.match(token, /^jwb_/);

    // The same token, from the same page: another job is 403; create and cancel never leave the browser (no CORS for them).
    const other = await fetch(`${jobwaitUrl}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' }, body: '{"duration":60}' });
    const otherId = ((await other.json()) as { id: string }).id;
    assert.deepEqual(await fetchFromPage(page, `${jobwaitUrl}/v1/jobs/${otherId}`, token), { status: 403, code: 'JOBWAIT_ERR_TOKEN_SCOPE' });
    assert.ok('blocked' in (await fetchFromPage(page, `${jobwaitUrl}/v1/jobs`, token, 'POST', '{"duration":1}')), 'create is blocked by the browser');
    assert.ok('blocked' in (await fetchFromPage(page, `${jobwaitUrl}/v1/jobs/${jobId}`, token, 'DELETE')), 'cancel is blocked by the browser');
    // And had the browser sent them, the server refuses them anyway.
    assert.equal((await fetch(`${jobwaitUrl}/v1/jobs/${jobId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status, 403);
    assert.equal((await fetch(`${jobwaitUrl}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"duration":1}' })).status, 403);

    // The token expires (the server's clock jumps past its end) while the page's stream is open.
    offset += 120_000;
    assert.deepEqual(await fetchFromPage(page, `${jobwaitUrl}/v1/jobs/${jobId}`, token), { status: 401, code: 'JOBWAIT_ERR_TOKEN_EXPIRED' });
    await page.waitForFunction(() => (window as unknown as { example: PageState }).example.done, undefined, { timeout: 30_000 });
    const final = await pageState(page);
    assert.match(final.states.at(-1)!, /^completed@\d+$/, `states seen: ${final.states.join(', ')}`);
    assert.equal(final.tokenRefreshes, 1, 'one fresh token from the callback');
    assert.notEqual(final.token, token);
    assert.equal(await page.getAttribute('#status', 'data-status'), 'completed');
    assert.match((await page.textContent('#notice')) ?? '', /Your video is ready/);
    // The stream resumed after its last event: the reconnect with the fresh token carried Last-Event-ID.
    assert.ok(jobwaitRequests.every((r) => !r.url.includes('jwb_')), 'the token never travels in a URL');
    assert.ok(jobwaitRequests.some((r) => r.authorization === `Bearer ${final.token}`), 'the fresh token was used');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('a page from an origin jobwait does not allow is blocked by the browser', async () => {
    const created = await fetch(`${jobwaitUrl}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' }, body: '{"duration":60}' });
    const id = ((await created.json()) as { id: string }).id;
    const minted = await fetch(`${jobwaitUrl}/v1/read-tokens`, { method: 'POST', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ jobs: [id] }) });
    const { token } = (await minted.json()) as { token: string };
    const context = await browser.newContext();
    const page = await context.newPage();
    // The same backend, reached as 127.0.0.1: another origin than the allowed http://localhost:<port>.
    await page.goto(`http://127.0.0.1:${backend.port}/`);
    const outcome = await fetchFromPage(page, `${jobwaitUrl}/v1/jobs/${id}`, token);
    assert.ok('blocked' in outcome, `the browser let the page read: ${JSON.stringify(outcome)}`);
    // The token itself is good: only the origin is refused.
    assert.equal((await fetch(`${jobwaitUrl}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    await context.close();
  });
});
