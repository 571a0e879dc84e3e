import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TENANTS } from '../mock/app.js';
import { runCli, startCliMock } from './support/cli.js';
import { startTestMock, type TestMock } from './support/mock.js';

/**
 * What a newcomer meets first, over HTTP: refusals that say what to do
 * instead, pages that say how to get a token and an MFA code, and CORS for
 * browser pages of other origins.
 */
let mock: TestMock;
before(async () => {
  mock = await startTestMock('first-contact');
});
after(async () => {
  assert.equal(mock.app.selfCheckFailures, 0, 'every answer matched the contract');
  await mock.close();
});

const ORIGIN = 'http://localhost:3000';

describe('refusals that teach', () => {
  it('a $filter or $orderby _002 names the parameter, the field and why, and the fields there are', async () => {
    const path = '/masterdataapi/AH/masterdataapi/EnergySources?$top=5';
    const filter = await mock.as('eolien-root', 'GET', `${path}&$filter=${encodeURIComponent("status eq 'Active'")}`);
    assert.equal(filter.status, 400, filter.text);
    assert.equal(filter.json.responseCode, 'MASTERDATA_002');
    assert.match(filter.json.responseMessage, /Error in: \$filter: unknown field 'status' for EnergySource; fields: code, name, description, category, active\./);
    const order = await mock.as('eolien-root', 'GET', `${path}&$orderby=${encodeURIComponent('accountNumber desc')}`);
    assert.match(order.json.responseMessage, /\$orderby: unknown field 'accountNumber' for EnergySource; fields: code, name/);
    const syntax = await mock.as('eolien-root', 'GET', `${path}&$filter=${encodeURIComponent('code eq')}`);
    assert.match(syntax.json.responseMessage, /\$filter: expected a value at the end/);
  });

  it('a path that misses a route by a trailing slash, the base path or the case of a page says what would have matched', async () => {
    const cases: [string, RegExp][] = [
      ['/managementapi/AH/managementapi/Accounts/', /Did you mean \/managementapi\/AH\/managementapi\/Accounts\?/],
      ['/managementapi//AH/managementapi/Accounts', /Did you mean \/managementapi\/AH\/managementapi\/Accounts\?/],
      ['/AH/managementapi/Accounts/643003000000000003', /Did you mean \/managementapi\/AH\/managementapi\/Accounts\/643003000000000003\?/],
      ['/ManagementAPI/V2/', /Did you mean \/managementapi\/v2\/\?/],
      ['/__DOCS', /Did you mean \/__docs\/\?/],
      ['/__Admin/users', /Did you mean \/__admin\/users\?/],
      ['/nothing/here', /API paths are \{BaseURI\}\/\{AH\|IB\}\/\{apiname\}\/\{Resource\}.*listed at \/__docs\//],
    ];
    for (const [path, hint] of cases) {
      const reply = await mock.as('eolien-root', 'GET', path);
      assert.equal(reply.status, 404, `${path}: ${reply.text}`);
      assert.equal(reply.json.responseCode, 'ROUTE_001');
      assert.match(reply.json.responseMessage, hint, path);
    }
  });

  it("the MFA page says where the mock's code is", async () => {
    const authorize = new URLSearchParams({
      client_id: '9e818394-185c-47e7-8b93-714714bfcf8f',
      response_type: 'code',
      redirect_uri: 'https://gcrfdemo.b2clogin.com/oauth2/nativeclient',
      scope: `https://gcrfdemo.onmicrosoft.com/${TENANTS[0].appId}/user_impersonation openid offline_access`,
      code_challenge: 'sdogocPPmeFZ6GDiuMHGnTLZDEF7lNRmV50sJSFF2aY',
      code_challenge_method: 'S256',
    });
    const signIn = await fetch(`${mock.url}/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0/authorize?${authorize}`);
    const tx = /name="tx" value="([^"]+)"/.exec(await signIn.text())?.[1];
    assert.ok(tx);
    const form = new URLSearchParams({ tx, username: 'eolien-trader', password: 'Grex-Mock-2026!' });
    const page = await fetch(`${mock.url}/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/SelfAsserted`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    const html = await page.text();
    assert.equal(page.status, 200, html);
    const where = /the code is at <a href="([^"]+)"><code>GET \1<\/code><\/a>/.exec(html)?.[1];
    assert.equal(where, '/__admin/mfa?user=eolien-trader', html);
    const code = await mock.admin('GET', where);
    assert.match(code.json.code, /^\d{6}$/);
  });

  it("the first pages, / and /__docs/, name an icon the browser can load (without one it asks /favicon.ico, a 404 in the console)", async () => {
    for (const path of ['/', '/__docs/']) {
      const html = await fetch(`${mock.url}${path}`).then((response) => response.text());
      const href = /<link rel="icon"[^>]* href="([^"]+)"/.exec(html)?.[1];
      assert.ok(href, `${path} names its icon`);
      const icon = await fetch(new URL(href, `${mock.url}${path}`));
      assert.equal(icon.status, 200, `${path}: ${href}`);
    }
  });

  it('/__docs/ and the Authorize dialog (swagger.json) say how to get a token with a browser and without one', async () => {
    const index = await fetch(`${mock.url}/__docs/`).then((response) => response.text());
    assert.match(index, new RegExp(`curl -s -X POST ${mock.url}/__admin/token`));
    assert.match(index, new RegExp(`sign in at ${mock.url}/ as the G-REX UI does`));
    const swagger = await fetch(`${mock.url}/transactionapi/v1/swagger.json`).then((response) => response.json() as Promise<{ components: { securitySchemes: Record<string, { description: string }> } }>);
    const description = swagger.components.securitySchemes.B2CBearer.description;
    assert.match(description, /^An access token from Azure AD B2C/, "the contract's own text first");
    assert.match(description, new RegExp(`POST ${mock.url}/__admin/token`));
    assert.match(description, new RegExp(`sign in at ${mock.url}/`));
    assert.match(description, /written for the first of `eolien-root`, `ib-root`, `super-user`/);
  });
});

describe('CORS', () => {
  const preflight = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${mock.url}${path}`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization', ...headers } });

  it('answers a preflight at once: before the firewall (it has none of the client headers) and not journaled', async () => {
    const before = mock.app.journal.recorded;
    // The strict firewall wants Content-Type and Content-Length on every request (manual 1.3.1): a browser's preflight has neither.
    assert.equal((await mock.admin('POST', '/__admin/firewall', { profile: 'strict' })).status, 200);
    let reply: Response;
    let blocked: Response;
    try {
      reply = await preflight('/managementapi/AH/managementapi/Accounts?$top=5');
      blocked = await fetch(`${mock.url}/managementapi/AH/managementapi/Accounts?$top=5`, { headers: { accept: 'application/json' } });
    } finally {
      await mock.admin('POST', '/__admin/firewall', { profile: 'realistic' });
    }
    assert.equal(blocked.status, 403, 'the same request, not a preflight, meets the firewall');
    assert.equal(blocked.headers.get('access-control-allow-origin'), '*', "the firewall's page carries CORS too");
    assert.equal(reply.status, 204);
    assert.equal(reply.headers.get('access-control-allow-origin'), '*');
    assert.equal(reply.headers.get('access-control-allow-headers'), 'authorization');
    assert.match(reply.headers.get('access-control-allow-methods') ?? '', /GET.*POST.*PUT.*PATCH.*DELETE/);
    assert.equal(reply.headers.get('access-control-max-age'), '600');
    const odd = await preflight('/transactionapi/AH/transactionapi/Transfers', { 'access-control-request-headers': 'content-type, x-a b' });
    assert.equal(odd.headers.get('access-control-allow-headers'), 'Authorization, Content-Type, Accept', 'not a header list: not echoed');
    assert.equal(mock.app.journal.recorded, before + 1, 'the preflights are not journaled, the blocked request is');
    // An OPTIONS that is not a preflight is routed like any other method.
    const plain = await mock.request('OPTIONS', '/managementapi/AH/managementapi/Accounts');
    assert.equal(plain.status, 405);
    assert.equal(plain.headers.get('access-control-allow-origin'), '*');
  });

  it('puts Access-Control-Allow-Origin on every answer: data, 401, the firewall 403, 404, 431, docs and admin', async () => {
    const answers = [
      await mock.as('eolien-root', 'GET', '/managementapi/AH/managementapi/Accounts?$top=1'),
      await mock.request('GET', '/managementapi/AH/managementapi/Accounts?$top=1'),
      await fetch(`${mock.url}/managementapi/AH/managementapi/Accounts?$top=1`, { headers: { accept: '' } }).then((response) => ({ status: response.status, headers: response.headers })),
      await mock.request('GET', '/managementapi/AH/managementapi/Nothing'),
      // A head over the gateway's limit (a browser page can build a 20 KB $filter): answered before the request listener.
      await mock.request('GET', `/managementapi/AH/managementapi/Accounts?$top=1&$filter=${'a'.repeat(20_000)}`),
      await mock.request('GET', '/managementapi/v2/swagger.json'),
      await mock.request('GET', '/__admin/health'),
    ];
    assert.deepEqual(
      answers.map((reply) => reply.status),
      [200, 401, 403, 404, 431, 200, 200],
    );
    for (const reply of answers) assert.equal(reply.headers.get('access-control-allow-origin'), '*', String(reply.status));
    assert.match(answers[1].headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
  });

  it('preflights do not spend fair use, and a 429 exposes its Retry-After', async () => {
    const limited = await mock.admin('POST', '/__admin/fairuse', { enabled: true, limits: [{ requests: 2, windowSeconds: 60 }] });
    assert.equal(limited.status, 200, limited.text);
    try {
      for (let i = 0; i < 5; i++) assert.equal((await preflight('/publicreportsapi/publicreportsapi/AccountHolders?$top=1')).status, 204);
      const statuses: number[] = [];
      let last: Awaited<ReturnType<TestMock['request']>> | undefined;
      for (let i = 0; i < 3; i++) {
        last = await mock.request('GET', '/publicreportsapi/publicreportsapi/AccountHolders?$top=1');
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [200, 200, 429]);
      assert.equal(last?.headers.get('access-control-allow-origin'), '*');
      assert.match(last?.headers.get('access-control-expose-headers') ?? '', /Retry-After/);
    } finally {
      await mock.admin('POST', '/__admin/fairuse', { enabled: false });
      mock.app.fairUse.clear();
    }
  });

  it('--cors off answers as G-REX may: no CORS headers, OPTIONS routed like any method; a bad value is a usage error', async () => {
    const off = await startCliMock(['--cors', 'off']);
    try {
      assert.match(off.banner, /CORS: off/);
      const reply = await fetch(`${off.url}/managementapi/AH/managementapi/Accounts`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' } });
      assert.equal(reply.status, 405);
      assert.equal(reply.headers.get('access-control-allow-origin'), null);
      const docs = await fetch(`${off.url}/managementapi/v2/swagger.json`);
      assert.equal(docs.headers.get('access-control-allow-origin'), null);
      const oversized = await fetch(`${off.url}/managementapi/AH/managementapi/Accounts?$filter=${'a'.repeat(20_000)}`);
      assert.equal(oversized.status, 431);
      assert.equal(oversized.headers.get('access-control-allow-origin'), null);
    } finally {
      await off.stop();
    }
    const bad = runCli(['mock', '--cors', 'maybe']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--cors must be on or off, got "maybe"/);
  });
});
