import { randomUUID } from 'node:crypto';
import { runs } from './projects.js';
import { demoTarget } from './target.js';

/** Once per run, before any worker: names the run (for the fair-use budget's record) and says why the demo project is skipped. */
export default function globalSetup(): void {
  process.env.GREX_RUN_ID ??= `${new Date().toISOString()}-${randomUUID().slice(0, 8)}`;
  if (!runs('demo')) return;
  const demo = demoTarget();
  if ('missing' in demo) console.log(`demo project skipped: ${demo.missing}`);
}
