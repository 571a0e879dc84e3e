import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { loadContracts } from '../contracts/lib/load.js';
import { operations } from '../contracts/lib/operations.js';
import { freePort } from './support/ports.js';
import { ROOT, runCli } from './support/cli.js';

const set = loadContracts();
const scratch = mkdtempSync(join(tmpdir(), 'grex-tools-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name);

describe('the Redocly ruleset', () => {
  it('fails on a broken copy of a contract (missing operationId, example breaking its schema)', () => {
    const dir = join(scratch, 'lint');
    cpSync(join(ROOT, 'contracts'), join(dir, 'contracts'), { recursive: true });
    const file = join(dir, 'contracts', 'management.yaml');
    const doc = parse(readFileSync(file, 'utf8'));
    const operation = doc.paths['/AH/managementapi/Accounts/{accountNumber}'].get;
    delete operation.operationId;
    const config = readFileSync(join(ROOT, 'redocly.yaml'), 'utf8');
    writeFileSync(file, stringify(doc));
    writeFileSync(join(dir, 'redocly.yaml'), config);
    const result = spawnSync(bin('redocly'), ['lint', '--config', 'redocly.yaml', 'management@v2', '--format', 'stylish'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(result.status, 0, result.stdout);
    assert.match(result.stdout + result.stderr, /operation-operationId/);
  });
});

describe('Postman export (manual 2.2.3: users import the APIs into Postman)', () => {
  it('converts every contract with openapi-to-postmanv2, wired to the manual environment variables', () => {
    const out = join(scratch, 'postman');
    const result = runCli(['postman', '--out', out]);
    assert.equal(result.status, 0, result.stderr);
    const files = readdirSync(out).sort();
    // The collections, the token use cases, the B2C environments of both tenants, the mock's environment and one per example user.
    const exampleUsers = set.common.info['x-example-users'] as string[];
    assert.equal(files.length, set.contracts.length + 4 + exampleUsers.length, files.join(', '));
    for (const user of exampleUsers) assert.ok(files.includes(`grex-local-${user}.postman_environment.json`), files.join(', '));
    for (const contract of set.contracts) {
      const text = readFileSync(join(out, `${contract.name}.postman_collection.json`), 'utf8');
      if (!contract.grex.postmanVariable) continue;
      const collection = JSON.parse(text);
      const requests: unknown[] = [];
      const walk = (items: { item?: unknown[]; request?: unknown }[]): void => {
        for (const item of items) item.item ? walk(item.item as typeof items) : requests.push(item.request);
      };
      walk(collection.item);
      assert.equal(requests.length, operations(contract.doc).length, `${contract.name}: one request per operation`);
      if (contract.grex.postmanVariable) {
        assert.ok(!text.includes('{{baseUrl}}'), `${contract.name} still uses {{baseUrl}}`);
        assert.ok(text.includes(`{{${contract.grex.postmanVariable}}}`), `${contract.name} uses {{${contract.grex.postmanVariable}}}`);
        assert.equal(collection.auth.bearer[0].value, '{{Token}}');
      }
    }
    const environment = JSON.parse(readFileSync(join(out, 'grex-local.postman_environment.json'), 'utf8'));
    const keys = environment.values.map((value: { key: string }) => value.key).sort();
    assert.deepEqual(keys, [
      'BaseURICertificateCreationAPI',
      'BaseURIManagementAPI',
      'BaseURIMasterDataAPI',
      'BaseURIPublicReportsAPI',
      'BaseURIReportsAPI',
      'BaseURITransactionAPI',
      'Token',
    ]);
  });
});

/** Starts `prism mock` on a file, resolves with its output once it listens (or rejects on exit / after 60 s). */
function prismMock(file: string, port: number): Promise<{ output: string; stop: () => void }> {
  const child = spawn(bin('prism'), ['mock', '-h', '127.0.0.1', '-p', String(port), file], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`prism did not listen within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/Prism is listening/.test(output)) {
        clearTimeout(timer);
        resolve({ output, stop: () => child.kill('SIGTERM') });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`prism exited with ${code}:\n${output}`));
    });
  });
}

describe('Prism loads every contract', () => {
  for (const contract of set.contracts) {
    it(`${contract.name}: prism mock starts and routes every operation`, async () => {
      const file = join(scratch, `${contract.name}.json`);
      writeFileSync(file, JSON.stringify(contract.doc));
      const port = await freePort();
      const prism = await prismMock(file, port);
      try {
        for (const { path, method } of operations(contract.doc)) {
          assert.ok(prism.output.includes(`${method.toUpperCase()}`), `${method} ${path} routed`);
        }
        const count = (prism.output.match(/\[CLI\] .*(GET|POST|PUT|PATCH|DELETE)\s+http/g) ?? []).length;
        assert.equal(count, operations(contract.doc).length, prism.output);
      } finally {
        prism.stop();
      }
    });
  }
});

describe('the contract-coverage check', () => {
  it('names the documented answers no test provoked, and fails with --strict', () => {
    const dir = join(scratch, 'coverage');
    const exchange = { operationId: 'ahGetAccount', response: { status: 200, body: '{}' } };
    const notFound = { operationId: 'ahGetAccount', response: { status: 404, body: '{"statusCode":404,"responseCode":"ACCOUNT_001","responseMessage":"x"}' } };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'one.ndjson'), `${JSON.stringify(exchange)}\n${JSON.stringify(notFound)}\n`);
    const script = join(ROOT, 'scripts', 'contract-coverage.ts');
    const strict = spawnSync(process.execPath, ['--import', 'tsx', script, '--dir', dir, '--strict'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(strict.status, 1, strict.stderr);
    assert.match(strict.stdout, /contract coverage: 2 of \d+ documented/);
    assert.match(strict.stdout, /^ {2}ahGetAccount 400 ACCOUNT_002$/m);
    assert.doesNotMatch(strict.stdout, /^ {2}ahGetAccount 404 ACCOUNT_001$/m);
    const lenient = spawnSync(process.execPath, ['--import', 'tsx', script, '--dir', dir], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(lenient.status, 0);
  });
});
