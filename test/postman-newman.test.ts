import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, ROOT } from './support/cli.js';
import { startTestMock, type TestMock } from './support/mock.js';

/**
 * The exports as an integrator uses them (manual chapter 2.2.2), generated
 * for the mock by `grex-harness postman` and run by newman: every collection
 * with the commands the export prints, and the token use cases.
 */
let mock: TestMock;
let printed = '';
const dir = mkdtempSync(join(tmpdir(), 'grex-newman-'));
const NEWMAN = join(ROOT, 'node_modules', '.bin', 'newman');
type NewmanSummary = { run: { failures: { source?: { name?: string }; error: { message: string } }[] } };
const newman = createRequire(import.meta.url)('newman') as {
  run(options: { collection: string; folder?: string; environment?: string; reporters: string[] }, done: (error: Error | null, summary: NewmanSummary) => void): void;
};
before(async () => {
  mock = await startTestMock('postman-newman');
  const result = runCli(['postman', '--out', dir, '--base-url', mock.url]);
  assert.equal(result.status, 0, result.stderr);
  printed = result.stdout;
});
after(async () => {
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Environment = { values: { key: string; value: string }[] };
const valueOf = (environment: Environment, key: string): string | undefined => environment.values.find((entry) => entry.key === key)?.value;

/** A refresh token for eolien-trader and the DEMO Postman client: an authorization code (setup) redeemed over HTTP. */
async function refreshToken(environment: Environment): Promise<string> {
  const user = mock.app.registry.usersByName.get('eolien-trader');
  assert.ok(user);
  const code = mock.app.b2c.opaqueToken();
  const scope = `https://gcrfdemo.onmicrosoft.com/${valueOf(environment, 'AppId')}/user_impersonation openid offline_access`;
  mock.app.b2c.codes.set(code, {
    code,
    tenant: 'gcrfdemo',
    policy: 'B2C_1_SignIn',
    clientId: valueOf(environment, 'ClientId') as string,
    redirectUri: valueOf(environment, 'ReplyUrl') as string,
    scope,
    userId: user.userId,
    issuedAt: mock.app.clock.now(),
    redeemed: false,
  });
  const form = new URLSearchParams({ grant_type: 'authorization_code', client_id: valueOf(environment, 'ClientId') as string, scope, code, redirect_uri: valueOf(environment, 'ReplyUrl') as string });
  const reply = await mock.request('POST', '/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0/token', { body: form.toString(), contentType: 'application/x-www-form-urlencoded' });
  assert.equal(reply.status, 200, reply.text);
  return reply.json.refresh_token as string;
}

type Journaled = { operationId?: string; request: { method: string; url: string }; response: { status: number; headers: Record<string, string>; body?: string } };

describe('every exported collection under newman, as the export says to run it', () => {
  it('answers every request of every collection with success on a fresh mock, each as its example user', async () => {
    // The walk-through `grex-harness postman` prints: a reset, then one newman run per collection and example user.
    const steps = printed.split('\n').filter((line) => line.startsWith('  curl ') || line.startsWith('  npx newman run '));
    assert.match(steps[0] ?? '', /^ {2}curl -s -X POST \S+\/__admin\/reset$/, printed);
    const runs = steps.slice(1).map((line) => line.trim().split(/\s+/).slice(2));
    assert.ok(runs.length >= 7, printed);
    const reset = await mock.admin('POST', '/__admin/reset');
    assert.equal(reset.status, 200);
    for (const args of runs) {
      // `run <collection> [--folder F] -e <environment>`, through newman's library (its documented API; one process, not one per run).
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { folder: { type: 'string' }, environment: { type: 'string', short: 'e' } } });
      assert.deepEqual(positionals.slice(0, 1), ['run'], args.join(' '));
      const summary = await new Promise<NewmanSummary>((resolve, reject) =>
        newman.run({ collection: positionals[1], folder: values.folder, environment: values.environment, reporters: [] }, (error, result) => (error ? reject(error) : resolve(result))),
      );
      const failures = summary.run.failures.map((failure) => `${failure.source?.name}: ${failure.error.message}`);
      assert.deepEqual(failures, [], `newman ${args.join(' ')}`);
    }
    const journal = await mock.admin('GET', '/__admin/journal');
    const exchanges = journal.text.trim().split('\n').map((line) => JSON.parse(line) as Journaled);
    // Every answer a success (B2C's logout and sign-in redirect are 302s), none a refusal of an example, none a self-check failure.
    const refused = exchanges.filter((exchange) => exchange.response.status >= 400 || exchange.response.headers['x-grex-self-check']);
    assert.deepEqual(
      refused.map((exchange) => `${exchange.response.status} ${exchange.request.method} ${exchange.request.url}: ${exchange.response.body?.slice(0, 300)}`),
      [],
    );
    const answered = new Set(exchanges.map((exchange) => exchange.operationId));
    const missing = mock.app.router.routes.map((route) => route.operationId).filter((operationId) => !answered.has(operationId));
    assert.deepEqual(missing, [], 'every operation of every contract ran');
  });

  it('sends nothing elsewhere than the environment says: no host in any collection, the mock in its environments', () => {
    const hosts = new Set<string>();
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.postman_collection.json'))) {
      const collection = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { item: unknown[]; variable?: { value?: unknown }[] };
      const walk = (items: { item?: unknown[]; request?: { url: string | { host?: string[] } } }[]): void => {
        for (const item of items) {
          if (item.item) walk(item.item as typeof items);
          const url = item.request?.url;
          if (url) hosts.add(typeof url === 'string' ? url.split('/')[0] : (url.host ?? []).join('.'));
        }
      };
      walk(collection.item as Parameters<typeof walk>[0]);
      for (const variable of collection.variable ?? []) assert.doesNotMatch(String(variable.value), /^https?:/, `${file} has a URL in its variables`);
    }
    assert.deepEqual([...hosts].sort(), [
      '{{B2CHost}}',
      '{{BaseURICertificateCreationAPI}}',
      '{{BaseURIManagementAPI}}',
      '{{BaseURIMasterDataAPI}}',
      '{{BaseURIPublicReportsAPI}}',
      '{{BaseURIReportsAPI}}',
      '{{BaseURITransactionAPI}}',
    ]);
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.postman_environment.json'))) {
      const environment = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Environment;
      for (const entry of environment.values.filter((value) => /^(BaseURI|B2CHost|GrexHarnessAdmin)/.test(value.key))) {
        assert.ok(entry.value.startsWith(mock.url), `${file} ${entry.key} is ${entry.value}`);
      }
    }
  });

  it('names DEMO or PROD only when asked for by name, and honours PORT', () => {
    const prod = mkdtempSync(join(tmpdir(), 'grex-postman-prod-'));
    const local = mkdtempSync(join(tmpdir(), 'grex-postman-port-'));
    try {
      const asked = runCli(['postman', '--out', prod, '--target', 'prod']);
      assert.equal(asked.status, 0, asked.stderr);
      const grex = JSON.parse(readFileSync(join(prod, 'grex-prod.postman_environment.json'), 'utf8')) as Environment;
      assert.equal(valueOf(grex, 'BaseURIManagementAPI'), 'https://eexfranceapi.grexel.com/managementapi');
      const b2c = JSON.parse(readFileSync(join(prod, 'grex-b2c-gcrfr.postman_environment.json'), 'utf8')) as Environment;
      assert.equal(valueOf(b2c, 'B2CHost'), 'https://gcrfr.b2clogin.com');
      assert.equal(valueOf(b2c, 'GrexHarnessAdmin'), undefined, 'no admin API on a real tenant');
      assert.ok(!readdirSync(prod).some((name) => name.startsWith('grex-local')), 'no mock environment when PROD was asked for');
      const demo = runCli(['postman', '--out', prod, '--target', 'demo']);
      assert.equal(demo.status, 0, demo.stderr);
      const demoB2c = JSON.parse(readFileSync(join(prod, 'grex-b2c-gcrfdemo.postman_environment.json'), 'utf8')) as Environment;
      assert.equal(valueOf(demoB2c, 'B2CHost'), 'https://gcrfdemo.b2clogin.com');
      assert.equal(valueOf(demoB2c, 'AppId'), '', "DEMO's API application id is not published: left for the user, not the mock's stand-in");
      assert.match(demo.stdout, /Set AppId in grex-b2c-gcrfdemo/);

      const byPort = runCli(['postman', '--out', local], { env: { PORT: '4711' } });
      assert.equal(byPort.status, 0, byPort.stderr);
      assert.match(byPort.stdout, /for the mock at http:\/\/127\.0\.0\.1:4711, wrote:/);
      assert.match(byPort.stdout, /grex-local-eolien-root\.postman_environment\.json +the mock as eolien-root \(AH Root, Éolien du Ponant SA\)/);
      assert.match(byPort.stdout, /npx newman run \S+management\.postman_collection\.json --folder ib-root -e \S+grex-local-ib-root\.postman_environment\.json/);
      const environment = JSON.parse(readFileSync(join(local, 'grex-local-eolien-root.postman_environment.json'), 'utf8')) as Environment;
      assert.equal(valueOf(environment, 'BaseURITransactionAPI'), 'http://127.0.0.1:4711/transactionapi');
      assert.equal(valueOf(environment, 'Username'), 'eolien-root');

      for (const [args, message] of [
        [['--target', 'staging'], /--target must be mock, demo or prod/],
        [['--target', 'demo', '--base-url', 'http://127.0.0.1:4600'], /--base-url is the mock's address/],
        [['--base-url', 'http://127.0.0.1:4600/managementapi'], /--base-url must be an origin/],
      ] as const) {
        const refused = runCli(['postman', '--out', local, ...args]);
        assert.equal(refused.status, 2, refused.stdout);
        assert.match(refused.stderr, message);
      }
    } finally {
      rmSync(prod, { recursive: true, force: true });
      rmSync(local, { recursive: true, force: true });
    }
  });
});

describe('the generated token collection under newman', () => {
  it('refreshes against the mock, stores the new tokens, and the access token works on the APIs', async () => {
    const environmentFile = join(dir, 'grex-b2c-gcrfdemo.postman_environment.json');
    const environment = JSON.parse(readFileSync(environmentFile, 'utf8')) as Environment;
    const first = await refreshToken(environment);
    (environment.values.find((entry) => entry.key === 'RefreshToken') as { value: string }).value = first;
    writeFileSync(environmentFile, JSON.stringify(environment));
    const exported = join(dir, 'exported.json');
    // Asynchronously: the mock answers from this very process.
    const newman = await promisify(execFile)(
      NEWMAN,
      ['run', join(dir, 'grex-token-use-cases.postman_collection.json'), '-e', environmentFile, '--folder', 'Get access token via refresh token', '--export-environment', exported, '--reporters', 'cli', '--bail'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.match(newman.stdout, /B2C answers new tokens/);
    const after = JSON.parse(readFileSync(exported, 'utf8')) as Environment;
    const token = valueOf(after, 'Token');
    assert.match(token ?? '', /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.notEqual(valueOf(after, 'RefreshToken'), first, 'the refresh token rotated');
    const accounts = await mock.request('GET', '/managementapi/AH/managementapi/Accounts?$top=2', { token });
    assert.equal(accounts.status, 200, accounts.text);
    assert.equal(accounts.json.length, 2);
  });

  it("fixes the manual's defects: one AppId and ReplyUrl, the host in a variable, S256, no disabled offline_access key", () => {
    const text = readFileSync(join(dir, 'grex-token-use-cases.postman_collection.json'), 'utf8');
    assert.doesNotMatch(text, /Appld|ReplyUri|\.b2clogin\.com|"disabled": true|clientSecret/);
    assert.match(text, /\{\{B2CHost\}\}\/\{\{B2CDirectoryName\}\}\.onmicrosoft\.com/);
    assert.match(text, /"code_challenge_method"[\s\S]{0,40}"S256"/);
    for (const tenant of ['gcrfdemo', 'gcrfr']) {
      const environment = JSON.parse(readFileSync(join(dir, `grex-b2c-${tenant}.postman_environment.json`), 'utf8')) as Environment;
      assert.deepEqual(environment.values.map((entry) => entry.key), ['ClientId', 'B2CDirectoryName', 'SignInPolicyId', 'AppId', 'ReplyUrl', 'B2CHost', 'RefreshToken', 'Token', 'IdToken', 'Username', 'GrexHarnessAdmin']);
      assert.match(valueOf(environment, 'AppId') ?? '', /^[0-9a-f-]{36}$/, `${tenant} AppId is an application id`);
      assert.equal(valueOf(environment, 'B2CHost'), mock.url);
    }
  });
});
