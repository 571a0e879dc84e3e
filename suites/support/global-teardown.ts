import { FairUseBudget, budgetSettings } from './budget.js';
import { runs } from './projects.js';
import { demoTarget } from './target.js';

/** After the run: the fair-use budget the demo project used, so every DEMO run says what it spent. */
export default function globalTeardown(): void {
  if (!runs('demo')) return;
  const demo = demoTarget();
  if (!('target' in demo)) return;
  const settings = budgetSettings(new URL(demo.target.baseUris.management).origin);
  if (typeof settings === 'string') return;
  const summary = new FairUseBudget(settings, process.env.GREX_RUN_ID ?? 'unnamed-run').summary();
  if (summary) console.log(summary);
}
