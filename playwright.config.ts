import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumExecutable } from './suites/support/browser.js';

const MOCK_PORT = Number(process.env.GREX_SUITE_PORT ?? 4610);
const executablePath = chromiumExecutable() ?? undefined;

/**
 * The conformance suites. The `mock` project starts the mock itself and runs
 * against it; the DEMO project comes with the suites issue.
 */
export default defineConfig({
  testDir: './suites',
  outputDir: './reports/test-results',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: process.env.CI ? 2 : undefined,
  reporter: [['list'], ['html', { outputFolder: 'reports/playwright', open: 'never' }]],
  timeout: 30_000,
  use: {
    trace: 'retain-on-failure',
    launchOptions: { executablePath, args: CHROMIUM_ARGS },
  },
  projects: [
    {
      name: 'mock',
      use: { baseURL: `http://127.0.0.1:${MOCK_PORT}` },
    },
  ],
  webServer: {
    command: `node --import tsx cli/grex-harness.ts mock --port ${MOCK_PORT}`,
    url: `http://127.0.0.1:${MOCK_PORT}/__docs/`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
