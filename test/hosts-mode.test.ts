import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { chromium } from '@playwright/test';
import { Agent, request } from 'undici';
import { CHROMIUM_ARGS, chromiumExecutable } from '../suites/support/browser.js';
import { ROOT, startCliMock, type StartedMock } from './support/cli.js';

/**
 * Hosts mode as its users run it: `grex-harness mock --tls --port 443`, the
 * real host names pointed at this machine (a hosts entry) and the printed
 * authority trusted; then clients that nobody here wrote: MSAL Node, called
 * as its documentation shows, and Chromium on the registry UI. Every use of
 * port 443 in the tests is in this file, whose tests run one after another.
 * Binding 443 needs root (CI runs as root); elsewhere the file is skipped
 * with one line saying why.
 */

const PASSWORD = 'Grex-Mock-2026!';
const DEMO_API = 'eexfrancedemoapi.grexel.com';
const DEMO_B2C = 'gcrfdemo.b2clogin.com';

/** Why port 443 cannot be used here, or undefined when it can. */
function port443(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === 'EACCES'
          ? 'hosts mode on port 443 needs root (or CAP_NET_BIND_SERVICE) to bind the port; run as root, as CI does'
          : `port 443 on 127.0.0.1 is not free (${error.code}); stop what listens there`,
      ),
    );
    probe.listen(443, '127.0.0.1', () => probe.close(() => resolve(undefined)));
  });
}

const unavailable = await port443();
let mock: StartedMock;
let ca: string;
let agent: Agent;

before(async () => {
  if (unavailable) return;
  mock = await startCliMock(['--tls', '--port', '443']);
  const authority = /trust the certificate authority (\S+)/.exec(mock.banner);
  assert.ok(authority, mock.banner);
  ca = readFileSync(authority[1], 'utf8');
  agent = new Agent({ connect: { ca } });
});
after(async () => {
  await agent?.close();
  await mock?.stop();
});

/** The mock's admin API, over HTTPS at localhost (one of the certificate's names): its text. */
async function admin(path: string): Promise<string> {
  const reply = await request(`https://localhost${path}`, { dispatcher: agent });
  const text = await reply.body.text();
  assert.equal(reply.statusCode, 200, text);
  return text;
}

const adminJson = async (path: string): Promise<any> => JSON.parse(await admin(path));

/** A banner line's value: `  {name} {value}`. */
function bannerValue(pattern: RegExp): string {
  const found = pattern.exec(mock.banner);
  assert.ok(found, `${pattern} in the banner:\n${mock.banner}`);
  return found[1];
}

describe('hosts mode on port 443, at the real host names', { skip: unavailable }, () => {
  it('prints the real host names in its banner: both environments, both B2C hosts, and the DEMO AppId to use', () => {
    assert.match(mock.banner, /Postman environment for DEMO, eexfrancedemoapi\.grexel\.com,/);
    assert.match(mock.banner, /BaseURIManagementAPI\s+https:\/\/eexfrancedemoapi\.grexel\.com\/managementapi\n/);
    assert.match(mock.banner, /BaseURIManagementAPI\s+https:\/\/eexfranceapi\.grexel\.com\/managementapi\n/);
    assert.match(mock.banner, /DEMO {2}B2CHost https:\/\/gcrfdemo\.b2clogin\.com {2}B2CDirectoryName gcrfdemo/);
    assert.match(mock.banner, /PROD {2}B2CHost https:\/\/gcrfr\.b2clogin\.com {2}B2CDirectoryName gcrfr/);
    assert.match(bannerValue(/DEMO .*\n\s+ClientId \S+ {2}AppId (\S+)/), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(mock.banner, /registry UI does \(PKCE with MFA\): https:\/\/eexfrancedemoapi\.grexel\.com\/\n/);
    assert.doesNotMatch(mock.banner, /BaseURI\w+\s+https:\/\/127\.0\.0\.1/);
  });

  it('MSAL Node signs in with PKCE and MFA, redeems the code, refreshes, and the token opens the DEMO API', async () => {
    const appId = bannerValue(/DEMO .*\n\s+ClientId \S+ {2}AppId (\S+)/);
    const user = 'eolien-trader';
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', join(ROOT, 'test/support/hosts-entry.ts'), join(ROOT, 'test/support/msal-client.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        // What a user of hosts mode has: a hosts entry for the real names, and the printed authority trusted.
        GREX_HOSTS_ENTRY: [DEMO_API, DEMO_B2C, 'localhost'].join(','),
        NODE_EXTRA_CA_CERTS: bannerValue(/trust the certificate authority (\S+)/),
        GREX_APP_ID: appId,
        GREX_USER: user,
        GREX_PASSWORD: PASSWORD,
        GREX_SMS_URL: `https://localhost/__admin/mfa?user=${user}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, `${stderr}\n${stdout}`);
    const result = JSON.parse(stdout);
    const apiScope = `https://gcrfdemo.onmicrosoft.com/${appId}/user_impersonation`;

    // MSAL asks for openid, profile and offline_access beside the API scope, at authorize and at the token endpoint.
    const asked = new URL(result.authorizationUrl);
    assert.equal(asked.host, DEMO_B2C);
    assert.deepEqual(asked.searchParams.get('scope')?.split(' ').sort(), [apiScope, 'offline_access', 'openid', 'profile'].sort());
    assert.equal(asked.searchParams.get('code_challenge_method'), 'S256');
    const tokenRequests = (await admin('/__admin/journal'))
      .trim()
      .split('\n')
      .map((line: string) => JSON.parse(line))
      .filter((exchange: any) => exchange.operationId === 'b2cRedeemToken');
    assert.deepEqual(
      tokenRequests.map((exchange: any) => [new URLSearchParams(exchange.request.body).get('grant_type'), exchange.response.status]),
      [
        ['authorization_code', 200],
        ['refresh_token', 200],
      ],
    );
    for (const exchange of tokenRequests) assert.match(new URLSearchParams(exchange.request.body).get('scope') ?? '', /\bprofile\b/);

    const signedIn = (await adminJson('/__admin/users')).find((candidate: any) => candidate.username === user);
    assert.equal(result.byCode.idTokenClaims.name, signedIn.displayName);
    assert.equal(result.byCode.idTokenClaims.sub, result.byCode.accessTokenClaims.oid);
    assert.equal(result.byCode.idTokenClaims.tfp, 'B2C_1_SignIn');
    assert.ok(result.byCode.scopes.includes(apiScope), JSON.stringify(result.byCode.scopes));
    assert.equal(result.byCode.accessTokenClaims.aud, appId);
    assert.equal(result.refreshed.fromCache, false, 'forceRefresh went to the token endpoint');
    assert.equal(result.refreshed.accessTokenClaims.oid, result.byCode.accessTokenClaims.oid);
    assert.equal(result.api.status, 200, result.api.body);
    assert.equal(JSON.parse(result.api.body).length, 1);
  });

  it("takes the registry UI's reply URL as a browser sends it on port 443, without :443, and with it", async () => {
    const page = await admin('/');
    const clientId = /"clientId":"([^"]+)"/.exec(page)?.[1];
    assert.ok(clientId, page);
    for (const replyUrl of [`https://${DEMO_API}/`, `https://${DEMO_API}:443/`, 'https://localhost/', 'https://127.0.0.1/']) {
      const query = new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: replyUrl, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
      const signIn = await admin(`/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0/authorize?${query}`);
      assert.match(signIn, /id="localAccountForm"/, replyUrl);
    }
  });

  it("signs in on the registry UI page in Chromium at https://eexfrancedemoapi.grexel.com/, and shows an accented name as it is", async () => {
    const executablePath = chromiumExecutable();
    assert.notEqual(executablePath, null, 'a Chromium (npm test installs one: scripts/ensure-browser.ts)');
    // Chromium trusts the mock's certificate by its key (what the printed authority signed), and resolves the real names here.
    const spki = await servedKeyHash(DEMO_API);
    const browser = await chromium.launch({
      executablePath: executablePath ?? undefined,
      args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${DEMO_API} 127.0.0.1, MAP ${DEMO_B2C} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spki}`],
    });
    try {
      const user = (await adminJson('/__admin/users')).find((candidate: any) => candidate.username === 'eolien-trader');
      assert.match(user.displayName, /[^\x00-\x7f]/, 'a fixture user with an accented name');
      const page = await browser.newPage();
      await page.goto(`https://${DEMO_API}/`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/gcrfdemo\.onmicrosoft\.com\/B2C_1_SignIn\/oauth2\/v2\.0\/authorize\?/);
      await page.locator('input[name="username"]').fill(user.username);
      await page.locator('input[name="password"]').fill(PASSWORD);
      await page.locator('#next').click();
      await page.locator('input[name="code"]').fill((await adminJson(`/__admin/mfa?user=${user.username}`)).code);
      await page.locator('#verifyCode').click();
      await page.locator('#signed-in').waitFor({ state: 'visible', timeout: 15_000 });
      assert.equal(new URL(page.url()).origin, `https://${DEMO_API}`);
      assert.equal(await page.locator('#error').textContent(), '');
      const shown = await page.locator('#who').textContent();
      assert.ok(shown?.startsWith(`${user.displayName} (`), `"${shown}" starts with the name as written, "${user.displayName}"`);
      const status = await page.evaluate(async () => {
        const token = sessionStorage.getItem('access_token');
        const reply = await fetch('/managementapi/AH/managementapi/Accounts?$top=1&$skip=0', { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
        return reply.status;
      });
      assert.equal(status, 200, 'the UI token opens the DEMO API it was signed in on');
    } finally {
      await browser.close();
    }
  });
});

/** The base64 SHA-256 of the public key the mock serves for `name`: Chromium's --ignore-certificate-errors-spki-list form. */
function servedKeyHash(name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: 443, servername: name, ca }, () => {
      const certificate = new X509Certificate(socket.getPeerCertificate().raw);
      socket.end();
      resolve(createHash('sha256').update(certificate.publicKey.export({ type: 'spki', format: 'der' })).digest('base64'));
    });
    socket.once('error', reject);
  });
}
