import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromiumExecutable, chromiumProblem, NO_CHROMIUM } from '../suites/support/browser.js';

/**
 * Makes sure the Playwright suites have a Chromium. Playwright's own download
 * is not reachable on every machine (npx playwright install fails offline), so
 * where it is absent, Debian's chromium is installed with apt-get when we are
 * root, as CI is. Otherwise it says what to do in one line.
 */
function main(): number {
  const problem = chromiumProblem();
  if (problem === undefined) {
    process.stdout.write(`ensure-browser: using ${chromiumExecutable() ?? "Playwright's own Chromium"}\n`);
    return 0;
  }
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  // A GREX_CHROMIUM that points nowhere is the user's to fix: installing another would hide it.
  if (problem !== NO_CHROMIUM || !root || !existsSync('/usr/bin/apt-get')) {
    process.stderr.write(`ensure-browser: ${problem}\n`);
    return 1;
  }
  process.stdout.write('ensure-browser: installing Debian\'s chromium with apt-get (Playwright\'s own browser is absent)\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'chromium']]) {
    const result = spawnSync('apt-get', args, { encoding: 'utf8', env });
    if (result.status !== 0) {
      process.stderr.write(`${result.stdout}${result.stderr}\nensure-browser: apt-get ${args.join(' ')} failed with ${result.status}\n`);
      return 1;
    }
  }
  const installed = chromiumExecutable();
  if (!installed) {
    process.stderr.write('ensure-browser: chromium was installed but is not at /usr/bin/chromium\n');
    return 1;
  }
  process.stdout.write(`ensure-browser: using ${installed}\n`);
  return 0;
}

process.exitCode = main();
