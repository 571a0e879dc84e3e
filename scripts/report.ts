import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run report`: the Allure report of the last suite run, built offline by
 * the Allure 3 CLI (no Java) as one self-contained HTML file:
 * reports/allure-report/index.html. GREX_SUITE_REPORTS moves both folders.
 * Exit 0 built, 1 Allure failed, 2 no results to build from.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const reports = resolve(ROOT, process.env.GREX_SUITE_REPORTS ?? 'reports');
const results = join(reports, 'allure-results');
const output = join(reports, 'allure-report');

if (!existsSync(results) || !readdirSync(results).some((file) => file.endsWith('-result.json'))) {
  console.error(`no Allure results in ${relative(ROOT, results) || results}: run the suites first (npm run test:suites)`);
  process.exit(2);
}
rmSync(output, { recursive: true, force: true });
// The package exports no paths: its command is the `bin` next to node_modules/.bin.
const allure = join(ROOT, 'node_modules', 'allure', 'cli.js');
const run = spawnSync(process.execPath, [allure, 'generate', '--config', join(ROOT, 'scripts', 'allurerc.json'), '--output', output, results], {
  cwd: ROOT,
  encoding: 'utf8',
  timeout: 120_000,
});
const page = join(output, 'index.html');
if (run.status !== 0 || !existsSync(page)) {
  console.error(`allure generate failed (exit ${run.status}): ${(run.stderr || run.stdout || '').trim().split('\n').slice(-3).join(' ')}`);
  process.exit(1);
}
let counts = '';
try {
  const summary = JSON.parse(readFileSync(join(output, 'summary.json'), 'utf8')) as { stats?: Record<string, number> };
  counts = Object.entries(summary.stats ?? {}).map(([status, count]) => `${count} ${status}`).join(', ');
} catch {
  // The summary is a convenience; the report is the page.
}
console.log(`Allure report: ${relative(ROOT, page)} (one self-contained HTML file${counts ? `; ${counts}` : ''})`);
