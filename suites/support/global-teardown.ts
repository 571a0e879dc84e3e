import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FairUseBudget, budgetSettings } from './budget.js';
import { runs } from './projects.js';
import { REPORTS } from './reports.js';
import { demoTarget } from './target.js';

/**
 * After the run: the fair-use budget the demo project used, so every DEMO
 * run says what it spent, on the console and in the Allure report (a global
 * attachment of the run, in Allure's results format).
 */
export default function globalTeardown(): void {
  if (!runs('demo')) return;
  const demo = demoTarget();
  if (!('target' in demo)) return;
  const settings = budgetSettings(new URL(demo.target.baseUris.management).origin);
  if (typeof settings === 'string') return;
  const summary = new FairUseBudget(settings, process.env.GREX_RUN_ID ?? 'unnamed-run').summary();
  if (!summary) return;
  console.log(summary);
  const results = join(REPORTS, 'allure-results');
  mkdirSync(results, { recursive: true });
  const source = `${randomUUID()}-attachment.txt`;
  writeFileSync(join(results, source), `${summary}\n`);
  const globals = { attachments: [{ name: 'fair-use budget', source, type: 'text/plain', timestamp: Date.now() }], errors: [] };
  writeFileSync(join(results, `${randomUUID()}-globals.json`), JSON.stringify(globals));
}
