import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACTS_DIR, PREBUILT, loadContracts } from '../contracts/lib/load.js';
import { PREBUILT_POSTMAN, convert, documentHash } from '../contracts/lib/postman.js';
import { PACKAGE_ROOT, VERSION } from '../contracts/lib/release.js';

/**
 * `npm run build`: the tool as plain JavaScript in dist/, what `npm pack`
 * ships and the container runs. tsc emits the code (tsconfig.build.json); the
 * contracts go along as data: their YAML for reading, and the bundled set and
 * the Postman conversions that the compiled tool loads instead of parsing
 * YAML or carrying the converter.
 */
const DIST = join(PACKAGE_ROOT, 'dist');
const started = performance.now();

rmSync(DIST, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(PACKAGE_ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  process.stderr.write(`build: tsc failed (exit ${tsc.status})\n`);
  process.exit(1);
}

const contracts = join(DIST, 'contracts');
mkdirSync(contracts, { recursive: true });
for (const file of readdirSync(CONTRACTS_DIR)) if (file.endsWith('.yaml') || file === 'README.md') copyFileSync(join(CONTRACTS_DIR, file), join(contracts, file));
const set = loadContracts();
writeFileSync(join(contracts, PREBUILT), JSON.stringify({ ...set, dir: '.' }));
const conversions: Record<string, { hash: string; collection: unknown }> = {};
for (const contract of set.contracts) conversions[contract.name] = { hash: documentHash(contract), collection: await convert(contract) };
writeFileSync(join(contracts, PREBUILT_POSTMAN), JSON.stringify(conversions));

// tsc keeps the source's first line, which runs the TypeScript through tsx; the published bin is plain node.
const bin = join(DIST, 'cli', 'grex-harness.js');
writeFileSync(bin, readFileSync(bin, 'utf8').replace(/^#!.*\n/, '#!/usr/bin/env node\n'));
chmodSync(bin, 0o755);
process.stdout.write(`build: grex-harness ${VERSION} in ${DIST} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
