import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

/** Launch flags that work on headless CI machines without a GPU or a sandbox. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

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
