import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPORTS } from '../suites/support/reports.js';

/**
 * `npm run report`: the Allure report of the last suite run, built offline by
 * the Allure 3 CLI (no Java) as one self-contained HTML file that makes no
 * request when opened: reports/allure-report/index.html. GREX_SUITE_REPORTS
 * moves both folders. Exit 0 built, 1 Allure failed (or its page still
 * reaches out), 2 no results to build from.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(REPORTS, 'allure-results');
const output = join(REPORTS, 'allure-report');

/**
 * Allure 3's awesome plugin writes Google Analytics into every page it
 * builds (gtag.js from googletagmanager.com, and the inline call that
 * configures it), and 3.18 has no option to leave it out (allure3 issue
 * #476): both go, since a report of DEMO traffic must not call out when
 * opened.
 */
const ANALYTICS = [/<script\b[^>]*\bsrc="https?:\/\/www\.googletagmanager\.com\/[^"]*"[^>]*>\s*<\/script>\s*/g, /<script>\s*window\.dataLayer\s*=[\s\S]*?<\/script>\s*/g];
/**
 * The page's script runs before the inline scripts that carry the report's
 * data, and fetches the data as files (which a file:// page may not) unless
 * `allureReportData` exists when it starts: on a busy machine the report
 * then opened empty. Declared first, the script waits for the data instead.
 */
const DATA_FIRST = '<script>window.allureReportData = window.allureReportData || {};</script>';
/**
 * allure-playwright marks a Playwright trace so that the report opens it in
 * https://trace.playwright.dev; as a plain zip it is a download instead
 * (`npx playwright show-trace`, or the offline viewer of Playwright's own
 * HTML report).
 */
const ONLINE_TRACE = '"type":"application/vnd.allure.playwright-trace"';
/** A tag that would fetch from elsewhere when the page opens (the page itself carries its scripts and styles as data: URLs). */
const OUTSIDE = /<(?:script|link|img|iframe|source|embed|object)\b[^>]*?\b(?:src|href|data)\s*=\s*["']?((?:https?:)?\/\/[^"'\s>]+)/gi;

if (!existsSync(results) || !readdirSync(results).some((file) => file.endsWith('-result.json'))) {
  console.error(`no Allure results in ${relative(ROOT, results) || results}: run the suites first (npm run test:suites)`);
  process.exit(2);
}
for (const file of readdirSync(results).filter((name) => name.endsWith('-result.json'))) {
  const text = readFileSync(join(results, file), 'utf8');
  if (text.includes(ONLINE_TRACE)) writeFileSync(join(results, file), text.replaceAll(ONLINE_TRACE, '"type":"application/zip"'));
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
const html = ANALYTICS.reduce((text, pattern) => text.replace(pattern, ''), readFileSync(page, 'utf8')).replace(/<head>/, `<head>\n${DATA_FIRST}`);
const outside = [...html.matchAll(OUTSIDE)].map((match) => match[1]);
if (outside.length > 0) {
  console.error(`the Allure page would reach outside when opened (${outside.join(', ')}): a new Allure version changed its page; see scripts/report.ts`);
  process.exit(1);
}
writeFileSync(page, html);
let counts = '';
try {
  const summary = JSON.parse(readFileSync(join(output, 'summary.json'), 'utf8')) as { stats?: Record<string, number> };
  counts = Object.entries(summary.stats ?? {}).map(([status, count]) => `${count} ${status}`).join(', ');
} catch {
  // The summary is a convenience; the report is the page.
}
console.log(`Allure report: ${relative(ROOT, page)} (one self-contained HTML file${counts ? `; ${counts}` : ''})`);
