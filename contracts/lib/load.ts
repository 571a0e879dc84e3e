import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { bundle, type RoleCatalogue } from './bundle.js';
import { cachedText } from './cache.js';
import { VERSION } from './release.js';
import type { GrexInfo, OpenApiDocument } from './types.js';

export const CONTRACTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const COMMON = 'common.yaml';
/** The parsed and bundled set as data, written beside the contracts by `npm run build`: the compiled tool reads no YAML at start. */
export const PREBUILT = 'contracts.bundled.json';

export interface Contract {
  /** File name without extension, e.g. `management`. */
  name: string;
  file: string;
  grex: GrexInfo;
  /** As written, with `$ref`s into common.yaml. */
  raw: OpenApiDocument;
  /** Self-contained: what swagger.json serves. */
  doc: OpenApiDocument;
  /** Set when the document is G-REX's own (`--contracts DIR`): `doc` is it in OpenAPI 3, annotated for the mock (served.ts). */
  pulled?: PulledOrigin;
}

export interface PulledOrigin {
  file: string;
  /** What G-REX published: `Swagger 2.0`, `OpenAPI 3.0.1`. */
  format: string;
  /** The document as it came, which the mock's swagger.json serves. */
  original: unknown;
  source?: string;
  pulledAt?: string;
  /** The reconstructed contract's operations the document does not have: not served. */
  notServed: string[];
}

export interface ContractSet {
  dir: string;
  common: OpenApiDocument;
  roles: RoleCatalogue;
  contracts: Contract[];
  /** The reconstructed contracts, when `contracts` serves G-REX's own documents instead: their codes and permissions stay the mock's. */
  reconstructed?: ContractSet;
}

export function readYaml(file: string): OpenApiDocument {
  return parse(readFileSync(file, 'utf8')) as OpenApiDocument;
}

/** Every contract of a directory (default: the project's contracts/), parsed and bundled; from the cache when the text has not changed. */
export function loadContracts(dir: string = CONTRACTS_DIR): ContractSet {
  const prebuilt = join(dir, PREBUILT);
  if (dir === CONTRACTS_DIR && existsSync(prebuilt)) return located(readFileSync(prebuilt, 'utf8'), dir);
  const files = readdirSync(dir).filter((entry) => entry.endsWith('.yaml')).sort();
  const hash = createHash('sha1').update(VERSION).update('\0');
  for (const file of files) hash.update(file).update('\0').update(readFileSync(join(dir, file))).update('\0');
  // Parsing the YAML is most of the mock's start-up: the bundled set is kept, keyed by the contracts' text and the release.
  return located(
    cachedText(`contracts-${hash.digest('hex')}.json`, () => JSON.stringify(parseContracts(dir)), 'contracts-'),
    dir,
  );
}

/** A set as kept (in the cache, or prebuilt on another machine), its paths made this folder's. */
function located(text: string, dir: string): ContractSet {
  const set = JSON.parse(text) as ContractSet;
  for (const contract of set.contracts) contract.file = join(dir, `${contract.name}.yaml`);
  return { ...set, dir };
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
      const doc = bundle(raw, common, roles);
      // XML negotiation is declared once (common.yaml) for the six G-REX APIs: each served swagger.json says so.
      if (grex.api !== 'b2c' && common.info['x-grex-xml']) doc.info['x-grex-xml'] = common.info['x-grex-xml'];
      // Served swagger.json says which release of the reconstruction it is; the API's own version is in its path and x-grex.
      doc.info.version = VERSION;
      return { name: entry.replace(/\.yaml$/, ''), file, grex, raw, doc };
    });
  return { dir, common, roles, contracts };
}
