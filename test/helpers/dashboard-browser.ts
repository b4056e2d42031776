/**
 * Debian's Chromium driven by playwright-core, and the built dashboard, for the browser tests and
 * `npm run bench:dashboard` / `npm run pictures`. A downloaded browser is never used.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DASHBOARD = join(ROOT, 'packages', 'dashboard');

/** Debian's Chromium (`apt-get install chromium`). */
export const CHROMIUM = '/usr/bin/chromium';
/** Headless, and quiet: no updates, syncing or first-run work competing with what is measured. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

/** Launches Debian's Chromium; fails with the command that installs it when it is missing. */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * For a suite of dashboard tests: builds the dashboard if needed and launches Chromium before the
 * suite, closes it after. Call inside `describe`; the returned function gives the browser.
 */
export function useDashboardBrowser(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    ensureDashboardBuilt();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  return () => {
    assert.ok(browser, 'the browser is launched before the suite');
    return browser;
  };
}

/** Builds the dashboard when dist/ is missing or older than a source it bundles. */
export function ensureDashboardBuilt(): void {
  const index = join(DASHBOARD, 'dist', 'index.html');
  const builtAt = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = [join(DASHBOARD, 'build.mjs'), ...listFiles(join(DASHBOARD, 'src')), ...listFiles(join(ROOT, 'packages', 'client', 'src'))];
  if (sources.every((file) => statSync(file).mtimeMs <= builtAt)) return;
  const result = spawnSync(process.execPath, [join(DASHBOARD, 'build.mjs'), '--quiet'], { cwd: DASHBOARD, encoding: 'utf8' });
  assert.equal(result.status, 0, `building the dashboard failed:\n${result.stdout}\n${result.stderr}`);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((file) => statSync(file).isFile());
}

/** Console errors and uncaught exceptions of `page`, except those matching `allowed`. */
export function watchForErrors(page: Page, allowed: RegExp[] = []): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !allowed.some((re) => re.test(message.text()))) errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  return errors;
}
