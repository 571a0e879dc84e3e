import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

/** Launch flags that work on headless CI machines without a GPU or a sandbox. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** What to do without a Chromium, in one line (`npm test` and a plain `npx playwright test` print the same). */
export const NO_CHROMIUM = "no Chromium found. Run `npx playwright install chromium`, install your distribution's chromium, or set GREX_CHROMIUM=/path/to/chromium.";

/**
 * The Chromium to drive: GREX_CHROMIUM if set, else Playwright's own build when
 * it was downloaded, else the system's (Debian's chromium). `undefined` means
 * "Playwright's own"; `null` means none was found.
 */
export function chromiumExecutable(): string | undefined | null {
  const chosen = process.env.GREX_CHROMIUM;
  if (chosen) return chosen;
  if (existsSync(chromium.executablePath())) return undefined;
  return SYSTEM_CHROMIUM.find((path) => existsSync(path)) ?? null;
}

/** Why there is no Chromium to drive, in one line, or undefined when there is one. */
export function chromiumProblem(): string | undefined {
  const chosen = process.env.GREX_CHROMIUM;
  if (chosen && !existsSync(chosen)) return `GREX_CHROMIUM=${chosen}: no such file. Point it at a Chromium, or unset it to use Playwright's own or the system's.`;
  return chromiumExecutable() === null ? NO_CHROMIUM : undefined;
}
