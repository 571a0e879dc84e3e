import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumExecutable } from '../suites/support/browser.js';
import { ROOT } from './support/cli.js';
import { playwright, type PlaywrightRun } from './support/playwright.js';

/**
 * `npm run report` builds an Allure report of DEMO traffic: opened, it must
 * reach nothing outside the machine. Chromium opens it with every request
 * that is not the file itself (or data it carries) blocked and recorded,
 * opens the failed test, its HTTP transcripts and its trace; the page Allure
 * builds on its own is shown failing the same check.
 */
const FAILING = 'ahGetAccounts: GET';

/**
 * The outside requests a report page attempts while it is read: the failed
 * test opened, each of its attachments, a trace in a viewer. `reloads`: how
 * often to load the page again when it opens empty.
 */
async function outsideRequests(page: string, reloads = 0): Promise<{ outside: string[]; shown: string }> {
  const browser = await chromium.launch({ executablePath: chromiumExecutable() ?? undefined, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ acceptDownloads: false });
    const outside: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (/^(file|data|blob|about):/.test(url)) return route.continue();
      outside.push(url);
      return route.abort();
    });
    await context.routeWebSocket(/.*/, (socket) => {
      outside.push(socket.url());
      return socket.close();
    });
    const tab = await context.newPage();
    // A report of a whole run is a large page: on a loaded machine it renders slowly.
    tab.setDefaultTimeout(60_000);
    await tab.goto(pathToFileURL(page).href);
    const shows = () => tab.getByText(FAILING).first().waitFor({ timeout: 10_000 }).then(() => true, () => false);
    for (let attempt = 0; attempt < reloads && !(await shows()); attempt++) await tab.reload();
    await tab.getByText(FAILING).first().click();
    const headers = tab.getByTestId('test-result-attachment-header');
    await headers.first().waitFor();
    for (let index = 0; index < (await headers.count()); index++) {
      const header = headers.nth(index);
      const offersViewer = /playwright-trace/.test(await header.innerText());
      await header.click();
      // Allure offers a Playwright trace in an online viewer; the first button of its row opens it.
      if (offersViewer) await header.locator('button').first().click();
    }
    // Whatever the page or a window it opened starts loading has started by now.
    await tab.waitForTimeout(1500);
    return { outside, shown: await tab.locator('body').innerText() };
  } finally {
    await browser.close();
  }
}

describe('the Allure report makes no request outside the machine when opened', () => {
  let run: PlaywrightRun;
  before(async () => {
    // A run with a failed test: transcripts and a trace to open.
    const fault = { kind: 'set-field', operationId: 'ahGetAccounts', field: 'accountNumber', value: 42 };
    run = await playwright(['suites/contracts/get-operations.spec.ts', '--project', 'mock', '--grep', `${FAILING}|ahGetOrganizations:`], { GREX_MOCK_ARGS: `--fault '${JSON.stringify(fault)}'` }, 150_000, { reports: true });
    assert.equal(run.status, 1, run.output);
  });
  after(() => run && rmSync(run.reports, { recursive: true, force: true }));

  test('the page Allure builds on its own reaches Google Analytics, and opens traces at trace.playwright.dev', async () => {
    // Before npm run report touches the results: Allure 3.18 as it comes.
    const unpatched = join(run.reports, 'unpatched');
    const built = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'allure', 'cli.js'), 'generate', '--config', join(ROOT, 'scripts', 'allurerc.json'), '--output', unpatched, join(run.reports, 'allure-results')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(built.status, 0, built.stderr);
    // Allure's own page opens empty now and then from a file (what DATA_FIRST in scripts/report.ts mends): loaded again until it shows.
    const { outside } = await outsideRequests(join(unpatched, 'index.html'), 5);
    assert.ok(outside.some((url) => url.startsWith('https://www.googletagmanager.com/')), `the analytics tag: ${outside.join(', ')}`);
    assert.ok(outside.some((url) => url.startsWith('https://trace.playwright.dev/')), `the online trace viewer: ${outside.join(', ')}`);
  });

  test('npm run report builds one page that, read through, attempts no request outside', async () => {
    const report = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'report.ts')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GREX_SUITE_REPORTS: run.reports }, timeout: 150_000 });
    assert.equal(report.status, 0, report.stderr);
    assert.match(report.stdout, /one self-contained HTML file; 2 total, (1 passed, 1 failed|1 failed, 1 passed)\)/);
    const { outside, shown } = await outsideRequests(join(run.reports, 'allure-report', 'index.html'));
    assert.deepEqual(outside, []);
    assert.match(shown, /ahGetAccounts answers as its contract documents/, 'the failed check is a step');
    assert.match(shown, /HTTP 200/, 'its transcript opens in the page');
  });
});
