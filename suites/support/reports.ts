import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the suites' reports go: GREX_SUITE_REPORTS, else `reports/` in the
 * checkout; absolute, so the servers the config starts (Prism's document)
 * and the scripts (the Allure report) write to the same place.
 */
export const REPORTS = resolve(ROOT, process.env.GREX_SUITE_REPORTS ?? 'reports');
