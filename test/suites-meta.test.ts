import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT, runCli, startCliMock, type StartedMock } from './support/cli.js';
import { writeDemoContracts } from './support/demo-contracts.js';

/**
 * The conformance suites can fail, and the demo project works as a user
 * would set it up: Playwright run as a user runs it, against a mock made
 * wrong on purpose (test-only faults), and against a second mock playing
 * DEMO at another address.
 */
const scratch = mkdtempSync(join(tmpdir(), 'grex-suites-meta-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

interface Run {
  status: number | null;
  output: string;
  seconds: number;
}

/** `npx playwright test ...args` with its own mock port and report folder; DEMO settings only when given. */
async function playwright(args: string[], env: Record<string, string> = {}, timeoutMs = 150_000): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GREX_DEMO_') && !name.startsWith('GREX_BUDGET_') && name !== 'GREX_MOCK_ARGS' && name !== 'GREX_CONTRACTS'));
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js'), 'test', ...args, '--reporter=line'], {
    cwd: ROOT,
    env: { ...inherited, GREX_SUITE_PORT: String(port), GREX_SUITE_REPORTS: mkdtempSync(join(scratch, 'reports-')), CI: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const status = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearTimeout(timer);
  return { status, output, seconds: (performance.now() - started) / 1000 };
}

const fault = (value: object): Record<string, string> => ({ GREX_MOCK_ARGS: `--fault '${JSON.stringify(value)}'` });

describe('the suites catch a mock made wrong on purpose', () => {
  test('unfaulted, the targeted checks pass', async () => {
    const run = await playwright(['suites/contracts/get-operations.spec.ts', 'suites/firewall', 'suites/writes', '--project', 'mock', '--grep', 'ahGetAccounts:|without accept|TRANSACTION_022']);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /3 passed/);
  });

  test('a corrupted response field fails the contract suite, naming the operation', async () => {
    const run = await playwright(['suites/contracts/get-operations.spec.ts', '--project', 'mock', '--grep', 'ahGetAccounts:'], fault({ kind: 'set-field', operationId: 'ahGetAccounts', field: 'accountNumber', value: 42 }));
    assert.equal(run.status, 1, run.output);
    assert.match(run.output, /1 failed/);
    assert.match(run.output, /ahGetAccounts: GET \/AH\/managementapi\/Accounts answers as its contract documents/);
    assert.match(run.output, /ahGetAccounts 200 body \/0\/accountNumber must be string/);
    assert.match(run.output, /HTTP 200/, 'the failure carries the exchange');
  });

  test('a dropped required-header check fails the firewall suite', async () => {
    const run = await playwright(['suites/firewall', '--project', 'mock', '--grep', 'without accept'], fault({ kind: 'skip-rule', rule: 'header-accept' }));
    assert.equal(run.status, 1, run.output);
    assert.match(run.output, /1 failed/);
    assert.match(run.output, /a request without accept is stopped with the gateway's HTML 403/);
  });

  test('a wrong response code fails the writes suite', async () => {
    const run = await playwright(['suites/writes', '--project', 'mock', '--grep', 'TRANSACTION_022'], fault({ kind: 'wrong-code', operationId: 'ahCreateTransfer', when: 'TRANSACTION_022', code: 'TRANSACTION_027' }));
    assert.equal(run.status, 1, run.output);
    assert.match(run.output, /1 failed/);
    assert.match(run.output, /Expected: "TRANSACTION_022"\s+Received: "TRANSACTION_027"/);
  });

  test('a corrupted field fails the oracle project too: Prism reports the violation', async () => {
    const run = await playwright(['--project', 'oracle', '--grep', 'ahGetAccounts:'], fault({ kind: 'set-field', operationId: 'ahGetAccounts', field: 'accountNumber', value: 42 }));
    assert.equal(run.status, 1, run.output);
    assert.match(run.output, /sl-violations|Prism \(the independent oracle\) reported contract violations/);
  });
});

describe("the suites follow the contracts the mock serves: G-REX's own documents (GREX_CONTRACTS)", () => {
  const published = join(scratch, 'published');

  test('the contract suite tests the operations of the served documents: the new one answered from its example, the renamed field', async () => {
    writeDemoContracts(published);
    const run = await playwright(['suites/contracts/get-operations.spec.ts', '--project', 'mock', '--grep', 'Auctions_Get:|ahGetAccounts:|AccountHolders_Get:'], { GREX_CONTRACTS: published });
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /3 passed/);
  });

  test("a mock that drops G-REX's renamed field fails it, naming the field of G-REX's document", async () => {
    writeDemoContracts(published);
    const run = await playwright(['suites/contracts/get-operations.spec.ts', '--project', 'mock', '--grep', 'ahGetAccounts:'], {
      GREX_CONTRACTS: published,
      ...fault({ kind: 'remove-field', operationId: 'ahGetAccounts', field: 'accountName' }),
    });
    assert.equal(run.status, 1, run.output);
    assert.match(run.output, /ahGetAccounts 200 body \/0 must have required property 'accountName'/);
  });
});

describe('the demo project', () => {
  test('without DEMO settings it is skipped with one line saying what to set', async () => {
    const run = await playwright(['--project', 'demo']);
    assert.equal(run.status, 0, run.output);
    const lines = run.output.split('\n').filter((line) => line.startsWith('demo project skipped: '));
    assert.equal(lines.length, 1, run.output);
    assert.match(lines[0], /GREX_DEMO_POSTMAN_ENV .*GREX_DEMO_B2C_ENV .*GREX_DEMO_REFRESH_TOKEN/);
    assert.match(run.output, /1 skipped/);
  });

  test('a DEMO environment file that is not there stops the run with one line naming it', async () => {
    const run = await playwright(['--project', 'demo'], { GREX_DEMO_POSTMAN_ENV: join(scratch, 'nowhere.json'), GREX_DEMO_APP_ID: 'x', GREX_DEMO_REFRESH_TOKEN: 'x' });
    assert.equal(run.status, 2, run.output);
    assert.equal(run.output.trim(), `demo project: GREX_DEMO_POSTMAN_ENV=${join(scratch, 'nowhere.json')}: no such file`);
  });

  describe('against a second mock playing DEMO, configured as a user would', () => {
    let standIn: StartedMock;
    after(() => standIn?.stop());

    test('runs green inside the fair-use budget, pausing instead of reaching a 429', async (t) => {
      // DEMO's fair use, scaled down so the budget must pause: 10 requests per 2 s; the budget takes half.
      const settings = join(scratch, 'stand-in.json');
      writeFileSync(settings, JSON.stringify({ fairUse: { limits: [{ requests: 10, windowSeconds: 2 }], blockAfter: 10, blockSeconds: 900 } }));
      standIn = await startCliMock(['--config', settings]);

      // What a user has: the Postman environments (G-REX App. 4 shape, B2C App. 5 shape) and a refresh token from a PKCE sign-in.
      const postman = join(scratch, 'postman');
      const exported = runCli(['postman', '--out', postman, '--base-url', standIn.url]);
      assert.equal(exported.status, 0, exported.stderr);
      const refresh = await (await fetch(`${standIn.url}/__admin/refresh-token`, { method: 'POST', body: JSON.stringify({ user: 'eolien-root' }) })).json();
      const budgetFile = join(scratch, 'budget.json');

      const run = await playwright(['--project', 'demo'], {
        GREX_DEMO_POSTMAN_ENV: join(postman, 'grex-local.postman_environment.json'),
        GREX_DEMO_B2C_ENV: join(postman, 'grex-b2c-gcrfdemo.postman_environment.json'),
        GREX_DEMO_REFRESH_TOKEN: refresh.refresh_token,
        GREX_BUDGET_LIMITS: '10/2',
        GREX_BUDGET_SHARE: '0.5',
        GREX_BUDGET_FILE: budgetFile,
      }, 300_000);
      assert.equal(run.status, 0, run.output);
      assert.doesNotMatch(run.output, /demo project skipped/);
      assert.match(run.output, /\d+ passed/);
      const summary = /fair-use budget for .*: peak (\d+) of 5 per 2 s.*this run (\d+) requests, paused (\d+) times? \(([\d.]+) s\)/.exec(run.output);
      assert.ok(summary, run.output);
      const [, peak, requests, pauses, paused] = summary.map(Number);
      assert.ok(peak <= 5, `the budget's share was kept: ${summary[0]}`);
      assert.ok(requests > 10 && pauses > 0 && paused > 0, `the run paused: ${summary[0]}`);
      assert.ok(run.seconds >= paused, 'the run took at least its pauses');
      t.diagnostic(`${summary[0]}; the run took ${run.seconds.toFixed(1)} s; ${/\d+ passed/.exec(run.output)?.[0]}, ${/\d+ skipped/.exec(run.output)?.[0] ?? 'none skipped'}`);

      const journal = await (await fetch(`${standIn.url}/__admin/journal`)).text();
      const exchanges = journal.trim().split('\n').map((line) => JSON.parse(line) as { request: { url: string }; response: { status: number } });
      const grex = exchanges.filter((exchange) => !exchange.request.url.includes('.onmicrosoft.com/'));
      assert.equal(grex.length, requests, 'every G-REX request went through the budget');
      assert.deepEqual(exchanges.filter((exchange) => exchange.response.status === 429), [], 'the stand-in never answered 429');
      assert.ok(exchanges.every((exchange) => !['POST', 'PUT', 'PATCH', 'DELETE'].includes((exchange.request as { method?: string }).method ?? '') || exchange.request.url.includes('/oauth2/')), 'read-only by default: no writes reached DEMO');
      assert.ok(JSON.parse(readFileSync(budgetFile, 'utf8')).calls, 'the budget is remembered in its file');
    });
  });
});
