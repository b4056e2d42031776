/**
 * The dashboard in a real browser (issue 6): Debian's Chromium, driven by playwright-core, against
 * the real server on port 0. A job started from the form turns completed without a reload, a
 * long one is canceled from its row, nothing reaches the console, and a screenshot is saved to a
 * temp folder (a test run never rewrites a tracked file: `npm run docs:screenshot` makes
 * docs/dashboard.png, of a busy server). With API keys on, the page asks for a key, keeps it, and sends it as a Bearer header.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { generateApiKey } from '@jobwait/server';
import Fastify from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { acceptsGzip, dashboardRoutes } from '../packages/server/src/routes/dashboard-routes.js';
import { ensureDashboardBuilt, useDashboardBrowser, watchForErrors } from './helpers/dashboard-browser.js';
import { startProxy } from './helpers/http-proxy.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

/** Where the screenshot goes: a temp folder, for a person to look at after a run. */
const SCREENSHOT_TEMP_DIR = mkdtempSync(join(tmpdir(), 'jobwait-screenshot-'));
const SCREENSHOT = join(SCREENSHOT_TEMP_DIR, 'dashboard.png');

/**
 * Records desktop notifications on their way to the real constructor. A string, not a function:
 * tsx would wrap a named class in helpers that do not exist in the page.
 */
const RECORD_NOTIFICATIONS = `{
  const Original = window.Notification;
  const shown = [];
  class Recording extends Original {
    constructor(title, options) {
      shown.push(title + ': ' + (options && options.body));
      super(title, options);
    }
  }
  Object.defineProperty(Recording, 'permission', { get: () => Original.permission });
  window.Notification = Recording;
  window.shownNotifications = shown;
}`;

const row = (page: Page, id: string) => page.locator(`li.job[data-id="${id}"]`);

/** Waits until the row of job `id` shows `status`. */
async function waitForStatus(page: Page, id: string, status: string, timeout = 10_000): Promise<void> {
  await page.waitForSelector(`li.job[data-id="${id}"][data-status="${status}"]`, { timeout });
}

/** Id of the newest row that is not one of `known`. */
async function newJobId(page: Page, known: readonly string[]): Promise<string> {
  const handle = await page.waitForFunction(
    (ids) => [...document.querySelectorAll<HTMLLIElement>('li.job')].map((li) => li.dataset.id).find((id) => id !== undefined && !ids.includes(id)),
    known,
    { timeout: 5000 },
  );
  return (await handle.jsonValue()) as string;
}

async function jobStatus(server: TestServer, id: string, key?: string): Promise<string> {
  const response = await fetch(`${server.url}/v1/jobs/${id}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return ((await response.json()) as { status: string }).status;
}

describe('dashboard in Chromium', { timeout: 120_000 }, () => {
  const browser = useDashboardBrowser();

  after(() => rmSync(SCREENSHOT_TEMP_DIR, { recursive: true, force: true }));

  test('starts a job that turns completed without a reload, cancels another, and logs no errors', async () => {
    const server = await startTestServer();
    let context: BrowserContext | undefined;
    try {
      context = await browser().newContext({ viewport: { width: 1280, height: 860 } });
      await context.grantPermissions(['notifications'], { origin: server.url });
      await context.addInitScript(RECORD_NOTIFICATIONS);
      const page = await context.newPage();
      const errors = watchForErrors(page);

      const response = await page.goto(`${server.url}/`);
      assert.equal(response?.status(), 200);
      const headers = response.headers();
      assert.match(headers['content-security-policy'] ?? '', /default-src 'self'/);
      assert.equal(headers['x-content-type-options'], 'nosniff');
      assert.equal(headers['referrer-policy'], 'no-referrer');
      assert.equal(headers['x-frame-options'], 'DENY');
      await page.waitForSelector('#connection[data-state="live"]');
      await page.waitForSelector('#empty:has-text("No jobs yet")');
      // Survives only if the page is never reloaded.
      await page.evaluate(() => Object.assign(window, { noReloadMarker: true }));

      // A 2 s job from the form.
      await page.getByLabel('Duration').fill('2');
      await page.getByLabel('Outcome').selectOption('completed');
      await page.getByRole('button', { name: 'Start job' }).click();
      const quick = await newJobId(page, []);
      assert.equal(await row(page, quick).getAttribute('data-status'), 'pending');
      assert.equal(await row(page, quick).locator('.badge').textContent(), 'Pending');
      // The bar moves between events: only "created" and "completed" come from the server.
      await page.waitForFunction(
        (id) => {
          const li = document.querySelector<HTMLLIElement>(`li.job[data-id="${id}"]`);
          const bar = li?.querySelector('progress');
          return li?.dataset.status === 'pending' && bar !== null && bar !== undefined && bar.value > 0.2 && bar.value < 1;
        },
        quick,
        { timeout: 5000 },
      );
      await waitForStatus(page, quick, 'completed');
      assert.equal(await row(page, quick).locator('.badge').textContent(), 'Completed');
      assert.equal(await row(page, quick).locator('progress').evaluate((bar: HTMLProgressElement) => bar.value), 1);
      assert.equal(await row(page, quick).getByRole('button', { name: /Cancel/ }).isVisible(), false);
      await page.locator('#toasts .toast-success', { hasText: 'completed' }).waitFor();
      assert.deepEqual(await page.evaluate(() => (window as { shownNotifications?: string[] }).shownNotifications), [`Job completed: ${quick} completed after 2 s.`]);

      // A long job, started from the keyboard, canceled from its row.
      await page.getByLabel('Duration').fill('600');
      await page.getByLabel('Outcome').selectOption('');
      await page.getByLabel('Duration').press('Enter');
      const long = await newJobId(page, [quick]);
      await waitForStatus(page, long, 'pending');
      await page.getByRole('button', { name: `Cancel job ${long}` }).click();
      await waitForStatus(page, long, 'canceled');
      assert.equal(await row(page, long).locator('.badge').textContent(), 'Canceled');
      assert.equal(await jobStatus(server, long), 'canceled');

      // Filter by status, then back to all.
      await page.getByRole('radio', { name: 'Canceled' }).check();
      await page.waitForFunction(() => document.querySelectorAll('li.job').length === 1);
      assert.equal(await page.locator('li.job').getAttribute('data-id'), long);
      await page.getByRole('radio', { name: 'Completed' }).check();
      await page.waitForFunction((id) => document.querySelectorAll('li.job').length === 1 && document.querySelector(`li.job[data-id="${id}"]`) !== null, quick);
      await page.getByRole('radio', { name: 'All' }).check();
      await page.waitForFunction(() => document.querySelectorAll('li.job').length === 2);

      // Jobs started elsewhere (here: the API) arrive through the event stream.
      const made: string[] = [];
      for (const body of [{ duration: 1, outcome: 'error' }, { duration: 40 }, { duration: 120 }]) {
        const created = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        assert.equal(created.status, 201);
        made.push(((await created.json()) as { id: string }).id);
      }
      const [failing, medium, slow] = made as [string, string, string];
      await waitForStatus(page, medium, 'pending');
      await waitForStatus(page, slow, 'pending');
      await waitForStatus(page, failing, 'error');
      await page.locator('#toasts .toast-error', { hasText: 'failed' }).waitFor();
      // The server's count of pending jobs, read again after the changes.
      await page.locator('#running-count', { hasText: /^2 running$/ }).waitFor();
      assert.equal(await page.evaluate(() => (window as { noReloadMarker?: boolean }).noReloadMarker), true);

      // Toasts can be dismissed (the older ones may also expire on their own meanwhile).
      const toasts = page.locator('#toasts .toast');
      const failedToast = page.locator('#toasts .toast-error', { hasText: 'failed' });
      await failedToast.getByRole('button', { name: 'Dismiss notification' }).click();
      await failedToast.waitFor({ state: 'detached' });
      while ((await toasts.count()) > 0) {
        await toasts
          .first()
          .getByRole('button', { name: 'Dismiss notification' })
          .click({ timeout: 2000 })
          .catch(() => undefined);
      }

      // One more that completes while the bars of the pending jobs move on, then the picture the README shows.
      const last = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ duration: 2.5, outcome: 'completed' }) });
      const lastId = ((await last.json()) as { id: string }).id;
      await waitForStatus(page, lastId, 'completed');
      await page.locator('#toasts .toast-success', { hasText: 'completed' }).waitFor();
      await page.locator('#duration').blur();
      await page.mouse.move(0, 0);
      await page.screenshot({ path: SCREENSHOT });
      assert.ok(statSync(SCREENSHOT).size > 10_000, `screenshot ${SCREENSHOT} written`);

      assert.deepEqual(errors, []);
    } finally {
      await context?.close();
      await server.close();
    }
  });

  test("shows a reported job's progress and message as its worker reports, its result as a link only when it is an http(s) URL, and its error", async () => {
    const server = await startTestServer({ store: 'memory', rateLimit: 0 });
    let context: BrowserContext | undefined;
    try {
      context = await browser().newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      const errors = watchForErrors(page);
      await page.goto(`${server.url}/`);
      await page.waitForSelector('#connection[data-state="live"]');
      const create = async (): Promise<{ id: string; reportToken: string }> =>
        (await (await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { id: string; reportToken: string };
      const report = async (job: { id: string; reportToken: string }, body: object): Promise<void> => {
        const res = await fetch(`${server.url}/v1/jobs/${job.id}/reports`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${job.reportToken}` }, body: JSON.stringify(body) });
        assert.equal(res.status, 200);
      };
      const linked = await create();
      const unsafe = await create();
      const failed = await create();
      await waitForStatus(page, failed.id, 'pending');
      assert.match((await row(page, linked.id).locator('.job-state').textContent()) ?? '', /Waiting for a worker/);

      await report(linked, { event: 'progress', progress: 0.42, message: 'transcribing talk.mp4' });
      await page.waitForFunction((id) => /42 % · transcribing talk\.mp4/.test(document.querySelector(`li.job[data-id="${id}"] .job-state`)?.textContent ?? ''), linked.id);
      assert.equal(await row(page, linked.id).locator('progress').evaluate((bar) => (bar as HTMLProgressElement).value), 0.42);

      await report(linked, { event: 'completed', result: { url: 'https://cdn.example/talk.fr.mp4', language: 'fr' } });
      await report(unsafe, { event: 'completed', result: 'javascript:alert(document.domain)' });
      await report(failed, { event: 'failed', error: { code: 'TRANSCODE', message: 'codec not supported' } });
      await waitForStatus(page, linked.id, 'completed');
      await waitForStatus(page, unsafe.id, 'completed');
      await waitForStatus(page, failed.id, 'error');
      const link = row(page, linked.id).locator('.job-result a');
      assert.equal(await link.getAttribute('href'), 'https://cdn.example/talk.fr.mp4');
      assert.equal(await link.textContent(), 'https://cdn.example/talk.fr.mp4');
      assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
      assert.equal(await row(page, unsafe.id).locator('.job-result a').count(), 0, 'a javascript: URL is no link');
      assert.equal(await row(page, unsafe.id).locator('.job-result').textContent(), 'Result: javascript:alert(document.domain)');
      assert.match((await row(page, failed.id).locator('.job-state').textContent()) ?? '', /codec not supported \(TRANSCODE\)/);
      assert.equal(await row(page, failed.id).locator('.job-result').isHidden(), true);
      assert.deepEqual(errors, []);
    } finally {
      await context?.close();
      await server.close();
    }
  });

  test('asks for an API key on a 401, keeps it, and sends it as a Bearer header', async () => {
    const key = generateApiKey();
    const server = await startTestServer({ apiKeys: [key.key] });
    let context: BrowserContext | undefined;
    try {
      context = await browser().newContext();
      const page = await context.newPage();
      // Chromium logs every 401 fetch as a failed resource; those are this test's point.
      const errors = watchForErrors(page, [/status of 401/]);
      const authorizations: string[] = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname.startsWith('/v1/')) authorizations.push(request.headers().authorization ?? '');
      });

      await page.goto(`${server.url}/`);
      const dialog = page.getByRole('dialog', { name: 'API key needed' });
      await dialog.waitFor();
      assert.equal(await page.locator('#connection').getAttribute('data-state'), 'unauthorized');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'key-input');

      // An empty key is refused in the page.
      await dialog.getByRole('button', { name: 'Save key' }).click();
      assert.equal(await page.locator('#key-error').textContent(), 'Enter the API key.');

      // A wrong key: the server refuses it and the page asks again, saying why.
      await page.getByLabel('API key', { exact: true }).fill(`jw_${key.id}_${'A'.repeat(43)}`);
      await dialog.getByRole('button', { name: 'Save key' }).click();
      await page.locator('#key-error', { hasText: 'did not accept' }).waitFor();
      assert.equal(await dialog.isVisible(), true);

      await page.getByLabel('API key', { exact: true }).fill(key.key);
      await page.getByLabel('API key', { exact: true }).press('Enter');
      await page.waitForSelector('#connection[data-state="live"]');
      assert.equal(await dialog.isVisible(), false);
      assert.equal(await page.evaluate(() => localStorage.getItem('jobwait.apiKey')), key.key);

      await page.getByLabel('Duration').fill('1');
      await page.getByRole('button', { name: 'Start job' }).click();
      const id = await newJobId(page, []);
      await waitForStatus(page, id, 'completed');
      assert.equal(await jobStatus(server, id, key.key), 'completed');

      // After a reload the stored key is used at once: no dialog, no 401.
      const before = authorizations.length;
      await page.reload();
      await page.waitForSelector('#connection[data-state="live"]');
      await page.waitForSelector(`li.job[data-id="${id}"][data-status="completed"]`);
      assert.equal(await dialog.isVisible(), false);
      const afterReload = authorizations.slice(before);
      assert.ok(afterReload.length >= 2, 'the stream and the list were requested');
      assert.deepEqual(new Set(afterReload), new Set([`Bearer ${key.key}`]));

      assert.deepEqual(errors, []);
    } finally {
      await context?.close();
      await server.close();
    }
  });

  test('reconnects after the event stream drops, resumes with Last-Event-ID, and reports the job that finished meanwhile', async () => {
    const server = await startTestServer();
    let outage = false;
    const streams = new Set<Socket>();
    const resumedFrom: string[] = [];
    const proxy = await startProxy(server.url, (req) => {
      if (!req.url?.startsWith('/v1/events')) return { kind: 'forward' };
      if (outage) return { kind: 'answer', status: 503, body: '' };
      streams.add(req.socket);
      resumedFrom.push(String(req.headers['last-event-id'] ?? ''));
      return { kind: 'forward' };
    });
    let context: BrowserContext | undefined;
    try {
      context = await browser().newContext();
      const page = await context.newPage();
      // The outage is this test's point: refused reconnections and the cut stream are logged by Chromium.
      const errors = watchForErrors(page, [/status of 503/, /net::ERR_/]);
      await page.goto(`${proxy.url}/`);
      await page.waitForSelector('#connection[data-state="live"]');

      // Started elsewhere, so its row can only come from the stream: once it shows, the page holds an event id.
      const created = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ duration: 1.5, outcome: 'completed' }) });
      const id = ((await created.json()) as { id: string }).id;
      await waitForStatus(page, id, 'pending');

      outage = true;
      for (const socket of streams) socket.destroy();
      await page.waitForSelector('#connection[data-state="reconnecting"]');
      // The job finishes while the page hears nothing: its bar runs out on the local clock alone.
      while ((await jobStatus(server, id)) !== 'completed') await page.waitForTimeout(100);
      await page.waitForSelector(`li.job[data-id="${id}"] .job-state:has-text("Finishing")`);
      assert.equal(await row(page, id).getAttribute('data-status'), 'pending');

      outage = false;
      await page.waitForSelector('#connection[data-state="live"]', { timeout: 20_000 });
      await waitForStatus(page, id, 'completed');
      await page.locator('#toasts .toast-success', { hasText: 'completed' }).waitFor();
      assert.equal(resumedFrom[0], '', 'the first connection starts fresh');
      assert.match(resumedFrom.at(-1) ?? '', /^\d+$/, 'the reconnection sends Last-Event-ID');

      assert.deepEqual(errors, []);
    } finally {
      await context?.close();
      await proxy.close();
      await server.close();
    }
  });
});

describe('dashboard routes', () => {
  test('answer a 503 problem, with the security headers, when the dashboard is not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'jobwait-dashboard-'));
    const app = Fastify({ logger: false });
    await app.register(dashboardRoutes, { distDir: empty });
    try {
      for (const url of ['/', '/assets/app-ABCDEFGH.js']) {
        const answer = await app.inject({ url });
        assert.equal(answer.statusCode, 503, url);
        assert.match(String(answer.headers['content-type']), /^application\/problem\+json/);
        assert.equal(answer.json<{ code: string }>().code, 'JOBWAIT_ERR_UNAVAILABLE');
        assert.match(answer.json<{ detail: string }>().detail, /npm run build/);
        assert.match(String(answer.headers['content-security-policy']), /default-src 'self'/);
        assert.equal(answer.headers['x-frame-options'], 'DENY');
      }
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('serve the built files: hashed assets cached for good, gzip when accepted, nothing outside assets/', async () => {
    ensureDashboardBuilt();
    const server = await startTestServer();
    try {
      const index = await server.app.inject({ url: '/' });
      assert.equal(index.statusCode, 200);
      assert.equal(index.headers['cache-control'], 'no-cache');
      const script = /src="assets\/([^"]+\.js)"/.exec(index.body)?.[1];
      assert.ok(script, 'index.html loads a script from assets/');

      const plain = await server.app.inject({ url: `/assets/${script}` });
      assert.equal(plain.statusCode, 200);
      assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(plain.headers['content-encoding'], undefined);
      const gzipped = await server.app.inject({ url: `/assets/${script}`, headers: { 'accept-encoding': 'br, gzip;q=0.8' } });
      assert.equal(gzipped.headers['content-encoding'], 'gzip');
      assert.ok(gzipped.rawPayload.length < plain.rawPayload.length);

      for (const url of ['/assets/..%2Findex.html', '/assets/.hidden.js', '/assets/missing-ABCDEFGH.js', '/assets/index.html.gz']) {
        const answer = await server.app.inject({ url });
        assert.equal(answer.statusCode, 404, url);
      }
      // The API answers keep their own headers.
      const api = await server.app.inject({ url: '/v1/jobs' });
      assert.equal(api.headers['content-security-policy'], undefined);
    } finally {
      await server.close();
    }
  });

  test('a page load answers 200 for the page and every asset, logs no warning and counts no 5xx', async () => {
    ensureDashboardBuilt();
    const lines: string[] = [];
    const server = await startTestServer({ logLevel: 'debug' }, { logStream: { write: (line: string) => lines.push(line) } });
    try {
      const startUp = lines.length;
      // Over real HTTP, as a browser asks: the page, then what it loads, with and without gzip.
      const page = await fetch(`${server.url}/`);
      assert.equal(page.status, 200);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
      assert.ok(assets.length >= 2, `index.html names its assets: ${html}`);
      for (const asset of assets) {
        for (const encoding of ['identity', 'gzip']) {
          const answer = await fetch(`${server.url}/${asset}`, { headers: { 'accept-encoding': encoding } });
          assert.equal(answer.status, 200, `${asset} (${encoding})`);
          await answer.arrayBuffer();
        }
      }
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      // Counters a route pre-registers at 0 are not answers.
      const counted = metrics.split('\n').filter((l) => l.startsWith('jobwait_http_requests_total{') && !l.endsWith(' 0'));
      assert.ok(counted.some((l) => l.includes('route="/"') && l.includes('status="200"')), counted.join('\n'));
      assert.deepEqual(counted.filter((l) => /status="5\d\d"/.test(l)), []);
      // Fastify's "Reply was already sent" is a warn, the dashboard's own "not built" too.
      const logged = lines.slice(startUp).map((l) => JSON.parse(l) as { level: number; msg?: string });
      assert.deepEqual(logged.filter((l) => l.level >= 40), []);
      assert.ok(!lines.some((l) => /already sent|not built/i.test(l)), lines.join(''));
      assert.ok(logged.length > 0, 'the requests were logged, so the log was read');
    } finally {
      await server.close();
    }
  });

  test('read Accept-Encoding with q-values', () => {
    assert.equal(acceptsGzip(undefined), false);
    assert.equal(acceptsGzip('gzip, deflate, br'), true);
    assert.equal(acceptsGzip('br;q=1, gzip;q=0.5'), true);
    assert.equal(acceptsGzip('gzip;q=0'), false);
    assert.equal(acceptsGzip('*'), true);
    assert.equal(acceptsGzip('*;q=0'), false);
    assert.equal(acceptsGzip('identity'), false);
    assert.equal(acceptsGzip('br, *;q=0.1, gzip;q=0'), false);
  });
});
