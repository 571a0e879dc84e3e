import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { bundle, type RoleCatalogue } from './bundle.js';
import { cachedText } from './cache.js';
import type { GrexInfo, OpenApiDocument } from './types.js';

export const CONTRACTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const COMMON = 'common.yaml';

export interface Contract {
  /** File name without extension, e.g. `management`. */
  name: string;
  file: string;
  grex: GrexInfo;
  /** As written, with `$ref`s into common.yaml. */
  raw: OpenApiDocument;
  /** Self-contained: what swagger.json serves. */
  doc: OpenApiDocument;
}

export interface ContractSet {
  dir: string;
  common: OpenApiDocument;
  roles: RoleCatalogue;
  contracts: Contract[];
}

export function readYaml(file: string): OpenApiDocument {
  return parse(readFileSync(file, 'utf8')) as OpenApiDocument;
}

/** Every contract of a directory (default: the project's contracts/), parsed and bundled; from the cache when the text has not changed. */
export function loadContracts(dir: string = CONTRACTS_DIR): ContractSet {
  const files = readdirSync(dir).filter((entry) => entry.endsWith('.yaml')).sort();
  const hash = createHash('sha1');
  for (const file of files) hash.update(file).update('\0').update(readFileSync(join(dir, file))).update('\0');
  // Parsing the YAML is most of the mock's start-up: the bundled set is kept, keyed by the contracts' text.
  const text = cachedText(`contracts-${hash.digest('hex')}.json`, () => JSON.stringify(parseContracts(dir)), 'contracts-');
  return { ...(JSON.parse(text) as ContractSet), dir };
}

function parseContracts(dir: string): ContractSet {
  const common = readYaml(join(dir, COMMON));
  const roles = common.info['x-roles'] as unknown as RoleCatalogue;
  const contracts = readdirSync(dir)
    .filter((entry) => entry.endsWith('.yaml') && entry !== COMMON)
    .sort()
    .map((entry): Contract => {
      const file = join(dir, entry);
      const raw = readYaml(file);
      const grex = raw.info?.['x-grex'];
      if (!grex?.api || !grex.version) throw new Error(`${entry}: info.x-grex {api, version} is missing`);
      return { name: entry.replace(/\.yaml$/, ''), file, grex, raw, doc: bundle(raw, common, roles) };
    });
  return { dir, common, roles, contracts };
}
