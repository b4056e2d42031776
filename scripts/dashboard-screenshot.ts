/**
 * `npm run docs:screenshot`: refreshes docs/dashboard.png, the picture the README shows — the
 * dashboard of a busy server. Starts a server (rate limit off, a temporary data folder), creates
 * jobs through the API at 150/s for a while, pins two of them to the watch list, and takes the
 * picture in Debian's Chromium. Tests never write this file.
 * Usage: node --import tsx scripts/dashboard-screenshot.ts [output.png]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCreateLoad } from '../bench/create-load.js';
import { ensureDashboardBuilt, launchChromium } from '../test/helpers/dashboard-browser.js';
import { freePort, spawnServer } from '../test/helpers/server-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const output = resolve(ROOT, process.argv[2] ?? 'docs/dashboard.png');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

ensureDashboardBuilt();
const dir = mkdtempSync(join(tmpdir(), 'jobwait-screenshot-'));
const server = await spawnServer(await freePort(), ['--data-dir', dir, '--rate-limit', '0']);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#connection[data-state="live"]');
  // Two long jobs to watch, made first so they are the oldest.
  const watched: string[] = [];
  for (const duration of [90, 240]) {
    const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ duration }) });
    watched.push(((await response.json()) as { id: string }).id);
  }
  const load = startCreateLoad({ url: server.url, rate: 150, jobSeconds: 6, errorShare: 0.15 });
  await sleep(8000);
  for (const id of watched) {
    await page.getByLabel('Find a job by id').fill(id);
    await page.getByLabel('Find a job by id').press('Enter');
    await page.waitForSelector(`#watch-list li.job[data-id="${id}"]`);
  }
  await page.getByLabel('Find a job by id').blur();
  await page.mouse.move(2, 2);
  // Notices of the searches go; the summaries of finished jobs stay.
  await page.locator('#toasts .toast', { hasText: 'watch list' }).first().waitFor({ state: 'detached', timeout: 15_000 }).catch(() => undefined);
  await sleep(4000);
  await page.screenshot({ path: output });
  await load.stop();
  console.log(`wrote ${output} (${statSync(output).size} bytes)`);
} finally {
  await browser.close();
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
