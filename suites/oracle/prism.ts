import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadServedContracts } from '../../contracts/lib/served.js';
import { REPORTS } from '../support/reports.js';
import { oracleDocument } from './document.js';

/**
 * The oracle project's server: Prism's validation proxy (`prism proxy
 * --errors`) in front of the mock, with the six contracts as one document.
 * Usage: prism.ts <port> <upstream origin>. Prism reports what it finds wrong
 * in `sl-violations`; the suites fail on it.
 */
const [port, upstream] = process.argv.slice(2);
if (!/^\d+$/.test(port ?? '') || !/^https?:\/\//.test(upstream ?? '')) {
  console.error('usage: prism.ts <port> <upstream origin, e.g. http://127.0.0.1:4610>');
  process.exit(2);
}
const folder = join(REPORTS, 'oracle');
const file = join(folder, 'grex-apis.openapi.json');
mkdirSync(folder, { recursive: true });
// The contracts the mock serves: G-REX's own documents when GREX_CONTRACTS names them.
writeFileSync(file, JSON.stringify(oracleDocument((await loadServedContracts(process.env.GREX_CONTRACTS || undefined)).contracts), null, 1));
const prism = createRequire(import.meta.url).resolve('@stoplight/prism-cli/dist/index.js');
const child = spawn(process.execPath, [prism, 'proxy', file, upstream, '--errors', '--host', '127.0.0.1', '--port', port, '-v', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 1));
