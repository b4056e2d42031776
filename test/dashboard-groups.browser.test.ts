/**
 * The dashboard narrowed to a batch or a tag, in Debian's Chromium against the
 * real server on port 0: a batch made with POST /v1/batches (with a tag) among unrelated jobs;
 * the page narrowed to the tag (typed) and to the batch (its chip on a row) shows that group's
 * counts exactly as the server counts them and lists only its jobs; as the batch's jobs finish,
 * the counts follow; "All jobs" goes back. Reported jobs, so nothing ends by the clock.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { useDashboardBrowser, watchForErrors } from './helpers/dashboard-browser.js';
import { startTestServer, type TestServer } from './helpers/jobwait-server.js';

interface Created {
  id: string;
  reportToken: string;
}

interface Counts {
  counts: Record<string, number>;
  total: number;
}

const TAG = 'night-run';

/** The ids of the rows of the live list, in order. */
function listedIds(page: Page): Promise<string[]> {
  return page.evaluate(() => [...document.querySelectorAll<HTMLLIElement>('#job-list li.job')].map((li) => li.dataset.id ?? ''));
}

/** Waits until the live list holds exactly `ids` (in any order). */
async function waitForListed(page: Page, ids: readonly string[]): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const shown = [...document.querySelectorAll<HTMLLIElement>('#job-list li.job')].map((li) => li.dataset.id ?? '').sort();
      return shown.length === want.length && shown.every((id, i) => id === [...want].sort()[i]);
    },
    ids,
    { timeout: 10_000 },
  );
}

/** Waits until the page's counts (total and by status) are `expected`. */
async function waitForCounts(page: Page, expected: Counts): Promise<void> {
  const want: Record<string, string> = { total: String(expected.total) };
  for (const [status, n] of Object.entries(expected.counts)) want[status] = String(n);
  await page.waitForFunction(
    (w) => {
      const shown: Record<string, string | undefined> = {};
      for (const el of document.querySelectorAll<HTMLElement>('[data-count]')) shown[el.dataset.count ?? ''] = el.dataset.value;
      return Object.entries(w).every(([key, value]) => shown[key] === value);
    },
    want,
    { timeout: 10_000 },
  );
}

describe('dashboard groups a batch or a tag with its counts', { timeout: 120_000 }, () => {
  const browser = useDashboardBrowser();

  test('narrows to a tag and to a batch: the server counts, only its jobs, live as they finish, and back to all jobs', async () => {
    const server: TestServer = await startTestServer({ store: 'memory', rateLimit: 0 });
    let context: BrowserContext | undefined;
    const api = async <T>(method: string, path: string, body?: object): Promise<T> => {
      const res = await fetch(`${server.url}${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, ...(body ? { body: JSON.stringify(body) } : {}) });
      assert.ok(res.ok, `${method} ${path} answered ${res.status}`);
      return (await res.json()) as T;
    };
    const report = async (job: Created, body: object): Promise<void> => {
      const res = await fetch(`${server.url}/v1/jobs/${job.id}/reports`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${job.reportToken}` }, body: JSON.stringify(body) });
      assert.equal(res.status, 200);
    };
    const serverCounts = (query: string): Promise<Counts> => api<Counts>('GET', `/v1/jobs/counts${query}`);
    try {
      const unrelated = [await api<Created>('POST', '/v1/jobs', {}), await api<Created>('POST', '/v1/jobs', { tags: ['other'] })];
      const created = await api<{ batch: { id: string }; jobs: Created[] }>('POST', '/v1/batches', { jobs: [{}, {}, {}], tags: [TAG] });
      const batchId = created.batch.id;
      const batchJobs = created.jobs;
      // Has the tag, is not of the batch.
      const tagged = await api<Created>('POST', '/v1/jobs', { tags: [TAG] });
      const all = [...unrelated, ...batchJobs, tagged].map((job) => job.id);

      context = await browser().newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors = watchForErrors(page);
      await page.goto(`${server.url}/`);
      await page.waitForSelector('#connection[data-state="live"]');
      await waitForListed(page, all);
      assert.equal(await page.locator('#scope').isHidden(), true);
      // Chips on the rows: the batch's jobs show their batch and tag.
      const firstRow = page.locator(`li.job[data-id="${batchJobs[0]!.id}"]`);
      assert.equal(await firstRow.getByRole('button', { name: `Show batch ${batchId}` }).count(), 1);
      assert.equal(await firstRow.getByRole('button', { name: `Show tag ${TAG}` }).textContent(), TAG);

      // A wrong name is refused with a reason.
      await page.getByLabel('Show a batch or tag').fill('<b>no</b>');
      await page.getByRole('button', { name: 'Show', exact: true }).click();
      await page.waitForSelector('#group-error:has-text("A tag is")');

      // The tag, typed.
      await page.getByLabel('Show a batch or tag').fill(TAG);
      await page.getByRole('button', { name: 'Show', exact: true }).click();
      await page.waitForSelector('#scope:not([hidden])');
      assert.equal(await page.locator('#scope-name').textContent(), `Tag ${TAG}`);
      await waitForListed(page, [...batchJobs.map((job) => job.id), tagged.id]);
      const tagCounts = await serverCounts(`?tag=${TAG}`);
      assert.equal(tagCounts.total, 4);
      await waitForCounts(page, tagCounts);
      await page.waitForSelector('#scope-done:has-text("0 of 4 done")');
      assert.equal(await page.locator('#group-error').textContent(), '');

      // A job outside the tag streams past; one with the tag, made after it, shows (so the first was seen and left out).
      const later = await api<Created>('POST', '/v1/jobs', {});
      const laterTagged = await api<Created>('POST', '/v1/jobs', { tags: [TAG] });
      await waitForListed(page, [...batchJobs.map((job) => job.id), tagged.id, laterTagged.id]);
      assert.ok(!(await listedIds(page)).includes(later.id));
      await waitForCounts(page, await serverCounts(`?tag=${TAG}`));

      // Back to all jobs.
      await page.getByRole('button', { name: 'All jobs' }).click();
      await page.waitForSelector('#scope', { state: 'hidden' });
      await waitForListed(page, [...all, later.id, laterTagged.id]);
      await waitForCounts(page, await serverCounts(''));

      // The batch, from its chip on a row.
      await firstRow.getByRole('button', { name: `Show batch ${batchId}` }).click();
      await page.waitForSelector('#scope:not([hidden])');
      assert.equal(await page.locator('#scope-name').textContent(), `Batch ${batchId}`);
      await waitForListed(page, batchJobs.map((job) => job.id));
      const before = await serverCounts(`?batch=${batchId}`);
      assert.deepEqual(before.counts, { pending: 3, completed: 0, error: 0, canceled: 0 });
      await waitForCounts(page, before);
      await page.waitForSelector('#scope-done:has-text("0 of 3 done")');

      // The batch's jobs finish: the counts follow.
      await report(batchJobs[0]!, { event: 'completed', result: 'ok' });
      await page.waitForSelector('#scope-done:has-text("1 of 3 done")');
      await report(batchJobs[1]!, { event: 'failed', error: { code: 'BROKEN', message: 'no' } });
      await api('DELETE', `/v1/jobs/${batchJobs[2]!.id}`);
      const after = await serverCounts(`?batch=${batchId}`);
      assert.deepEqual(after.counts, { pending: 0, completed: 1, error: 1, canceled: 1 });
      await waitForCounts(page, after);
      await page.waitForSelector('#scope-done:has-text("3 of 3 done")');
      assert.equal(await page.locator('#scope-progress').evaluate((bar) => (bar as HTMLProgressElement).value), 1);
      await page.waitForSelector(`li.job[data-id="${batchJobs[2]!.id}"][data-status="canceled"]`);
      assert.deepEqual((await listedIds(page)).sort(), batchJobs.map((job) => job.id).sort());

      // A status filter within the batch.
      await page.getByRole('radio', { name: /^Error/ }).check();
      await waitForListed(page, [batchJobs[1]!.id]);
      await page.getByRole('radio', { name: /^All/ }).check();
      await page.getByRole('button', { name: 'All jobs' }).click();
      await waitForListed(page, [...all, later.id, laterTagged.id]);
      assert.deepEqual(errors, []);
    } finally {
      await context?.close();
      await server.close();
    }
  });
});
