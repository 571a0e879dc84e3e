import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { COMPILED, PACKAGE_ROOT } from './release.js';

/**
 * What is slow to make and safe to keep between runs (bundled contracts, the
 * signing key, hosts-mode certificates). From a checkout, beside the installed
 * packages; compiled (an installed package, the container), in the user's
 * cache folder, since a global install's node_modules is often not writable.
 * `GREX_HARNESS_CACHE` puts it elsewhere.
 */
export const CACHE_DIR =
  process.env.GREX_HARNESS_CACHE ||
  (COMPILED ? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'grex-harness') : join(PACKAGE_ROOT, 'node_modules', '.cache', 'grex-harness'));

/**
 * The text cached under `name`, or `make()`'s, written there for next time.
 * Older entries sharing `prefix` are removed. A cache that cannot be written
 * (a read-only install) only makes the next start slower.
 */
export function cachedText(name: string, make: () => string, prefix?: string): string {
  const file = join(CACHE_DIR, name);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    const text = make();
    try {
      mkdirSync(CACHE_DIR, { recursive: true });
      if (prefix) for (const old of readdirSync(CACHE_DIR)) if (old.startsWith(prefix) && !old.endsWith('.tmp')) rmSync(join(CACHE_DIR, old), { force: true });
      // Written aside and renamed into place: a process starting meanwhile never reads half a file.
      const partial = `${file}.${process.pid}.tmp`;
      writeFileSync(partial, text, { mode: 0o600 });
      renameSync(partial, file);
    } catch {
      // Read-only: nothing to keep.
    }
    return text;
  }
}
