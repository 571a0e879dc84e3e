#!/usr/bin/env -S npx tsx
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { codeCatalogue, formatCatalogue } from '../contracts/lib/codes.js';
import { loadContracts } from '../contracts/lib/load.js';
import { mockEnvironment, toPostman } from '../contracts/lib/postman.js';
import { docsPath } from '../mock/docs.js';
import { startMock } from '../mock/server.js';

const HELP = `grex-harness: a contract-driven G-REX mock and conformance harness

Usage: grex-harness <command> [options]

Commands:
  mock      Start the mock: every G-REX API's documentation (Swagger UI and
            swagger.json) at its real path, on one port.
              --port N     port (default: $PORT or 4600; 0 picks a free one)
              --host H     address to listen on (default 127.0.0.1)
  codes     Print the response-code catalogue derived from the contracts.
              --format F   table (default), markdown, csv or json
  postman   Export each contract as a Postman collection wired to the manual's
            environment variables ({{BaseURI...API}}, {{Token}}), plus a
            Postman environment for the local mock.
              --out DIR    output folder (default reports/postman)
              --base-url U base URL of the mock for the environment
                           (default http://127.0.0.1:4600)
  help      Show this text.
`;

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'mock':
      return mock(rest);
    case 'codes':
      return codes(rest);
    case 'postman':
      return postman(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`grex-harness: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

async function mock(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, help: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const port = Number(values.port ?? process.env.PORT ?? 4600);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`grex-harness mock: --port must be an integer from 0 to 65535, got "${values.port ?? process.env.PORT}"\n`);
    return 2;
  }
  const started = performance.now();
  const running = await startMock({ port, host: values.host ?? '127.0.0.1' });
  const lines = [`grex-harness mock listening on ${running.url} (ready in ${Math.round(performance.now() - started)} ms)`, '', 'Postman environment (manual Appendix 1/4 variable names):'];
  for (const contract of running.contracts.contracts) {
    if (contract.grex.postmanVariable) lines.push(`  ${contract.grex.postmanVariable.padEnd(31)} ${running.url}/${contract.grex.api}`);
  }
  lines.push('', 'Documentation:', `  ${running.url}/__docs/`);
  for (const contract of running.contracts.contracts) lines.push(`  ${running.url}${docsPath(contract)}`);
  lines.push('', 'Ready. Press Ctrl+C to stop.');
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = (): void => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<number>(() => undefined);
}

function codes(args: string[]): number {
  const { values } = parseArgs({ args, options: { format: { type: 'string', default: 'table' } } });
  const format = values.format as 'table' | 'markdown' | 'json' | 'csv';
  if (!['table', 'markdown', 'json', 'csv'].includes(format)) {
    process.stderr.write(`grex-harness codes: --format must be table, markdown, csv or json\n`);
    return 2;
  }
  process.stdout.write(formatCatalogue(codeCatalogue(loadContracts()), format));
  return 0;
}

async function postman(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: 'string', default: 'reports/postman' }, 'base-url': { type: 'string', default: 'http://127.0.0.1:4600' } },
  });
  const out = resolve(values.out ?? 'reports/postman');
  mkdirSync(out, { recursive: true });
  const { contracts } = loadContracts();
  for (const contract of contracts) {
    const collection = await toPostman(contract);
    const file = join(out, `${contract.name}.postman_collection.json`);
    writeFileSync(file, `${JSON.stringify(collection, null, 2)}\n`);
    process.stdout.write(`${file}\n`);
  }
  const environment = join(out, 'grex-local.postman_environment.json');
  writeFileSync(environment, `${JSON.stringify(mockEnvironment(contracts, values['base-url'] ?? ''), null, 2)}\n`);
  process.stdout.write(`${environment}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`grex-harness: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
