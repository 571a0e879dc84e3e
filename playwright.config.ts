import { defineConfig, type PlaywrightTestConfig } from '@playwright/test';
import { budgetSettings } from './suites/support/budget.js';
import { CHROMIUM_ARGS, chromiumExecutable, chromiumProblem } from './suites/support/browser.js';
import { runs } from './suites/support/projects.js';
import { REPORTS } from './suites/support/reports.js';
import { demoTarget, MOCK_ORIGIN, ORACLE_ORIGIN, RUNNING_MOCK, SUITE_PORT, type TargetName } from './suites/support/target.js';

const browserProblem = chromiumProblem();
if (browserProblem && runs('mock')) {
  // The mock project has the browser suites: the project's one line, as `npm test` prints it, rather than Playwright's install box.
  console.error(`playwright: ${browserProblem}`);
  process.exit(1);
}
const executablePath = chromiumExecutable() ?? undefined;
const demo = demoTarget();
const demoConfigured = 'target' in demo;
if ('error' in demo && runs('demo')) {
  // A DEMO setting that points nowhere: one line and exit 2, before any server starts.
  console.error(`demo project: ${demo.error}`);
  process.exit(2);
}
const budget = 'target' in demo ? budgetSettings(new URL(demo.target.baseUris.management).origin) : undefined;
if (typeof budget === 'string' && runs('demo')) {
  console.error(`demo project: ${budget}`);
  process.exit(2);
}
/** Writes change a real tenant: on DEMO only when the user opts in. */
const demoWrites = process.env.GREX_DEMO_WRITES === '1';

/**
 * The conformance suites, on three targets:
 * - `mock` (the default): a mock the config starts, every suite;
 * - `oracle`: the contract suite again, through Prism's validation proxy in
 *   front of that mock, failing on any violation Prism reports;
 * - `demo`: the DEMO tenant as the user configured it (a Postman environment
 *   and a refresh token, README), read-only unless GREX_DEMO_WRITES=1, never
 *   provoking limits, one worker inside the fair-use budget.
 * - `certify`: `grex-harness certify` on the command in GREX_CLIENT_CMD.
 * Tags: @readonly, @write, @limits (provokes the firewall or fair use), @mock
 * (needs the mock's /__admin or its browser pages).
 */
const webServer: PlaywrightTestConfig['webServer'] = [];
if ((runs('mock') || runs('oracle')) && !RUNNING_MOCK) {
  webServer.push({
    // GREX_MOCK_ARGS: extra flags for the suite's mock, e.g. a test-only --fault for the meta-tests.
    // GREX_CONTRACTS: G-REX's own documents, which the mock serves and the suites read (suites/support/operations.ts).
    command: `node --import tsx cli/grex-harness.ts mock --port ${SUITE_PORT} --config suites/support/mock-settings.json${process.env.GREX_CONTRACTS ? ` --contracts '${process.env.GREX_CONTRACTS}'` : ''} ${process.env.GREX_MOCK_ARGS ?? ''}`,
    url: `${MOCK_ORIGIN}/__admin/health`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'pipe',
  });
}
if (runs('oracle')) {
  webServer.push({
    command: `node --import tsx suites/oracle/prism.ts ${SUITE_PORT + 1} ${MOCK_ORIGIN}`,
    // Through Prism to the mock: ready when both are.
    url: `${ORACLE_ORIGIN}/publicreportsapi/publicreportsapi/AccountHolders?$top=1`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  });
}

export default defineConfig<{}, { grexTarget: TargetName }>({
  testDir: './suites',
  outputDir: `${REPORTS}/test-results`,
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: [
    ['list'],
    ['html', { outputFolder: `${REPORTS}/playwright`, open: 'never' }],
    ['allure-playwright', { resultsDir: `${REPORTS}/allure-results`, detail: false, suiteTitle: true }],
  ],
  timeout: 30_000,
  globalSetup: './suites/support/global-setup.ts',
  globalTeardown: './suites/support/global-teardown.ts',
  use: {
    trace: 'retain-on-failure',
    launchOptions: { executablePath, args: CHROMIUM_ARGS },
  },
  projects: [
    {
      name: 'mock',
      testIgnore: [/demo-unconfigured/, /certify\//],
      use: { baseURL: MOCK_ORIGIN, grexTarget: 'mock' },
    },
    {
      name: 'oracle',
      testMatch: /contracts\/get-operations\.spec\.ts$/,
      use: { grexTarget: 'oracle' },
    },
    {
      name: 'demo',
      ...(demoConfigured ? { testIgnore: [/demo-unconfigured/, /certify\//] } : { testMatch: /demo-unconfigured\.spec\.ts$/ }),
      grepInvert: demoWrites ? [/@limits/, /@mock/] : [/@limits/, /@mock/, /@write/],
      // One worker: the budget is shared through a file anyway, but one sign-in and one cache of lists spare DEMO's requests.
      workers: 1,
      // A paused request waits for the window to free: up to a minute at G-REX's limits.
      timeout: 180_000,
      use: { grexTarget: 'demo' },
    },
    {
      // `grex-harness certify` on the integrator's client (GREX_CLIENT_CMD), with a mock of its own; skipped, with one line, without it.
      name: 'certify',
      testMatch: /certify\/client\.spec\.ts$/,
    },
  ],
  webServer,
});
