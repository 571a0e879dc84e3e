import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MUTATIONS, type Mutation } from '../suites/mutations.js';
import { escapeRegExp, fromRoot, MutationRunner } from '../suites/support/mutation-runner.js';
import { ROOT, runCli, startCliMock, type StartedMock } from './support/cli.js';
import { writeDemoContracts } from './support/demo-contracts.js';
import { playwright } from './support/playwright.js';

/**
 * The conformance suites can fail, and the demo project works as a user
 * would set it up: every suite file of the mock project fails on a wrong
 * server it must catch (the first mutation of suites/mutations.ts that names
 * it; `npm run mutation` runs them all) and the test that failed passes
 * without the fault; Prism fails the oracle project; certify fails a bad
 * client; and the demo project runs against a second mock playing DEMO.
 */
const scratch = mkdtempSync(join(tmpdir(), 'grex-suites-meta-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The first mutation that names each suite file. */
const perFile = new Map<string, Mutation>();
for (const mutation of MUTATIONS) for (const file of mutation.files) if (!perFile.has(file)) perFile.set(file, mutation);

describe('each suite file of the mock project fails on a wrong server it must catch', () => {
  let runner: MutationRunner;
  before(async () => {
    runner = await MutationRunner.start();
  });
  after(() => runner?.stop());

  test('every suite file of the mock project has a mutation', () => {
    const specs = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? specs(join(dir, entry.name)) : entry.name.endsWith('.spec.ts') ? [join(dir, entry.name)] : []));
    // certify grades a client (below) and demo-unconfigured only says what to set: neither runs against the mock.
    const mockProject = specs('suites').filter((file) => !/certify\/|demo-unconfigured/.test(file));
    assert.deepEqual(mockProject.filter((file) => !perFile.has(file)), []);
  });

  for (const [file, mutation] of perFile) {
    test(`${file} fails on a server that ${mutation.wrong} (${mutation.name}), and passes without it`, async (t) => {
      const faulty = await runner.run([file], mutation.faults, { firstFailure: true });
      assert.equal(faulty.status, 1, faulty.output);
      const failed = faulty.failed.find((failure) => fromRoot(failure.file) === file);
      assert.ok(failed, `a test of ${file} failed: ${faulty.output}`);
      // The suites that speak HTTP through the suites' fixtures (not the browser ones) show the exchanges on the failed check.
      if (readFileSync(join(ROOT, file), 'utf8').includes("from '../support/fixtures.js'")) {
        assert.match(faulty.output, new RegExp(`› ${escapeRegExp(failed.title)} .*› `), 'the failure is reported on a check step');
        assert.match(faulty.output, /attachment #\d+: \d+ [A-Z]+ \/\S* -> \d{3}/, 'the failed step carries the HTTP transcripts');
      }
      const clean = await runner.run([file], [], { title: failed.title });
      assert.equal(clean.status, 0, clean.output);
      assert.equal(clean.passed, 1, `the test that failed, "${failed.title}", passes without the fault`);
      t.diagnostic(`caught by "${failed.title}": ${failed.error} (${faulty.seconds.toFixed(1)} s; unfaulted ${clean.seconds.toFixed(1)} s)`);
    });
  }
});

describe('the projects that do not run against the mock', () => {
  test('a corrupted field fails the oracle project: Prism reports the violation', async () => {
    const run = await playwright(['--project', 'oracle', '--grep', 'ahGetAccounts:'], { GREX_MOCK_ARGS: `--fault '${JSON.stringify({ kind: 'set-field', operationId: 'ahGetAccounts', field: 'accountNumber', value: 42 })}'` });
    try {
      assert.equal(run.status, 1, run.output);
      assert.match(run.output, /Prism \(the independent oracle\) reported contract violations/);
      assert.ok(existsSync(join(run.reports, 'oracle', 'grex-apis.openapi.json')), 'the oracle document is written where GREX_SUITE_REPORTS says');
    } finally {
      rmSync(run.reports, { recursive: true, force: true });
    }
  });

  test('certify fails a client that leaves out required headers', async () => {
    const run = await playwright(['--project', 'certify'], { GREX_CLIENT_CMD: `${process.execPath} --import tsx fixtures/clients/bad/missing-headers.ts`, GREX_CLIENT_TIMEOUT: '60' }, 240_000);
    try {
      assert.equal(run.status, 1, run.output);
      assert.match(run.output, /required-headers/);
    } finally {
      rmSync(run.reports, { recursive: true, force: true });
    }
  });

  test('without a Chromium, the project prints its own one line, not Playwright\'s install box', async () => {
    const missing = join(scratch, 'no-chromium');
    const run = await playwright(['--project', 'mock'], { GREX_CHROMIUM: missing });
    rmSync(run.reports, { recursive: true, force: true });
    assert.equal(run.status, 1, run.output);
    assert.equal(run.output.trim(), `playwright: GREX_CHROMIUM=${missing}: no such file. Point it at a Chromium, or unset it to use Playwright's own or the system's.`);
  });
});

describe("the suites follow the contracts the mock serves: G-REX's own documents (GREX_CONTRACTS)", () => {
  const published = join(scratch, 'published');

  test('the contract suite tests the operations of the served documents: the new one answered from its example, the renamed field', async () => {
    writeDemoContracts(published);
    const run = await playwright(['suites/contracts/get-operations.spec.ts', '--project', 'mock', '--grep', 'Auctions_Get:|ahGetAccounts:|AccountHolders_Get:'], { GREX_CONTRACTS: published });
    try {
      assert.equal(run.status, 0, run.output);
      assert.match(run.output, /3 passed/);
    } finally {
      rmSync(run.reports, { recursive: true, force: true });
    }
  });

  test("a mock that drops G-REX's renamed field fails it, naming the field of G-REX's document", async () => {
    writeDemoContracts(published);
    const fault = { kind: 'remove-field', operationId: 'ahGetAccounts', field: 'accountName' };
    const run = await playwright(['suites/contracts/get-operations.spec.ts', '--project', 'mock', '--grep', 'ahGetAccounts:'], { GREX_CONTRACTS: published, GREX_MOCK_ARGS: `--fault '${JSON.stringify(fault)}'` });
    try {
      assert.equal(run.status, 1, run.output);
      assert.match(run.output, /ahGetAccounts 200 body \/0 must have required property 'accountName'/);
    } finally {
      rmSync(run.reports, { recursive: true, force: true });
    }
  });
});

describe('the demo project', () => {
  test('without DEMO settings it is skipped with one line saying what to set', async () => {
    const run = await playwright(['--project', 'demo']);
    rmSync(run.reports, { recursive: true, force: true });
    assert.equal(run.status, 0, run.output);
    const lines = run.output.split('\n').filter((line) => line.startsWith('demo project skipped: '));
    assert.equal(lines.length, 1, run.output);
    assert.match(lines[0], /GREX_DEMO_POSTMAN_ENV .*GREX_DEMO_B2C_ENV .*GREX_DEMO_REFRESH_TOKEN/);
    assert.match(run.output, /1 skipped/);
  });

  test('a DEMO environment file that is not there stops the run with one line naming it', async () => {
    const run = await playwright(['--project', 'demo'], { GREX_DEMO_POSTMAN_ENV: join(scratch, 'nowhere.json'), GREX_DEMO_APP_ID: 'x', GREX_DEMO_REFRESH_TOKEN: 'x' });
    rmSync(run.reports, { recursive: true, force: true });
    assert.equal(run.status, 2, run.output);
    assert.equal(run.output.trim(), `demo project: GREX_DEMO_POSTMAN_ENV=${join(scratch, 'nowhere.json')}: no such file`);
  });

  describe('against a second mock playing DEMO, configured as a user would', () => {
    let standIn: StartedMock;
    after(() => standIn?.stop());

    test('runs green inside the fair-use budget, pausing instead of reaching a 429, and the report says what it spent', async (t) => {
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

      const run = await playwright(
        ['--project', 'demo'],
        {
          GREX_DEMO_POSTMAN_ENV: join(postman, 'grex-local.postman_environment.json'),
          GREX_DEMO_B2C_ENV: join(postman, 'grex-b2c-gcrfdemo.postman_environment.json'),
          GREX_DEMO_REFRESH_TOKEN: refresh.refresh_token,
          GREX_BUDGET_LIMITS: '10/2',
          GREX_BUDGET_SHARE: '0.5',
          GREX_BUDGET_FILE: budgetFile,
        },
        300_000,
        { reports: true },
      );
      try {
        assert.equal(run.status, 0, run.output);
        assert.doesNotMatch(run.output, /demo project skipped/);
        assert.match(run.output, /\d+ passed/);
        const summary = /fair-use budget for .*: peak (\d+) of 5 per 2 s.*this run (\d+) requests, paused (\d+) times? \(([\d.]+) s\).*/.exec(run.output);
        assert.ok(summary, run.output);
        const [, peak, requests, pauses, paused] = summary.map(Number);
        assert.ok(peak <= 5, `the budget's share was kept: ${summary[0]}`);
        assert.ok(requests > 10 && pauses > 0 && paused > 0, `the run paused: ${summary[0]}`);
        assert.ok(run.seconds >= paused, 'the run took at least its pauses');
        t.diagnostic(`${summary[0]}; the run took ${run.seconds.toFixed(1)} s; ${/\d+ passed/.exec(run.output)?.[0]}, ${/\d+ skipped/.exec(run.output)?.[0] ?? 'none skipped'}`);

        // The same line in the Allure results, as a global attachment of the run.
        const results = join(run.reports, 'allure-results');
        const globals = readdirSync(results).filter((file) => file.endsWith('-globals.json')).map((file) => JSON.parse(readFileSync(join(results, file), 'utf8')) as { attachments: { name: string; source: string }[] });
        const budget = globals.flatMap((entry) => entry.attachments).find((attachment) => attachment.name === 'fair-use budget');
        assert.ok(budget, 'the Allure results carry the budget');
        assert.equal(readFileSync(join(results, budget.source), 'utf8').trim(), summary[0].trim());

        const journal = await (await fetch(`${standIn.url}/__admin/journal`)).text();
        const exchanges = journal.trim().split('\n').map((line) => JSON.parse(line) as { request: { url: string; method?: string }; response: { status: number } });
        const grex = exchanges.filter((exchange) => !exchange.request.url.includes('.onmicrosoft.com/'));
        assert.equal(grex.length, requests, 'every G-REX request went through the budget');
        assert.deepEqual(exchanges.filter((exchange) => exchange.response.status === 429), [], 'the stand-in never answered 429');
        assert.ok(exchanges.every((exchange) => !['POST', 'PUT', 'PATCH', 'DELETE'].includes(exchange.request.method ?? '') || exchange.request.url.includes('/oauth2/')), 'read-only by default: no writes reached DEMO');
        assert.ok(JSON.parse(readFileSync(budgetFile, 'utf8')).calls, 'the budget is remembered in its file');
      } finally {
        rmSync(run.reports, { recursive: true, force: true });
      }
    });
  });
});
