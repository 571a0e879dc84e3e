import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, runCliAsync } from './support/cli.js';

/**
 * `grex-harness certify` on the reference client and on each deliberately bad
 * one (fixtures/clients/), as an integrator runs it: through the CLI, a
 * fresh mock each, reports read back from disk. Each bad client names the
 * rules it breaks in its `@breaks` tag; it must fail exactly those.
 */
const CLI = join(ROOT, 'cli', 'grex-harness.ts');
const CLIENTS = join(ROOT, 'fixtures', 'clients');
const work = mkdtempSync(join(tmpdir(), 'grex-certify-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Certified {
  status: number | null;
  stdout: string;
  stderr: string;
  report: { passed: boolean; reason?: string; rules: { rule: string; passed: boolean; evidence: unknown[] }[]; client: { outcome: { kind: string; code?: number } } };
  out: string;
}

function certify(name: string, file: string, extra: string[] = []): Promise<Certified> {
  const out = join(work, name);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'certify', '--out', out, '--timeout', '60', ...extra, '--', process.execPath, '--import', 'tsx', file], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      try {
        resolve({ status, stdout, stderr, out, report: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) });
      } catch (error) {
        reject(new Error(`${name}: no report (${(error as Error).message})\n${stdout}\n${stderr}`));
      }
    });
  });
}

/** Runs the tasks a few at a time: each is two Node processes on a small machine. */
async function pooled<T>(tasks: (() => Promise<T>)[], size: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]();
      }
    }),
  );
  return results;
}

const failedRules = (certified: Certified) => certified.report.rules.filter((rule) => !rule.passed).map((rule) => rule.rule).sort();

const bad = readdirSync(join(CLIENTS, 'bad'))
  .filter((file) => file.endsWith('.ts') && file !== 'support.ts')
  .map((file) => {
    const source = readFileSync(join(CLIENTS, 'bad', file), 'utf8');
    const breaks = /@breaks ([^\n*]+)/.exec(source)?.[1].trim().split(/\s+/).sort();
    assert.ok(breaks?.length, `${file} declares the rules it breaks (@breaks)`);
    return { name: file.replace(/\.ts$/, ''), file: join(CLIENTS, 'bad', file), breaks };
  });

const all = pooled(
  [{ name: 'reference', file: join(CLIENTS, 'reference.ts'), breaks: [] as string[] }, ...bad].map((client) => async () => ({ client, certified: await certify(client.name, client.file) })),
  4,
);

describe('certify: the reference client and the bad clients', () => {
  it('passes the reference client on every rule, exit 0, with every report written', async () => {
    const { certified } = (await all)[0];
    assert.equal(certified.status, 0, certified.stdout + certified.stderr);
    assert.deepEqual(failedRules(certified), []);
    assert.equal(certified.report.client.outcome.kind, 'exited');
    assert.match(certified.stdout, /G-REX client grade: PASSED \(14 of 14 rules passed\)/);
    const files = readdirSync(certified.out).sort();
    for (const file of ['allure-results', 'client.log', 'journal.ndjson', 'junit.xml', 'report.html', 'report.json', 'summary.txt']) assert.ok(files.includes(file), `${file} in ${files.join(', ')}`);
    const allure = readdirSync(join(certified.out, 'allure-results')).filter((file) => file.endsWith('-result.json'));
    assert.equal(allure.length, 14);
    const html = readFileSync(join(certified.out, 'report.html'), 'utf8');
    assert.match(html, /<svg[^>]*aria-label="requests per minute against the limit of 100"/);
    assert.match(html, /aria-label="requests per hour against the limit of 500"/);
  });

  for (const [index, client] of bad.entries()) {
    it(`fails ${client.name} on exactly ${client.breaks.join(', ')} (exit 1 unless only warnings, evidence for each)`, async () => {
      const { certified } = (await all)[index + 1];
      assert.deepEqual(failedRules(certified), client.breaks, certified.stdout);
      const errors = certified.report.rules.filter((rule) => !rule.passed && (rule as { severity?: string }).severity === 'error');
      assert.equal(certified.status, errors.length ? 1 : 0, certified.stdout + certified.stderr);
      assert.equal(certified.report.passed, errors.length === 0);
      for (const rule of certified.report.rules.filter((candidate) => !candidate.passed)) assert.ok(rule.evidence.length > 0, `${rule.rule} has evidence`);
      const junit = readFileSync(join(certified.out, 'junit.xml'), 'utf8');
      // A client that never got past authentication (expired-token) also fails the api-traffic case.
      assert.equal((junit.match(/<failure /g) ?? []).length, errors.length + (certified.report.reason ? 1 : 0));
    });
  }
});

describe('certify: a reused --out', () => {
  it('grades each run on its own traffic: the reference client certified twice into one folder passes twice', async () => {
    await all;
    const file = join(CLIENTS, 'reference.ts');
    const first = await certify('rerun', file);
    const second = await certify('rerun', file);
    for (const run of [first, second]) {
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.deepEqual(failedRules(run), []);
    }
    const ids = readFileSync(join(second.out, 'journal.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: number }).id);
    assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => i + 1), 'the journal is the second run alone');
    assert.equal((second.report as unknown as { exchanges: number }).exchanges, ids.length);
    assert.equal(readdirSync(join(second.out, 'allure-results')).filter((name) => name.endsWith('-result.json')).length, 14, 'one Allure result per rule, not two runs of them');
  });
});

describe('certify: usage and clients that do not finish', () => {
  const run = (args: string[]) => runCliAsync(['certify', ...args]);

  it('refuses a missing command and a bad --timeout with exit 2 and one line', async () => {
    const [none, timeout] = await Promise.all([run([]), run(['--timeout', 'soon', '--', 'true'])]);
    assert.equal(none.status, 2);
    assert.equal(none.stderr, 'grex-harness certify: no client command: grex-harness certify [options] -- <command> [args...]\n');
    assert.equal(timeout.status, 2);
    assert.match(timeout.stderr, /^grex-harness certify: --timeout must be a number of seconds from 1 to 86400, got "soon"\n$/);
  });

  it('does not certify a client that sent no API request (sh -c env): exit 4, and the reports say why', async () => {
    const out = join(work, 'no-traffic');
    const result = await run(['--out', out, '--', 'sh', '-c', 'env']);
    assert.equal(result.status, 4, result.stdout + result.stderr);
    assert.match(result.stdout, /^G-REX client grade: FAILED: no request reached the six G-REX APIs/);
    assert.doesNotMatch(result.stdout, /PASSED/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(report.passed, false);
    assert.equal(report.apiRequests, 0);
    assert.deepEqual(report.client.outcome, { kind: 'exited', code: 0 });
    assert.match(readFileSync(join(out, 'junit.xml'), 'utf8'), /<failure message="no request reached the six G-REX APIs[^"]*" type="api-traffic">/);
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<p class="reason">No request reached the six G-REX APIs/);
    // The client did get its environment: it printed it.
    assert.match(readFileSync(join(out, 'client.log'), 'utf8'), /^BaseURIManagementAPI=http:\/\/127\.0\.0\.1:\d+\/managementapi$/m);
  });

  it('does not certify a client whose every API request was answered 401 (a token this B2C did not issue): exit 4', async () => {
    const out = join(work, 'all-401');
    // A client that brings its own token (DEMO's, say) instead of signing in to the B2C it was given.
    const client = "fetch(process.env.BaseURIManagementAPI + '/AH/managementapi/Accounts?$top=1&$skip=0', { headers: { accept: 'application/json', 'user-agent': 'own-token/1.0', authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln' } }).then((answer) => console.log(answer.status))";
    const result = await run(['--out', out, '--', process.execPath, '-e', client]);
    assert.equal(result.status, 4, result.stdout + result.stderr);
    assert.match(result.stdout, /^G-REX client grade: FAILED: every request to the six G-REX APIs \(1\) was answered 401/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.deepEqual([report.passed, report.apiRequests, report.authenticatedRequests], [false, 1, 0]);
    assert.match(readFileSync(join(out, 'junit.xml'), 'utf8'), /<failure message="every request to the six G-REX APIs \(1\) was answered 401[^"]*" type="api-traffic">/);
    assert.equal(readFileSync(join(out, 'client.log'), 'utf8').trim(), '401');
  });

  it('kills a client past --timeout and one that exits non-zero is exit 3, graded all the same', async () => {
    const hung = join(work, 'hung');
    const failed = join(work, 'failed');
    const [slow, crashed] = await Promise.all([
      run(['--timeout', '2', '--out', hung, '--', process.execPath, '-e', 'setTimeout(() => {}, 60000)']),
      run(['--out', failed, '--', process.execPath, '-e', 'process.exit(4)']),
    ]);
    assert.equal(slow.status, 3, slow.stdout + slow.stderr);
    assert.match(slow.stdout, /did not finish in 2 s and was killed/);
    assert.deepEqual(JSON.parse(readFileSync(join(hung, 'report.json'), 'utf8')).client.outcome, { kind: 'timeout', seconds: 2 });
    assert.equal(crashed.status, 3, crashed.stdout + crashed.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(failed, 'report.json'), 'utf8')).client.outcome, { kind: 'exited', code: 4 });
  });
});
