import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, ROOT } from './support/cli.js';
import { startTestMock, type TestMock } from './support/mock.js';

/**
 * The token use cases as an integrator imports them (manual chapter 2.2.2),
 * generated for the mock by `grex-harness postman`, run by newman: the
 * refresh request answers new tokens, stores them in the environment, and the
 * access token works on the APIs.
 */
let mock: TestMock;
const dir = mkdtempSync(join(tmpdir(), 'grex-newman-'));
before(async () => {
  mock = await startTestMock('postman-newman');
  const result = runCli(['postman', '--out', dir, '--base-url', mock.url]);
  assert.equal(result.status, 0, result.stderr);
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
      join(ROOT, 'node_modules', '.bin', 'newman'),
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
      assert.deepEqual(environment.values.map((entry) => entry.key), ['ClientId', 'B2CDirectoryName', 'SignInPolicyId', 'AppId', 'ReplyUrl', 'B2CHost', 'RefreshToken', 'Token']);
      assert.match(valueOf(environment, 'AppId') ?? '', /^[0-9a-f-]{36}$/, `${tenant} AppId is an application id`);
      assert.equal(valueOf(environment, 'B2CHost'), mock.url);
    }
  });
});
