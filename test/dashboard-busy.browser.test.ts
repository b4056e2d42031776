/**
 * The dashboard on a busy server, in Debian's Chromium: a burst of jobs leaves the page's DOM
 * bounded and its counts equal to the server's; the list holds still under the pointer, pages
 * back to older jobs, and keeps the jobs one looked up or pinned in a watch list. No timing
 * assertions: every wait is for a state, with a generous timeout.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { useDashboardBrowser, watchForErrors } from './helpers/dashboard-browser.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

/** Rows the live list shows at most (the dashboard's page size). */
const LIVE_ROWS = 50;

interface Counts {
  counts: Record<'pending' | 'completed' | 'error' | 'canceled', number>;
  total: number;
}

async function createJob(server: TestServer, body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(response.status, 201);
  return ((await response.json()) as { id: string }).id;
}

async function serverCounts(server: TestServer): Promise<Counts> {
  const response = await fetch(`${server.url}/v1/jobs/counts`);
  assert.equal(response.status, 200);
  return (await response.json()) as Counts;
}

/** Elements in the whole page, and rows in the live list. */
async function domSize(page: Page): Promise<{ elements: number; rows: number }> {
  return page.evaluate(() => ({ elements: document.getElementsByTagName('*').length, rows: document.querySelectorAll('#job-list li.job').length }));
}

/** Ids of the live list's rows, top to bottom. */
async function liveIds(page: Page): Promise<string[]> {
  return page.$$eval('#job-list li.job', (rows) => rows.map((li) => (li as HTMLLIElement).dataset.id ?? ''));
}

describe('dashboard on a busy server, in Chromium', { timeout: 240_000 }, () => {
  const browser = useDashboardBrowser();

  test('dashboard under a burst of jobs: the DOM stays bounded, counts equal the server\'s once the burst is over, the newest job appears', async () => {
    const server = await startTestServer({ rateLimit: 0 });
    let context: BrowserContext | undefined;
    try {
      context = await browser().newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors = watchForErrors(page);
      await page.goto(`${server.url}/`);
      await page.waitForSelector('#connection[data-state="live"]');
      await page.waitForSelector('#empty:has-text("No jobs yet")');
      const idle = await domSize(page);

      // 1,500 short jobs from 25 parallel API clients; every 7th is canceled at once.
      const JOBS = 1500;
      const created: string[] = [];
      let next = 0;
      const samples: { elements: number; rows: number }[] = [];
      const client = async (): Promise<void> => {
        while (next < JOBS) {
          const n = next++;
          const id = await createJob(server, { duration: 0.3 + (n % 10) * 0.1, outcome: n % 3 === 0 ? 'error' : 'completed' });
          created.push(id);
          if (n % 7 === 0) await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' });
          if (n % 150 === 0) samples.push(await domSize(page));
        }
      };
      await Promise.all(Array.from({ length: 25 }, client));
      samples.push(await domSize(page));

      // Bounded: before issue 22 each job that ever streamed by kept ~9 elements (13,500 here).
      const bound = idle.elements + LIVE_ROWS * 12 + 60;
      for (const sample of samples) {
        assert.ok(sample.rows <= LIVE_ROWS, `at most ${LIVE_ROWS} rows in the live list, saw ${sample.rows}`);
        assert.ok(sample.elements <= bound, `at most ${bound} elements, saw ${sample.elements}`);
      }

      // The newest job shows.
      const newest = created.reduce((a, b) => (a > b ? a : b));
      await page.waitForSelector(`#job-list li.job[data-id="${newest}"]`, { timeout: 30_000 });

      // Once nothing is pending on the server, the page's counts come to equal the server's.
      let counts = await serverCounts(server);
      while (counts.counts.pending > 0) {
        await page.waitForTimeout(200);
        counts = await serverCounts(server);
      }
      assert.equal(counts.total, JOBS);
      assert.ok(counts.counts.canceled > 0 && counts.counts.error > 0 && counts.counts.completed > 0);
      // Anonymous functions only in the page: tsx names named ones with a helper the page lacks.
      await page.waitForFunction(
        (want) =>
          (['total', 'pending', 'completed', 'error', 'canceled'] as const).every(
            (name) => document.querySelector<HTMLElement>(`[data-count="${name}"]`)?.dataset.value === String(name === 'total' ? want.total : want.counts[name]),
          ),
        counts,
        { timeout: 30_000 },
      );
      assert.equal(await page.locator('#running-count').textContent(), '');
      const end = await domSize(page);
      assert.equal(end.rows, LIVE_ROWS);
      assert.ok(end.elements <= bound);
      // Notices were summed up rather than shown one by one: at most 4 toasts at any time.
      assert.ok((await page.locator('#toasts .toast').count()) <= 4);
      assert.deepEqual(errors, []);
    } finally {
      await context?.close();
      await server.close();
    }
  });

  test('holds still under the pointer, pages back to older jobs, and watches jobs found by id or pinned', async () => {
    const server = await startTestServer({ rateLimit: 0 });
    let context: BrowserContext | undefined;
    try {
      context = await browser().newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      // A search for a job that does not exist is answered 404, which Chromium logs.
      const errors = watchForErrors(page, [/status of 404/]);
      const ids: string[] = [];
      for (let n = 0; n < 60; n++) ids.push(await createJob(server, { duration: 600 }));
      await page.goto(`${server.url}/`);
      await page.waitForSelector(`#job-list li.job[data-id="${ids.at(-1)}"]`);
      const newestFifty = ids.slice(-LIVE_ROWS).reverse();
      assert.deepEqual(await liveIds(page), newestFifty);

      // Under the pointer the rows stay where they are; changes to them still show, in place.
      // The list itself does not move as the hold begins: that happens between a click's press
      // and its release, and a release that lands elsewhere makes no click.
      const listTop = (): Promise<number> => page.locator('#job-list').evaluate((list) => list.getBoundingClientRect().top + window.scrollY);
      const liveTop = await listTop();
      await page.hover(`#job-list li.job[data-id="${newestFifty[2]}"] .job-meta`);
      await page.waitForSelector('#list-status[data-mode="held"]');
      assert.equal(await listTop(), liveTop, 'the list stays where it was when it starts holding still');
      const more: string[] = [];
      for (let n = 0; n < 3; n++) more.push(await createJob(server, { duration: 600 }));
      await fetch(`${server.url}/v1/jobs/${newestFifty[4]}`, { method: 'DELETE' });
      await page.waitForSelector(`#job-list li.job[data-id="${newestFifty[4]}"][data-status="canceled"]`);
      await page.waitForSelector('#list-status:has-text("3 newer")');
      assert.deepEqual(await liveIds(page), newestFifty);
      assert.equal(await listTop(), liveTop);
      await page.mouse.move(5, 5);
      await page.waitForSelector(`#job-list li.job[data-id="${more.at(-1)}"]`);
      await page.waitForSelector('#list-status[data-mode="live"]');

      // Older jobs, a page at a time; nothing new streams into an older page.
      const all = [...ids, ...more];
      const live = await liveIds(page);
      assert.deepEqual(live, all.slice(-LIVE_ROWS).reverse());
      await page.getByRole('button', { name: 'Older jobs' }).click();
      await page.waitForSelector('#list-status[data-mode="older"]');
      await page.waitForFunction((first) => document.querySelector('#job-list li.job')?.getAttribute('data-id') === first, all.at(-LIVE_ROWS - 1)!);
      assert.deepEqual(await liveIds(page), all.slice(0, -LIVE_ROWS).reverse());
      assert.equal(await page.getByRole('button', { name: 'Older jobs' }).isVisible(), false, 'this was the oldest page');
      const later = await createJob(server, { duration: 600 });
      await page.getByRole('button', { name: 'Newer' }).click();
      await page.waitForSelector(`#job-list li.job[data-id="${later}"]`);
      // The live list is longer: it may have grown under the pointer, and then holds still.
      await page.mouse.move(5, 5);
      await page.waitForSelector('#list-status[data-mode="live"]');

      // A job found by id goes on the watch list, where it stays and changes in place.
      const oldest = ids[0]!;
      await page.getByLabel('Find a job by id').fill(`job_01JDQ3M8Z4X5Y6V7W8T9S0R1Q2`);
      await page.getByLabel('Find a job by id').press('Enter');
      await page.locator('#search-error', { hasText: 'No job' }).waitFor();
      await page.getByLabel('Find a job by id').fill(oldest);
      await page.getByRole('button', { name: 'Find' }).click();
      await page.waitForSelector(`#watch-list li.job[data-id="${oldest}"]`);
      assert.equal(await page.locator('#search-error').textContent(), '');
      await page.locator(`#watch-list li.job[data-id="${oldest}"]`).getByRole('button', { name: `Cancel job ${oldest}` }).click();
      await page.waitForSelector(`#watch-list li.job[data-id="${oldest}"][data-status="canceled"]`);

      // A star pins a row of the live list; pressing it again unpins it.
      const pinned = later;
      await page.locator(`#job-list li.job[data-id="${pinned}"]`).getByRole('button', { name: `Watch job ${pinned}` }).click();
      await page.waitForSelector(`#watch-list li.job[data-id="${pinned}"]`);
      assert.equal(await page.locator(`#job-list li.job[data-id="${pinned}"] .watch`).getAttribute('aria-pressed'), 'true');
      assert.equal(await page.locator('#watch-count').textContent(), '2 of 12');

      // The watch list outlives a reload.
      await page.reload();
      await page.waitForSelector(`#watch-list li.job[data-id="${pinned}"]`);
      await page.waitForSelector(`#watch-list li.job[data-id="${oldest}"][data-status="canceled"]`);
      await page.locator(`#watch-list li.job[data-id="${oldest}"]`).getByRole('button', { name: `Watch job ${oldest}` }).click();
      await page.waitForSelector(`#watch-list li.job[data-id="${oldest}"]`, { state: 'detached' });
      assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem('jobwait.watch') ?? '[]') as string[]), [pinned]);

      assert.deepEqual(errors, []);
    } finally {
      await context?.close();
      await server.close();
    }
  });
});
