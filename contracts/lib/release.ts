import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * The package's own folder: the checkout when run from source, the installed
 * package when compiled (`dist/` sits one level deeper, so it is found, not
 * counted).
 */
export const PACKAGE_ROOT = ((): string => {
  for (let dir = HERE; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'grex-harness') return dir;
  }
  throw new Error(`grex-harness: no package.json of grex-harness above ${HERE}`);
})();

/**
 * The release, from package.json: the one place the version is written. It
 * versions the tool and its contracts together (they ship as one package), so
 * `--version`, the mock's banner and every served swagger.json's
 * `info.version` all say it.
 */
export const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Running the compiled JavaScript (`npm run build`, an installed package), not the TypeScript sources through tsx. */
export const COMPILED = !fileURLToPath(import.meta.url).endsWith('.ts');
